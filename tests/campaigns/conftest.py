"""A real SQLite file per test, migrated once per session through Alembic, and row builders."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.campaigns.models import Campaign, CampaignAttempt, CampaignClient
from bot.campaigns.rules import CampaignRules
from bot.settings import CampaignSettings

_ROWS = itertools.count(1)
T0 = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # a Tuesday, 11:00 in Shanghai


def rules(**overrides: Any) -> CampaignRules:
    return CampaignRules.from_settings(CampaignSettings(rest_dates=[]), **overrides)


def add_campaign(session: Session, *, rules_: CampaignRules | None = None) -> Campaign:
    campaign = Campaign(
        name="t", status="planned", seed=1, control_share=0.2, variants={},
        rules=(rules_ or rules()).model_dump(mode="json"), summary={}, source_file="-",
        created_at=T0, planned_at=T0,
    )  # fmt: skip
    session.add(campaign)
    session.flush()
    return campaign


def add_client(session: Session, campaign: Campaign, **overrides: Any) -> CampaignClient:
    row_no = overrides.pop("row_no", None) or next(_ROWS)
    fields: dict[str, Any] = {
        "campaign_id": campaign.id, "row_no": row_no, "client_id": "c-1", "name": "张三", "phone": "+85291234567",
        "language": "zh", "consent": True, "consent_date": None, "last_activity_date": None, "aum_band": "high",
        "payroll_day": None, "risk_level": "C3", "tags": "", "advisor_id": "a-1", "timezone": "Asia/Hong_Kong",
        "status": "eligible", "reasons": "", "segment": "dormant_high_aum", "priority": 50.0, "arm": "treatment",
        "script_id": "script-dormant-reactivation-zh", "call_state": "pending", "next_call_at": T0, "attempts": 0,
        "stop_reason": None, "callback_at": None,
    }  # fmt: skip
    fields.update(overrides)
    client = CampaignClient(**fields)
    session.add(client)
    session.flush()
    return client


def add_attempt(session: Session, client: CampaignClient, *, attempt_no: int = 1, **overrides: Any) -> CampaignAttempt:
    client.attempts, client.call_state = attempt_no, "active"
    fields: dict[str, Any] = {
        "campaign_id": client.campaign_id, "campaign_client_id": client.id, "client_id": client.client_id,
        "phone": client.phone, "attempt_no": attempt_no,
        "idempotency_key": f"{client.campaign_id}:{client.client_id}:{attempt_no}", "state": "placed",
        "call_sid": f"CA{client.id:04d}{attempt_no}", "dialing_at": T0, "placed_at": T0, "updated_at": T0,
        "engaged": False, "opted_out": False, "voicemail": False, "transferred": False,
    }  # fmt: skip
    fields.update(overrides)
    attempt = CampaignAttempt(**fields)
    session.add(attempt)
    session.flush()
    return attempt
