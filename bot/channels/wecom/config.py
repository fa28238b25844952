"""Start-up validation of `channels.wecom`: plain values out, or one ConfigError naming every bad key."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import SecretStr

from bot.channels.wecom.crypto import decode_aes_key
from bot.errors import ConfigError
from bot.settings import WeComSettings

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_PLACEHOLDERS = {"changeme", "change-me", "change_me", "placeholder", "todo", "xxx", "secret", "your-secret"}
_TOKEN = re.compile(r"^[A-Za-z0-9]{3,32}$")
_ID = re.compile(r"^[A-Za-z0-9_@.-]{2,64}$")
LEGACY_STATE_FILE = "wecom.db"  # in data_dir: the store's own SQLite database before migration 0009


@dataclass(frozen=True)
class WeComConfig:
    """Validated WeCom settings as plain values; adapters receive these, never the settings object."""

    corp_id: str
    token: str
    encoding_aes_key: str
    api_base_url: str
    kf_secret: str | None
    app_secret: str | None
    contact_secret: str | None
    agent_id: int | None
    open_kfid: str | None
    handoff_servicer_userid: str | None
    database_url: str  # the app database (database.url): WeCom's tables are among its migrations
    legacy_state_file: Path  # data_dir/wecom.db, where the store kept its state before; refused until imported
    timeout_s: float
    replay_window_s: int
    passive_reply_timeout_s: float
    retry_attempts: int
    retry_backoff_s: float
    kf_sync_limit: int
    hotline: str
    max_message_chars: int

    @property
    def kf_enabled(self) -> bool:
        return self.kf_secret is not None

    @property
    def staff_enabled(self) -> bool:
        return self.app_secret is not None


def _env(field: str) -> str:
    return f"ADVISOR_CHANNELS__WECOM__{field.upper()}"


def _secret(value: SecretStr | None) -> str | None:
    text = value.get_secret_value().strip() if value is not None else ""
    return text or None


def _check_url(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return "must be an http(s) URL, e.g. https://qyapi.weixin.qq.com"
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        return "must use https (plain http is only accepted for a loopback test server)"
    return None


def retired_database_url(settings: WeComSettings, *, database_url: str) -> str | None:
    """Why `channels.wecom.database_url` must go, or None. The WeCom state now lives in the app database;
    starting there without the old state loses its sync cursor and dedup keys (recent messages are
    answered twice), send budgets, hand-offs, queue and audit (bot/channels/wecom/legacy.py)."""
    if not settings.database_url or settings.database_url == database_url:
        return None
    return (
        "channels.wecom.database_url is retired: WeCom's state now lives in the app database (database.url). "
        "Stop the app, run `advisor wecom import-state` once (it copies the sync cursor, dedup keys, send "
        "budgets, queue and audit from that database), then remove the setting (config.yml or "
        f"{_env('database_url')})"
    )


def load_wecom_config(
    settings: WeComSettings, *, data_dir: Path, database_url: str, hotline: str, max_message_chars: int
) -> WeComConfig:
    """Validate `channels.wecom` at start-up (only when enabled); one ConfigError lists every problem.
    `database_url` is the app database's, which holds WeCom's tables."""
    problems: list[str] = []

    def bad(field: str, why: str, *, secret: bool = False) -> None:
        where = f"set {_env(field)} in the environment" if secret else f"edit config.yml or set {_env(field)}"
        problems.append(f"channels.wecom.{field} {why} ({where})")

    corp_id = (settings.corp_id or "").strip()
    if not corp_id:
        bad("corp_id", "is required: the CorpID from the WeCom admin console (我的企业 → 企业ID)")
    elif not _ID.match(corp_id):
        bad("corp_id", f"{corp_id!r} is not a WeCom CorpID")

    token = _secret(settings.token)
    if token is None:
        bad("token", "is required: the callback Token from the app's 接收消息 settings", secret=True)
    elif not _TOKEN.match(token):
        bad("token", "must be 3-32 letters or digits, as WeCom generates it", secret=True)

    aes_key = _secret(settings.encoding_aes_key)
    if aes_key is None:
        bad("encoding_aes_key", "is required: the EncodingAESKey from 接收消息 settings", secret=True)
    else:
        try:
            decode_aes_key(aes_key)
        except ValueError as exc:
            bad("encoding_aes_key", f"{exc}: copy the 43-character EncodingAESKey exactly", secret=True)

    kf_secret, app_secret = _secret(settings.kf_secret), _secret(settings.app_secret)
    contact_secret = _secret(settings.contact_secret)
    for field, secret in (("kf_secret", kf_secret), ("app_secret", app_secret), ("contact_secret", contact_secret)):
        if secret is not None and secret.lower() in _PLACEHOLDERS:
            bad(field, "is a placeholder, not a real secret", secret=True)
    if kf_secret is None and app_secret is None:
        bad(
            "kf_secret",
            "or channels.wecom.app_secret must be set: with neither, no channel can run",
            secret=True,
        )
    if app_secret is not None and (settings.agent_id is None or settings.agent_id <= 0):
        bad("agent_id", "is required with app_secret: the AgentId of the advisors' self-built app")

    if (url_problem := _check_url(settings.api_base_url)) is not None:
        bad("api_base_url", url_problem)
    for field, value in (("timeout_s", settings.timeout_s), ("retry_backoff_s", settings.retry_backoff_s)):
        if value <= 0:
            bad(field, f"must be positive, got {value}")
    if not 0 < settings.passive_reply_timeout_s < 5:
        bad("passive_reply_timeout_s", "must be between 0 and 5 seconds: WeCom gives up after 5 s")
    if settings.replay_window_s < 10:
        bad("replay_window_s", f"must be at least 10 seconds, got {settings.replay_window_s}")
    if not 1 <= settings.retry_attempts <= 10:
        bad("retry_attempts", f"must be 1..10, got {settings.retry_attempts}")
    if not 1 <= settings.kf_sync_limit <= 1000:
        bad("kf_sync_limit", f"must be 1..1000 (WeCom's maximum), got {settings.kf_sync_limit}")
    if (retired := retired_database_url(settings, database_url=database_url)) is not None:
        problems.append(retired)

    if problems:
        raise ConfigError("WeCom is enabled but misconfigured:\n  - " + "\n  - ".join(problems))
    assert token is not None and aes_key is not None  # guaranteed by the checks above
    return WeComConfig(
        corp_id=corp_id,
        token=token,
        encoding_aes_key=aes_key,
        api_base_url=settings.api_base_url.rstrip("/"),
        kf_secret=kf_secret,
        app_secret=app_secret,
        contact_secret=contact_secret,
        agent_id=settings.agent_id,
        open_kfid=settings.open_kfid or None,
        handoff_servicer_userid=settings.handoff_servicer_userid or None,
        database_url=database_url,
        legacy_state_file=data_dir / LEGACY_STATE_FILE,
        timeout_s=settings.timeout_s,
        replay_window_s=settings.replay_window_s,
        passive_reply_timeout_s=settings.passive_reply_timeout_s,
        retry_attempts=settings.retry_attempts,
        retry_backoff_s=settings.retry_backoff_s,
        kf_sync_limit=settings.kf_sync_limit,
        hotline=hotline,
        max_message_chars=max_message_chars,
    )
