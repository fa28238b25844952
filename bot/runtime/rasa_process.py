"""Train and run the Rasa server as a child process in its own Python 3.10 environment.

Rasa 3.6 cannot share an environment with the app (see README, "Two runtimes"), so the app drives it
through its CLI and talks to it over loopback only.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import os
import secrets
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import yaml

from bot.actions import ACTION_SECRET_HEADER
from bot.errors import ConfigError, DialogueUnavailable
from bot.settings import Settings

# Files whose content defines the trained model; any change means retraining.
_MODEL_INPUTS = ("config.yml", "domain.yml", "data")
_PR_SET_PDEATHSIG = 1


def rasa_executable(settings: Settings) -> Path:
    """The `rasa` CLI inside .venv-rasa, or a clear error saying how to create it."""
    exe = settings.rasa.venv / "bin" / "rasa"
    if not exe.exists():
        raise ConfigError(f"Rasa is not installed at {settings.rasa.venv}; run `make bootstrap` first")
    return exe


def model_fingerprint(project_dir: Path) -> str:
    """Hash of the Rasa project's training inputs, used as the model's file name."""
    digest = hashlib.sha256()
    for name in _MODEL_INPUTS:
        path = project_dir / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            digest.update(str(file.relative_to(project_dir)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def model_path(settings: Settings) -> Path:
    return settings.models_dir / f"advisor-{model_fingerprint(settings.rasa.project_dir)}.tar.gz"


AUTH_TOKEN_ENV = "ADVISOR_RASA__AUTH_TOKEN"
ACTION_SECRET_ENV = "ADVISOR_RASA__ACTION_SECRET"
LAUNCHER = Path(__file__).with_name("rasa_launcher.py")


def rasa_env(settings: Settings, **extra: str) -> dict[str, str]:
    """Environment for Rasa children: no telemetry (closed networks), quiet TensorFlow, plus `extra`.

    The app's own ADVISOR_* settings (CRM, WeCom, console secrets...) are left out: Rasa gets only the
    two secrets it needs, passed in `extra`.
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith("ADVISOR_")}
    env.update(
        RASA_TELEMETRY_ENABLED="false",
        TF_CPP_MIN_LOG_LEVEL="2",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
        PYTHONWARNINGS="ignore",
        RASA_CACHE_DIRECTORY=str(settings.data_dir / "rasa-cache"),
        **extra,
    )
    return env


def train(settings: Settings, *, force: bool = False) -> tuple[Path, bool]:
    """Train the model unless one for the current data exists. Returns (path, trained_now)."""
    target = model_path(settings)
    if target.exists() and not force:
        return target, False
    settings.models_dir.mkdir(parents=True, exist_ok=True)
    project = settings.rasa.project_dir
    cmd = [
        str(rasa_executable(settings)), "train",
        "--config", str(project / "config.yml"),
        "--domain", str(project / "domain.yml"),
        "--data", str(project / "data"),
        "--out", str(settings.models_dir),
        "--fixed-model-name", target.name.removesuffix(".tar.gz"),
    ]  # fmt: skip
    completed = subprocess.run(cmd, cwd=project, env=rasa_env(settings), check=False)
    if completed.returncode != 0 or not target.exists():
        raise DialogueUnavailable(f"rasa train failed with exit code {completed.returncode}")
    for old in settings.models_dir.glob("advisor-*.tar.gz"):
        if old != target:
            old.unlink()
    return target, True


TRACKER_PASSWORD_ENV = "ADVISOR_RASA__TRACKER_STORE_PASSWORD"
LOCK_PASSWORD_ENV = "ADVISOR_RASA__LOCK_STORE_PASSWORD"


def _tracker_store(settings: Settings) -> dict[str, object]:
    """Rasa's SQLTrackerStore: the SQLite file, or PostgreSQL shared by every replica."""
    if not settings.rasa.tracker_store:
        return {"type": "SQL", "dialect": "sqlite", "db": str(settings.tracker_store_path)}
    url = urlsplit(settings.rasa.tracker_store)
    store: dict[str, object] = {
        "type": "SQL",
        "dialect": "postgresql",
        "url": url.hostname,
        "port": url.port or 5432,
        "db": url.path.lstrip("/"),
        "username": url.username,
    }
    if settings.rasa.tracker_store_password:
        store["password"] = f"${{{TRACKER_PASSWORD_ENV}}}"
    return store


