"""What `make run` prints before the JSON logs start: where to go, how to log in, what content is live."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import typer

from bot.settings import Settings

_LAST_INGEST = Path("knowledge") / "last_ingest.json"


def ingest_if_empty(settings: Settings) -> str:
    """Ingest the content folder into an empty store; either way, one line saying what is indexed."""
    from bot.cli.progress import Ticker
    from bot.knowledge.ingest import load_last_report
    from bot.knowledge.service import KnowledgeService

    service = KnowledgeService.from_settings(settings)
    if service.is_empty():
        with Ticker(f"Ingesting approved content from {settings.knowledge.source_dir}"):
            report = service.ingest(settings.knowledge.source_dir)
        return f"{report.summary()} (ingested now from {settings.knowledge.source_dir})"
    last = load_last_report(settings.data_dir / _LAST_INGEST)
    if last is None:
        return "already indexed (no ingest report found)"
    at, report = last
    indexed = report.count("indexed") + report.count("unchanged")
    return f"{indexed} items from {report.source}, last ingested {at:%Y-%m-%d %H:%M} UTC (advisor kb ingest to refresh)"


def _console_logins(settings: Settings) -> str:
    users = settings.console.users
    if users:
        return ", ".join(f"{name} ({user.role})" for name, user in sorted(users.items()))
    return (
        "none yet: run `advisor console hash-password NAME --role admin` and put the two lines it prints in .env"
        " / 尚无用户"
    )


def summary(settings: Settings, *, model: Path | None, ingested: str, logs: Path | None) -> str:
    """The start-up summary, a few lines a person reads once."""
    base = f"http://{settings.app.host}:{settings.app.port}".replace("127.0.0.1", "localhost")
    voice = (
        f"on, Twilio reaches {settings.voice_base_url}/voice/..."
        if settings.telephony.auth_token
        else "off (set ADVISOR_TELEPHONY__AUTH_TOKEN)"
    )
    rows = [
        ("网页聊天 Web chat", f"{base}/"),
        ("运营控制台 Console", f"{base}/console  logins: {_console_logins(settings)}"),
        ("AI 陪练 Training", f"{base}/training"),
        ("API", f"{base}/docs  (leads API key: {'set' if settings.leads.api_key else 'unset, /api/leads is off'})"),
        ("Metrics", f"{base}/metrics"),
        ("知识库 Content", ingested),
        ("Rasa", _rasa_line(settings, model)),
        ("外呼 Voice", voice),
        ("企业微信 WeCom", "on" if settings.channels.wecom.enabled else "off (channels.wecom.enabled)"),
        ("日志 Logs", f"{logs} (JSON lines, masked); Rasa: {settings.logs_dir / 'rasa.log'}" if logs else "stderr"),
    ]
    width = max(_width(label) for label, _ in rows)
    lines = [typer.style("智能理财助手 Wealth advisor", bold=True)]
    lines += [f"  {label}{' ' * (width - _width(label))}  {value}" for label, value in rows]
    return "\n".join(lines)


def _rasa_line(settings: Settings, model: Path | None) -> str:
    """Where turns go, and where conversations and their locks are kept (embedded or shared servers)."""
    rasa = settings.rasa
    where = ", ".join(rasa.urls) if rasa.urls else f"{', '.join(rasa.replica_urls)} (loopback only)"
    stores = f"tracker store {rasa.tracker_store or 'SQLite'}, lock store {rasa.lock_store or 'in memory'}"
    return f"{where}, model {model.name if model else 'theirs'}; {stores}"


def _width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
