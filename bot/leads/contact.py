"""How to reach the client behind a lead: contact details given with consent, or a link to a known client.

The dialogue calls these after its hand-off form (name, mobile, consent wording) or when it knows who
the client is (a campaign's client id, the WeCom external user). Callers own the transaction; every
change writes the lead's CRM event in the same session.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.contacts.phones import normalize_phone
from bot.db import utcnow
from bot.errors import InputError
from bot.leads import outbox
from bot.leads.assignment import LeadRouting
from bot.leads.errors import LeadNotFound
from bot.leads.models import OPEN_STATUSES, KnownClient, Lead, LeadRead

MAX_NAME = 64
_WECOM_PREFIX = "wecom:"
_HAS_LETTER = re.compile(r"[^\W\d_]")


class InvalidContact(InputError):
    """A contact detail the client gave cannot be used; `field` says which (name, phone, consent)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class ContactDetails(BaseModel):
    """A validated name and mobile (E.164)."""

    name: str
    phone: str


def validate_contact(*, name: str, phone: str) -> ContactDetails:
    """Clean and check what the client typed: a name with letters, a mainland or international mobile.

    Mainland numbers may be typed bare (13812345678) or with 86/0086/+86 and separators; others need
    their country code (+852 9123 4567). Raises InvalidContact naming the field.
    """
    cleaned = " ".join(unicodedata.normalize("NFKC", name).split())
    if not cleaned or len(cleaned) > MAX_NAME or not _HAS_LETTER.search(cleaned):
        raise InvalidContact("name", f"a name is 1-{MAX_NAME} characters with at least one letter")
    if any(unicodedata.category(ch).startswith("C") for ch in cleaned):
        raise InvalidContact("name", "a name cannot contain control characters")
    normalized = normalize_phone(unicodedata.normalize("NFKC", phone))
    if normalized is None:
        raise InvalidContact(
            "phone", "not a mobile number: 11 digits for mainland China (13812345678), or +country code and number"
        )
    return ContactDetails(name=cleaned, phone=normalized)


def _open_leads(session: Session, client_key: str, lead_id: int | None) -> list[Lead]:
    if lead_id is not None:
        lead = session.get(Lead, lead_id, with_for_update=True)
        if lead is None or lead.client_key != client_key:
            raise LeadNotFound(f"lead {lead_id} not found for {client_key}")
        return [lead]
    query = select(Lead).where(Lead.client_key == client_key, Lead.status.in_(OPEN_STATUSES)).order_by(Lead.id)
    return list(session.scalars(query.with_for_update()))


def attach_contact(
    session: Session,
    *,
    client_key: str,
    name: str,
    phone: str,
    consent_text: str,
    consented_at: datetime,
    lead_id: int | None = None,
    now: datetime | None = None,
) -> list[LeadRead]:
    """Put the client's name and mobile, with the consent wording they saw and when they agreed, on their
    open leads (or on `lead_id`). Later leads of the same client inherit them. Raises InvalidContact.
    """
    details = validate_contact(name=name, phone=phone)
    consent = consent_text.strip()
    if not consent or len(consent) > 2000:
        raise InvalidContact("consent", "the consent wording shown to the client is required (at most 2000 chars)")
    if consented_at.tzinfo is None:
        raise InvalidContact("consent", "consented_at must be timezone-aware")
    at = now or utcnow()
    changed = []
    for lead in _open_leads(session, client_key, lead_id):
        lead.contact_name, lead.contact_phone, lead.contact_source = details.name, details.phone, "conversation"
        lead.consent_text, lead.consent_at, lead.updated_at = consent, consented_at, at
        outbox.enqueue(session, lead=lead, event_type="lead.updated", now=at)
        changed.append(LeadRead.model_validate(lead))
    return changed


