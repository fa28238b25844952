from pathlib import Path

from bot.runtime.nlu_eval import summarise
from bot.runtime.rasa_process import model_fingerprint, write_endpoints
from bot.settings import Settings


def _project(root: Path) -> Path:
    (root / "data").mkdir(parents=True)
    (root / "config.yml").write_text("pipeline: []\n")
    (root / "domain.yml").write_text("intents: [greet]\n")
    (root / "data" / "nlu.yml").write_text("nlu: []\n")
    return root


def test_fingerprint_changes_only_with_training_inputs(tmp_path: Path) -> None:
    project = _project(tmp_path / "p")
    first = model_fingerprint(project)
    (project / "tests").mkdir()
    (project / "tests" / "test_stories.yml").write_text("stories: []\n")
    assert model_fingerprint(project) == first  # test stories don't change the model
    (project / "data" / "nlu.yml").write_text("nlu: [x]\n")
    assert model_fingerprint(project) != first


def test_endpoints_point_rasa_at_the_app_and_sql_tracker(settings: Settings) -> None:
    import yaml

    path = write_endpoints(settings, action_url="http://127.0.0.1:8000/webhook")
    data = yaml.safe_load(path.read_text())
    assert data["action_endpoint"]["url"] == "http://127.0.0.1:8000/webhook"
    assert data["tracker_store"]["type"] == "SQL"
    assert data["tracker_store"]["db"].startswith(str(settings.data_dir))


def test_nlu_report_summary() -> None:
    report = {
        "greet": {"precision": 1.0, "recall": 0.9, "f1-score": 0.947, "support": 10},
        "accuracy": 0.95,
        "macro avg": {"precision": 1, "recall": 1, "f1-score": 1, "support": 10},
    }
    summary = summarise(report)
    assert summary["accuracy"] == 0.95
    assert summary["intents"] == {"greet": {"precision": 1.0, "recall": 0.9, "f1": 0.947, "support": 10}}
