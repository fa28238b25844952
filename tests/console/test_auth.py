"""Password hashes, session cookies, CSRF tokens, the settings that carry them, and the CLI that makes them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from typer.testing import CliRunner

from bot.console.auth import FREE_FAILURES, MAX_DELAY_S, ConsoleAuth, hash_password, verify_password
from bot.console.cli import console_app as console_cli
from bot.db import make_engine, session_factory
from bot.errors import ConfigError
from bot.settings import ConsoleSettings, load_settings
from tests.console.support import ADMIN, build_schema, console_app, console_settings


def test_hash_and_verify() -> None:
    encoded = hash_password("s3cret pass phrase")
    assert encoded.startswith("scrypt$16384$8$1$") and "s3cret" not in encoded
    assert verify_password("s3cret pass phrase", encoded)
    assert not verify_password("s3cret pass phrasE", encoded)
    assert hash_password("same", salt=b"1" * 16) != hash_password("same", salt=b"2" * 16)
    for broken in ("", "plain", "md5$x$y", "scrypt$x$8$1$AA==$AA==", encoded[:-8]):
        assert not verify_password("s3cret pass phrase", broken)
    with pytest.raises(ValueError, match="empty"):
        hash_password("")


HERE = "10.0.0.1"


def _auth(clock: Callable[[], float] | None = None, **overrides: object) -> ConsoleAuth:
    users = {"Alice": {"password_hash": SecretStr(hash_password("pw-alice-123")), "role": "admin"}}
    settings = ConsoleSettings.model_validate({"users": users, "session_secret": SecretStr("k" * 32), **overrides})
    return ConsoleAuth(settings, clock=clock) if clock else ConsoleAuth(settings)


def test_usernames_are_case_insensitive_and_sessions_round_trip() -> None:
    auth = _auth()
    assert (
        auth.login("alice", "wrong", address=HERE) is None and auth.login("bob", "pw-alice-123", address=HERE) is None
    )
    principal = auth.login("ALICE ", "pw-alice-123", address=HERE)
    assert principal is not None and principal.role == "admin" and principal.name == "alice"
    back = auth.from_cookie(auth.cookie_for(principal))
    assert back == principal
    assert auth.check_csrf(principal, auth.csrf_token(principal))
    assert not auth.check_csrf(principal, "") and not auth.check_csrf(principal, "0" * 64)
    other = auth.login("alice", "pw-alice-123", address=HERE)
    assert other is not None and auth.csrf_token(other) != auth.csrf_token(principal)  # one token per session


def test_cookies_expire_and_are_bound_to_the_secret() -> None:
    auth = _auth(session_hours=0.0001)
    principal = auth.login("alice", "pw-alice-123", address=HERE)
    assert principal is not None
    cookie = auth.cookie_for(principal)
    auth.max_age_s = -1
    assert auth.from_cookie(auth.cookie_for(principal)) is None  # already expired
    assert _auth(session_secret=SecretStr("x" * 32)).from_cookie(cookie) is None
    assert ConsoleAuth(ConsoleSettings()).from_cookie(cookie) is None
    assert not ConsoleAuth(ConsoleSettings()).configured


def test_users_and_keys_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    encoded = hash_password("pw-env-12345")
    monkeypatch.setenv("ADVISOR_CONSOLE__USERS__WANG__PASSWORD_HASH", encoded)
    monkeypatch.setenv("ADVISOR_CONSOLE__USERS__WANG__ROLE", "admin")
    monkeypatch.setenv("ADVISOR_CONSOLE__API_KEYS__GRAFANA__KEY", "k-123")
    settings = load_settings()
    auth = ConsoleAuth(settings.console)
    assert auth.login("Wang", "pw-env-12345", address=HERE) is not None
    key = auth.from_api_key("k-123")
    assert key is not None and key.role == "viewer" and auth.from_api_key("k-12") is None


def test_secrets_in_config_yml_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.yml"
    config.write_text("console:\n  users:\n    alice:\n      password_hash: scrypt$1\n", encoding="utf-8")
    monkeypatch.setenv("ADVISOR_CONFIG", str(config))
    with pytest.raises(ConfigError, match="ADVISOR_CONSOLE__USERS"):
        load_settings()


def test_the_cli_prints_working_env_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    done = runner.invoke(console_cli, ["hash-password", "ops_lead", "--role", "admin"], input="long enough pw\n" * 2)
    assert done.exit_code == 0, done.output
    lines = dict(line.split("=", 1) for line in done.output.splitlines() if line.startswith("ADVISOR_"))
    monkeypatch.setenv(
        "ADVISOR_CONSOLE__USERS__OPS_LEAD__PASSWORD_HASH",
        lines["ADVISOR_CONSOLE__USERS__OPS_LEAD__PASSWORD_HASH"].strip("'"),
    )
    monkeypatch.setenv("ADVISOR_CONSOLE__USERS__OPS_LEAD__ROLE", lines["ADVISOR_CONSOLE__USERS__OPS_LEAD__ROLE"])
    principal = ConsoleAuth(load_settings().console).login("ops_lead", "long enough pw", address=HERE)
    assert principal is not None and principal.role == "admin"
    assert runner.invoke(console_cli, ["hash-password", "ops.lead"], input="long enough pw\n" * 2).exit_code == 2
    assert runner.invoke(console_cli, ["hash-password", "short"], input="short\nshort\n").exit_code == 2
    key = runner.invoke(console_cli, ["new-key", "grafana"])
    assert key.exit_code == 0 and "ADVISOR_CONSOLE__API_KEYS__GRAFANA__ROLE=viewer" in key.output


def test_the_cli_makes_advisor_accounts_with_their_advisor_id(monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    args = ["hash-password", "li_na", "--role", "advisor", "--advisor-id", "a1024"]
    done = runner.invoke(console_cli, args, input="long enough pw\n" * 2)
    assert done.exit_code == 0, done.output
    for line in done.output.splitlines():
        if line.startswith("ADVISOR_"):
            key, value = line.split("=", 1)
            monkeypatch.setenv(key, value.strip("'"))
    principal = ConsoleAuth(load_settings().console).login("li_na", "long enough pw", address=HERE)
    assert principal is not None and (principal.role, principal.advisor_id) == ("advisor", "a1024")
    assert not principal.allows("viewer")  # advisors train; operations pages are not theirs
    no_id = runner.invoke(console_cli, ["hash-password", "li_na", "--role", "advisor"], input="long enough pw\n" * 2)
    assert no_id.exit_code == 2
    monkeypatch.delenv("ADVISOR_CONSOLE__USERS__LI_NA__ADVISOR_ID")
    with pytest.raises(ConfigError, match="ADVISOR_ID"):
        load_settings()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_failures_slow_down_one_user_and_address_by_a_short_growing_delay() -> None:
    clock = Clock()
    auth = _auth(clock)
    for _ in range(FREE_FAILURES):
        assert auth.retry_after("alice", HERE) == 0
        assert auth.login("alice", "guess", address=HERE) is None
    delays = []
    for _ in range(8):
        wait = auth.retry_after("ALICE", HERE)
        delays.append(wait)
        clock.now += wait
        assert auth.login("alice", "guess", address=HERE) is None
    assert delays == sorted(delays) and delays[0] == 1 and max(delays) == MAX_DELAY_S  # 1, 2, 4 ... 30 s
    # the real admin, from their own desk, is not locked out; nor is anyone else
    assert auth.retry_after("alice", "10.0.0.2") == 0
    assert auth.login("alice", "pw-alice-123", address="10.0.0.2") is not None
    assert auth.retry_after("bob", HERE) == 0
    # from the guessing address too, the wait is short, and a success clears it
    clock.now += MAX_DELAY_S
    assert auth.login("alice", "pw-alice-123", address=HERE) is not None
    assert auth.retry_after("alice", HERE) == 0


def test_the_login_page_slows_one_address_and_not_the_admin_elsewhere(tmp_path: Path) -> None:
    settings = console_settings(tmp_path)
    build_schema(settings.database_url)
    engine = make_engine(settings.database_url)
    app = console_app(settings, session_factory(engine))
    with TestClient(app, follow_redirects=False, client=("203.0.113.9", 5000)) as attacker:
        for _ in range(11):
            response = attacker.post("/console/login", data={"username": ADMIN[0], "password": "x"})
            assert response.status_code in {401, 429}
        slowed = attacker.post("/console/login", data={"username": ADMIN[0], "password": ADMIN[1]})
        assert slowed.status_code == 429 and "Too many attempts" in slowed.text
        assert 1 <= int(slowed.headers["retry-after"]) <= MAX_DELAY_S
    with TestClient(app, follow_redirects=False, client=("198.51.100.7", 5000)) as admin:
        assert admin.post("/console/login", data={"username": ADMIN[0], "password": ADMIN[1]}).status_code == 303
    engine.dispose()
