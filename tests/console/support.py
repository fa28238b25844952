"""Console test helpers: a migrated database, settings with users and keys, and the console on a small app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from bot.console.auth import ConsoleAuth, hash_password
from bot.console.routes import ROUTERS
from bot.db import migrate, transaction
from bot.error_handlers import install_error_handlers
from bot.leads import service as leads
from bot.leads.models import LeadRead
from bot.observability.metrics import Metrics
from bot.observability.views import router as metrics_router
from bot.settings import Settings, load_settings

ADMIN = ("ops-admin", "correct horse battery 1")
VIEWER = ("ops-viewer", "viewer pass phrase 2")
ADMIN_KEY = "admin-key-0123456789abcdef"
VIEWER_KEY = "viewer-key-0123456789abcdef"
_HASHES = {name: hash_password(password) for name, password in (ADMIN, VIEWER)}


def build_schema(url: str) -> None:
    """The app's own migration path (Alembic)."""
    migrate(url)


def console_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings on a temp data dir and database, with one admin, one viewer and a key for each."""
    console = {
        "users": {
            ADMIN[0]: {"password_hash": SecretStr(_HASHES[ADMIN[0]]), "role": "admin"},
            VIEWER[0]: {"password_hash": SecretStr(_HASHES[VIEWER[0]]), "role": "viewer"},
        },
        "api_keys": {"ops": {"key": SecretStr(ADMIN_KEY), "role": "admin"}, "grafana": {"key": SecretStr(VIEWER_KEY)}},
        "session_secret": SecretStr("test-session-secret-0123456789"),
    }
    console.update(overrides.pop("console", {}))
    return load_settings(
        data_dir=tmp_path / "var",
        database={"url": f"sqlite:///{tmp_path / 'advisor.db'}"},
        console=console,
        **overrides,
    )


def console_app(settings: Settings, sessions: sessionmaker[Session], training: object | None = None) -> FastAPI:
    """The console routers and /metrics on a bare app, given what create_app puts on app.state."""
    app = FastAPI()
    app.state.settings = settings
    app.state.sessions = sessions
    app.state.training = training
    app.state.console_auth = ConsoleAuth(settings.console)
    app.state.metrics = Metrics(sessions=lambda: sessions)
    for router in ROUTERS:
        app.include_router(router)
    app.include_router(metrics_router)
    install_error_handlers(app)  # as create_app does
    return app


def add_lead(sessions: sessionmaker[Session], **overrides: Any) -> LeadRead:
    fields: dict[str, Any] = {
        "client_key": "c-1",
        "sender_id": "s-1",
        "channel": "web",
        "conversation_id": "web:s-1",
        "type": "product_interest",
        "intent": "ask_product",
        "confidence": 0.9,
        "product_codes": ["WM001"],
        "score": 60.0,
        "evidence": "我想买稳健理财WM001",
    }
    advisor_id = overrides.pop("advisor_id", None)
    fields.update(overrides)
    with transaction(sessions) as session:
        lead = leads.record_lead(session, **fields)[0]
        if advisor_id:
            lead = leads.assign_advisor(session, lead_id=lead.id, advisor_id=advisor_id)
        return lead


def add_campaign_data(sessions: sessionmaker[Session], *, per_arm: int = 40) -> int:
    """A planned campaign with two treatment arms and a control group over two segments, some calls
    answered and some purchases recorded; rows written through the campaign tables directly."""
    from datetime import UTC, datetime, timedelta

    from bot.campaigns.models import Campaign, CampaignAttempt, CampaignClient, CampaignOutcome
    from bot.campaigns.rules import CampaignRules
    from bot.settings import CampaignSettings

    t0 = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)
    converted = {"script_a": 14, "script_b": 8, "control": 4}
    # WeCom friend-adds: through the link offered on the call (callback) for treated arms, from the bank's
    # file (imported) for control; one control callback that must not count.
    added = {"script_a": (10, "callback"), "script_b": (6, "callback"), "control": (2, "imported")}
    with transaction(sessions) as session:
        campaign = Campaign(
            name="沉睡客户唤醒 Dormant reactivation", status="planned", seed=7, control_share=1 / 3,
            variants={"script_a": "script-dormant-reactivation", "script_b": "script-payroll"},
            rules=CampaignRules.from_settings(CampaignSettings(rest_dates=[])).model_dump(mode="json"),
            summary={"rows": 3 * per_arm, "eligible": 3 * per_arm, "arms": dict.fromkeys(converted, per_arm)},
            source_file="clients.csv", created_at=t0, planned_at=t0,
        )  # fmt: skip
        session.add(campaign)
        session.flush()
        row = 0
        for arm, buyers in converted.items():
            for i in range(per_arm):
                row += 1
                client = CampaignClient(
                    campaign_id=campaign.id, row_no=row, client_id=f"{arm}-{i}", name="客户",
                    phone=f"+8613900{row:06d}", language="zh", consent=True, consent_date=None,
                    last_activity_date=None, aum_band="high",
                    payroll_day=None, risk_level="C3", tags="", advisor_id="a-1", timezone="Asia/Shanghai",
                    status="eligible", reasons="", segment="dormant_high_aum" if i % 2 else "payroll", priority=50.0,
                    arm=arm, script_id=None, call_state="done" if arm != "control" else "none", next_call_at=None,
                    attempts=1 if arm != "control" else 0, stop_reason=None, callback_at=None,
                )  # fmt: skip
                session.add(client)
                session.flush()
                if arm != "control":
                    session.add(
                        CampaignAttempt(
                            campaign_id=campaign.id, campaign_client_id=client.id, client_id=client.client_id,
                            phone=client.phone, attempt_no=1, idempotency_key=f"{campaign.id}:{client.client_id}:1",
                            state="completed" if i % 4 else "no-answer", call_sid=f"CA{row:06d}",
                            answered_by="human" if i % 4 else None, engaged=i % 3 == 0, opted_out=False,
                            voicemail=False, transferred=False, dialing_at=t0, placed_at=t0, updated_at=t0,
                        )
                    )  # fmt: skip
                if i < buyers:
                    session.add(
                        CampaignOutcome(
                            campaign_id=campaign.id, client_id=client.client_id, name="purchased",
                            activity_date=(t0 + timedelta(days=5)).date(), value=1.0, imported_at=t0,
                        )
                    )  # fmt: skip
                adds, source = added[arm]
                if i < adds or (arm == "control" and i == per_arm - 1):
                    session.add(
                        CampaignOutcome(
                            campaign_id=campaign.id, client_id=client.client_id, name="wecom_added",
                            activity_date=(t0 + timedelta(days=2)).date(), value=1.0, imported_at=t0,
                            source=source if i < adds else "callback",
                        )
                    )  # fmt: skip
        return campaign.id
