"""Sending a text: recorded with its consent, checked against refusals right before it goes, sent once.

    request --claim (one transaction)--> declined | refused | sending --provider--> sent | failed | unknown

The claim inserts the row under the request's idempotency key: a repeated request (a retry, a duplicate
webhook, a second "yes") finds the row and sends nothing. In the same transaction, just before the
provider is asked, the do-not-contact list (which the opt-out register feeds) and the provider's own
rules (no +86 through Twilio) are checked; a refusal is recorded with its reason. A declined offer is a
row too, so a later request under the same key never sends.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.contacts.phones import normalize_phone
from bot.contacts.portable import insert_or_ignore
from bot.contacts.service import may_market
from bot.db import transaction, utcnow
from bot.errors import ChannelError, InputError, TextRefusedError
from bot.messaging.models import Consent, TextMessage, TextRead
from bot.messaging.provider import TextDeliveryUnknown, TextProvider

logger = logging.getLogger(__name__)
T = TypeVar("T")
MAX_BODY_CHARS = 1000  # about 7 concatenated SMS segments in Chinese (UCS-2: 67 characters each)
DO_NOT_CONTACT = "拒绝营销（退订登记）/ do not contact: the client refused marketing (opt-out register)"
NO_PROVIDER = "未配置短信服务 / no text provider configured (messaging.provider)"


class TextMessages:
    """Sends texts through one provider, each under a consent and an idempotency key."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        provider: TextProvider | None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._provider = provider
        self._clock = clock

    async def _tx(self, work: Callable[[Session], T]) -> T:
        def run() -> T:
            with transaction(self._sessions) as session:
                return work(session)

        return await asyncio.to_thread(run)

    async def send(
        self,
        *,
        key: str,
        purpose: str,
        to: str,
        body: str,
        client_key: str,
        consent: Consent,
        campaign_id: int | None = None,
        attempt_id: int | None = None,
    ) -> TextRead:
        """Send `body` to `to` once per `key`, if the client agreed and may be contacted; the row says what happened.

        A declined consent is recorded under `key` (its body may be empty) and blocks every later request
        under it. Raises InputError for a request that cannot be a text (bad number, body, key).
        """
        phone = normalize_phone(to)
        if phone is None:
            raise InputError(f"{to!r} is not a phone number (E.164, e.g. +85291234567)")
        if len(body) > MAX_BODY_CHARS or (consent.accepted and not body.strip()):
            raise InputError(f"a text is 1-{MAX_BODY_CHARS} characters")
        if not 1 <= len(key) <= 200 or not client_key.strip():
            raise InputError("a text needs an idempotency key (1-200 characters) and a client key")

        def claim(session: Session) -> tuple[TextRead, bool]:
            now = self._clock()
            status, reason = self._verdict(session, consent, client_key=client_key, phone=phone)
            values = {
                "idempotency_key": key, "purpose": purpose[:32], "client_key": client_key[:128], "phone": phone,
                "campaign_id": campaign_id, "attempt_id": attempt_id, "body": body, "accepted": consent.accepted,
                "consent_text": consent.offer, "consent_evidence": consent.words, "consent_at": consent.at,
                "consent_channel": consent.channel, "consent_conversation": consent.conversation,
                "status": status, "reason": reason, "provider": self._provider.name if self._provider else None,
                "created_at": now, "updated_at": now,
            }  # fmt: skip
            new = insert_or_ignore(session, TextMessage, values, conflict=("idempotency_key",))
            row = session.scalar(select(TextMessage).where(TextMessage.idempotency_key == key))
            assert row is not None
            return TextRead.model_validate(row), new

        text, new = await self._tx(claim)
        if not new:
            logger.info("text %s (%s) requested again: already %s, nothing sent", text.id, purpose, text.status)
            return text
        if text.status != "sending":
            logger.info("text %s (%s) not sent: %s", text.id, purpose, text.status)
            return text
        return await self._deliver(text)

    def _verdict(self, session: Session, consent: Consent, *, client_key: str, phone: str) -> tuple[str, str | None]:
        """declined, refused (with the reason), or sending: decided right before the provider is asked."""
        if not consent.accepted:
            return "declined", None
        if not may_market(session, client_key=client_key, phone=phone):
            return "refused", DO_NOT_CONTACT
        if self._provider is None:
            return "refused", NO_PROVIDER
        refusal = self._provider.refusal_reason(phone)
        return ("refused", refusal) if refusal else ("sending", None)

    async def _deliver(self, text: TextRead) -> TextRead:
        assert self._provider is not None
        changes: dict[str, Any]
        try:
            sent = await self._provider.send(to=text.phone, body=text.body, consent_ref=f"text:{text.id}")
        except TextRefusedError as exc:
            changes = {"status": "refused", "reason": str(exc)}
        except TextDeliveryUnknown as exc:  # may have arrived: never sent again
            changes = {"status": "unknown", "reason": str(exc)}
        except ChannelError as exc:
            changes = {"status": "failed", "reason": str(exc)}
        else:
            changes = {"status": "sent", "provider_sid": sent.sid[:64], "sent_at": self._clock()}
        if changes["status"] != "sent":
            logger.warning("text %s: %s (%s)", text.id, changes["status"], changes["reason"])

        def record(session: Session) -> TextRead:
            values = {**changes, "updated_at": self._clock()}
            session.execute(update(TextMessage).where(TextMessage.id == text.id).values(**values))
            row = session.get(TextMessage, text.id)
            assert row is not None
            return TextRead.model_validate(row)

        return await self._tx(record)

    async def get(self, key: str) -> TextRead | None:
        """The text (or declined offer) recorded under `key`, if any."""

        def read(session: Session) -> TextRead | None:
            row = session.scalar(select(TextMessage).where(TextMessage.idempotency_key == key))
            return TextRead.model_validate(row) if row else None

        return await self._tx(read)
