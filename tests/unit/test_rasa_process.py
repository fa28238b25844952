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
    # Rasa expands ${...} from its environment: the shared secret reaches it without touching the disk
    assert data["action_endpoint"]["headers"] == {"X-Action-Secret": "${ADVISOR_RASA__ACTION_SECRET}"}
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


def test_no_secret_is_on_rasas_command_line_or_in_its_endpoints_file(settings: Settings, tmp_path: Path) -> None:
    from pydantic import SecretStr

    from bot.runtime.rasa_process import ACTION_SECRET_ENV, AUTH_TOKEN_ENV, LAUNCHER, prepare

    rasa = settings.rasa.model_copy(
        update={"auth_token": SecretStr("tok-123456"), "action_secret": SecretStr("act-654321")}
    )
    launch = prepare(
        settings.model_copy(update={"rasa": rasa}), model=tmp_path / "m.tar.gz", action_url="http://127.0.0.1:1/webhook"
    )
    command_line = " ".join(launch.cmd)
    assert "tok-123456" not in command_line and "--auth-token" not in command_line
    assert "act-654321" not in command_line
    assert launch.cmd[1] == str(LAUNCHER)  # .venv-rasa's python runs the launcher, which adds the token in-process
    assert (launch.env[AUTH_TOKEN_ENV], launch.env[ACTION_SECRET_ENV]) == ("tok-123456", "act-654321")
    endpoints = (settings.data_dir / "run" / "endpoints.yml").read_text()
    assert "act-654321" not in endpoints and "${ADVISOR_RASA__ACTION_SECRET}" in endpoints
