"""A real SQLite file per test, built through the Alembic migrations, and a record_lead helper."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bot.leads import service
from bot.leads.models import LeadRead


def record(session: Session, **overrides: Any) -> list[LeadRead]:
    """record_lead with the fields a test doesn't care about filled in."""
    fields: dict[str, Any] = {
        "client_key": "c-1",
        "sender_id": "s-1",
        "channel": "web",
        "conversation_id": "s-1",
        "type": "product_interest",
        "intent": "ask_product",
        "confidence": 0.9,
        "product_codes": ["WM001"],
        "score": 60.0,
        "evidence": "我想买稳健理财WM001，大概50万",
    }
    fields.update(overrides)
    return service.record_lead(session, **fields)
