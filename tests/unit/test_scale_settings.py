"""Settings only switch each part from embedded to server: Rasa's tracker store (PostgreSQL) and lock
store (Redis) written into the endpoints file the launcher generates, with no password on disk or on a
command line; local replicas on consecutive ports; the app reading the same tracker store; clear errors
for settings that cannot work."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from pydantic import SecretStr

from bot.errors import ConfigError
from bot.runtime.rasa_process import LOCK_PASSWORD_ENV, TRACKER_PASSWORD_ENV, prepare, write_endpoints
from bot.settings import Settings, load_settings

SCALE = {
    "tracker_store": "postgresql://rasa@db.internal:5433/rasa",
    "lock_store": "redis://cache.internal:6380/2",
    "tracker_store_password": SecretStr("pg-secret-1"),
    "lock_store_password": SecretStr("redis-secret-2"),
}


def _scaled(settings: Settings, **rasa: object) -> Settings:
    return settings.model_copy(update={"rasa": settings.rasa.model_copy(update={**SCALE, **rasa})})


def test_embedded_is_the_default(settings: Settings) -> None:
    data = yaml.safe_load(write_endpoints(settings, action_url="http://127.0.0.1:8000/webhook").read_text())
    assert data["tracker_store"] == {"type": "SQL", "dialect": "sqlite", "db": str(settings.tracker_store_path)}
    assert "lock_store" not in data
    assert settings.rasa.replica_urls == ["http://127.0.0.1:5005"]
    assert settings.knowledge.chroma_mode == "embedded" and settings.database.url is None


def test_server_stores_are_written_for_rasa_without_their_passwords(settings: Settings, tmp_path: Path) -> None:
    scaled = _scaled(settings)
    launch = prepare(scaled, model=tmp_path / "m.tar.gz", action_url="http://127.0.0.1:8000/webhook")
    text = (settings.data_dir / "run" / "endpoints.yml").read_text()
    data = yaml.safe_load(text)
    assert data["tracker_store"] == {
        "type": "SQL", "dialect": "postgresql", "url": "db.internal", "port": 5433, "db": "rasa",
        "username": "rasa", "password": f"${{{TRACKER_PASSWORD_ENV}}}",
    }  # fmt: skip
    assert data["lock_store"] == {
        "type": "redis",
        "url": "cache.internal",
        "port": 6380,
        "db": 2,
        "password": f"${{{LOCK_PASSWORD_ENV}}}",
    }
    assert "pg-secret-1" not in text and "redis-secret-2" not in text
    assert "pg-secret-1" not in " ".join(launch.cmd) and "redis-secret-2" not in " ".join(launch.cmd)
    assert (launch.env[TRACKER_PASSWORD_ENV], launch.env[LOCK_PASSWORD_ENV]) == ("pg-secret-1", "redis-secret-2")


def test_a_store_without_a_password_names_none(settings: Settings) -> None:
    scaled = _scaled(settings, tracker_store_password=None, lock_store_password=None)
    data = yaml.safe_load(write_endpoints(scaled, action_url="http://127.0.0.1:8000/webhook").read_text())
    assert "password" not in data["tracker_store"] and "password" not in data["lock_store"]


def test_local_replicas_listen_on_consecutive_ports_and_log_apart(settings: Settings, tmp_path: Path) -> None:
    scaled = _scaled(settings, replicas=2)
    first = prepare(scaled, model=tmp_path / "m", action_url="http://127.0.0.1:8000/webhook")
    second = prepare(scaled, model=tmp_path / "m", action_url="http://127.0.0.1:8000/webhook", replica=1)
    port = settings.rasa.port
    assert (first.url, second.url) == (f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port + 1}")
    assert second.cmd[second.cmd.index("--port") + 1] == str(port + 1)
    assert first.log_path.name == "rasa.log" and second.log_path.name == "rasa-1.log"
    assert scaled.rasa.replica_urls == [first.url, second.url]


def test_the_app_reads_the_same_tracker_store(settings: Settings) -> None:
    assert settings.tracker_store_url is None  # no SQLite file yet: nothing to read
    url = _scaled(settings).tracker_store_url
    assert url == "postgresql+psycopg://rasa:pg-secret-1@db.internal:5433/rasa"


@pytest.mark.parametrize(
    ("rasa", "named"),
    [
        ({"replicas": 2}, "rasa.replicas > 1 needs rasa.tracker_store"),
        ({"replicas": 2, "tracker_store": "postgresql://rasa@db/rasa"}, "rasa.lock_store"),
        ({"tracker_store": "mysql://rasa@db/rasa"}, "rasa.tracker_store must be postgresql://"),
        ({"tracker_store": "postgresql://rasa:pw@db/rasa"}, "ADVISOR_RASA__TRACKER_STORE_PASSWORD"),
        ({"lock_store": "redis://:pw@cache:6379/0"}, "ADVISOR_RASA__LOCK_STORE_PASSWORD"),
        ({"urls": ["rasa-1:5005"]}, "rasa.urls"),
    ],
)
def test_settings_that_cannot_work_are_refused_naming_the_key(
    tmp_path: Path, rasa: dict[str, object], named: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(named)):
        load_settings(data_dir=tmp_path, rasa=rasa)


def test_replicas_elsewhere_are_reached_by_their_urls(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, rasa={"urls": ["http://rasa-1:5005/", "http://rasa-2:5005"]})
    assert settings.rasa.replica_urls == ["http://rasa-1:5005", "http://rasa-2:5005"]


def test_store_passwords_in_config_yml_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.yml"
    config.write_text("rasa:\n  tracker_store_password: hunter2\n", encoding="utf-8")
    monkeypatch.setenv("ADVISOR_CONFIG", str(config))
    with pytest.raises(ConfigError, match="ADVISOR_RASA__TRACKER_STORE_PASSWORD"):
        load_settings()


def test_app_workers_share_the_runs_secrets_and_one_session_secret(settings: Settings) -> None:
    from bot.cli import worker_env

    rasa = settings.rasa.model_copy(update={"auth_token": SecretStr("tok"), "action_secret": SecretStr("act")})
    env = worker_env(settings.model_copy(update={"rasa": rasa}))
    assert env["ADVISOR_RASA__AUTH_TOKEN"] == "tok" and env["ADVISOR_RASA__ACTION_SECRET"] == "act"
    assert env["ADVISOR_APP__PORT"] == str(settings.app.port)
    assert len(env["ADVISOR_CONSOLE__SESSION_SECRET"]) == 64  # made once here, the same in every worker
    configured = settings.console.model_copy(update={"session_secret": SecretStr("s" * 40)})
    assert (
        worker_env(settings.model_copy(update={"console": configured}))["ADVISOR_CONSOLE__SESSION_SECRET"] == "s" * 40
    )