def _lock_store(settings: Settings) -> dict[str, object] | None:
    """Rasa's RedisLockStore (turns of one conversation in order across replicas), or None: in memory."""
    if not settings.rasa.lock_store:
        return None
    url = urlsplit(settings.rasa.lock_store)
    store: dict[str, object] = {
        "type": "redis",
        "url": url.hostname,
        "port": url.port or 6379,
        "db": int(url.path.lstrip("/") or 1),
    }
    if settings.rasa.lock_store_password:
        store["password"] = f"${{{LOCK_PASSWORD_ENV}}}"
    return store


def write_endpoints(settings: Settings, *, action_url: str) -> Path:
    """Endpoints for this run: our app as action server (with the shared secret), the tracker store and,
    when set, the lock store. Rasa expands ${VAR} from its environment when it reads this file: no secret
    (action secret, store passwords) is ever on disk."""
    run_dir = settings.data_dir / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    endpoints: dict[str, object] = {
        "action_endpoint": {"url": action_url, "headers": {ACTION_SECRET_HEADER: f"${{{ACTION_SECRET_ENV}}}"}},
        "tracker_store": _tracker_store(settings),
    }
    if (lock_store := _lock_store(settings)) is not None:
        endpoints["lock_store"] = lock_store
    path = run_dir / "endpoints.yml"
    path.write_text(yaml.safe_dump(endpoints), encoding="utf-8")
    return path


def _store_passwords(settings: Settings) -> dict[str, str]:
    """The store passwords Rasa's endpoints file names, for Rasa's environment only."""
    rasa = settings.rasa
    found = {TRACKER_PASSWORD_ENV: rasa.tracker_store_password, LOCK_PASSWORD_ENV: rasa.lock_store_password}
    return {env: secret.get_secret_value() for env, secret in found.items() if secret is not None}


def _die_with_parent() -> None:
    """Runs in the child before exec: the kernel kills Rasa if the supervisor dies (no orphans)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass(frozen=True)
class RasaLaunch:
    """How to (re)start `rasa run`: the command holds no secret; the token and action secret ride in env."""

    cmd: list[str]
    cwd: Path
    env: dict[str, str]
    log_path: Path
    url: str
    token: str


def prepare(
    settings: Settings, *, model: Path, action_url: str, log_file: Path | None = None, replica: int = 0
) -> RasaLaunch:
    """Endpoints file and command line for `rasa run` on loopback, its HTTP API behind a token.

    `replica` n of rasa.replicas listens on rasa.port + n and logs to rasa-<n>.log (the first: rasa.log)."""
    rasa_executable(settings)  # a clear error now if .venv-rasa is missing
    token = settings.rasa.auth_token.get_secret_value() if settings.rasa.auth_token else secrets.token_hex(16)
    secret = settings.rasa.action_secret
    endpoints = write_endpoints(settings, action_url=action_url)
    settings.logs_dir.mkdir(parents=True, exist_ok=True)
    project = settings.rasa.project_dir
    cmd = [
        str(settings.rasa.venv / "bin" / "python"), str(LAUNCHER), "run",
        "--model", str(model),
        "--enable-api",
        "--interface", settings.rasa.host,
        "--port", str(settings.rasa.port + replica),
        "--endpoints", str(endpoints),
        "--credentials", str(project / "credentials.yml"),
    ]  # fmt: skip
    env = rasa_env(
        settings,
        **{AUTH_TOKEN_ENV: token, ACTION_SECRET_ENV: secret.get_secret_value() if secret else ""},
        **_store_passwords(settings),
    )
    log_path = log_file or settings.logs_dir / (f"rasa-{replica}.log" if replica else "rasa.log")
    url = f"http://{settings.rasa.host}:{settings.rasa.port + replica}"
    return RasaLaunch(cmd=cmd, cwd=project, env=env, log_path=log_path, url=url, token=token)


def spawn(launch: RasaLaunch) -> subprocess.Popen[bytes]:
    """Start the child in its own process group, output appended to its log file."""
    with launch.log_path.open("ab") as log:
        return subprocess.Popen(
            launch.cmd,
            cwd=launch.cwd,
            env=launch.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )


def stop_process(process: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    """Terminate the child's whole process group, escalating to SIGKILL; reaps it."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def probe(launch: RasaLaunch) -> dict[str, object] | None:
    """Rasa's /status if it answers with a loaded model, else None."""
    try:
        response = httpx.get(f"{launch.url}/status", params={"token": launch.token}, timeout=2)
        if response.status_code == 200 and response.json().get("model_file"):
            status: dict[str, object] = response.json()
            return status
    except (httpx.HTTPError, ValueError):
        pass
    return None