def link_client(
    session: Session,
    *,
    client_key: str,
    routing: LeadRouting,
    client_id: str | None = None,
    wecom_external_userid: str | None = None,
    lead_id: int | None = None,
    now: datetime | None = None,
) -> list[LeadRead]:
    """Tie the client's open leads (or `lead_id`) to a known client: a campaign client id (its advisor,
    name and phone from the list, unless the client gave their own) and/or their WeCom external user.

    Raises InputError when `client_id` is in no client list: an unknown id is never stored as if known.
    """
    known = None
    if client_id is not None:
        known = routing.known(session, client_id)
        if known is None:
            raise InputError(f"client {client_id!r} is in no campaign client list")
    at = now or utcnow()
    changed = []
    for lead in _open_leads(session, client_key, lead_id):
        if wecom_external_userid:
            lead.wecom_external_userid = wecom_external_userid[:128]
        if known is not None:
            _apply_known(lead, known)
        if lead.advisor_id is None:
            lead.advisor_id, lead.advisor_rule = routing.choose(session, known)
        lead.updated_at = at
        outbox.enqueue(session, lead=lead, event_type="lead.updated", now=at)
        changed.append(LeadRead.model_validate(lead))
    return changed


def _apply_known(lead: Lead, known: KnownClient) -> None:
    lead.linked_client_id, lead.campaign_id = known.client_id, known.campaign_id
    if lead.contact_phone is None:
        lead.contact_name, lead.contact_phone, lead.contact_source = known.name, known.phone, "client_list"
        when = f"{known.consent_date}" if known.consent_date else "-"
        lead.consent_text = f"客户名单：同意营销外呼（{when}） / Client list: consented to marketing calls ({when})"


def enrich_lead(session: Session, lead: Lead, routing: LeadRouting | None) -> None:
    """Fill in what the bank knows about a lead's client; never overwrites a link, contact or advisor.

    The client key is the client id on voice calls (the campaign's client row), `wecom:<external user>`
    on WeCom; otherwise contact details come from the client's previous lead, if they gave any.
    """
    if lead.client_key.startswith(_WECOM_PREFIX) and lead.wecom_external_userid is None:
        lead.wecom_external_userid = lead.client_key[len(_WECOM_PREFIX) :][:128]
    known = routing.known(session, lead.client_key) if routing is not None else None
    if known is not None and lead.linked_client_id is None:
        _apply_known(lead, known)
    if lead.contact_phone is None:
        _inherit_contact(session, lead)
    if routing is not None and lead.advisor_id is None:
        lead.advisor_id, lead.advisor_rule = routing.choose(session, known)


def _inherit_contact(session: Session, lead: Lead) -> None:
    previous = session.scalar(
        select(Lead)
        .where(Lead.client_key == lead.client_key, Lead.id != lead.id, Lead.contact_phone.is_not(None))
        .order_by(Lead.updated_at.desc(), Lead.id.desc())
        .limit(1)
    )
    if previous is not None:
        lead.contact_name, lead.contact_phone, lead.contact_source = (
            previous.contact_name,
            previous.contact_phone,
            previous.contact_source,
        )
        lead.consent_text, lead.consent_at = previous.consent_text, previous.consent_at
        if lead.linked_client_id is None:
            lead.linked_client_id, lead.campaign_id = previous.linked_client_id, previous.campaign_id


def known_phone(session: Session, *, client_key: str) -> str | None:
    """The mobile this client identity gave (or the client list holds) on any lead; None if unknown.

    For the opt-out: with it, a refusal given in chat blocks the number in every campaign too.
    """
    return session.scalar(
        select(Lead.contact_phone)
        .where(Lead.client_key == client_key, Lead.contact_phone.is_not(None))
        .order_by(Lead.updated_at.desc(), Lead.id.desc())
        .limit(1)
    )


_CONSENT_FILE = Path(__file__).with_name("consent.yml")


@cache
def _consent() -> dict[str, str]:
    data: dict[str, str] = yaml.safe_load(_CONSENT_FILE.read_text(encoding="utf-8"))
    return data


def consent_wording(language: str, *, bank_name: str) -> str:
    """The consent a client sees before giving a mobile for a call back (consent.yml), as shown and stored."""
    return _consent()["en" if language == "en" else "zh"].replace("{bank_name}", bank_name)
