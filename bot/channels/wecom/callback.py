"""Opening WeCom callbacks: signature, replay window, nonce, decryption, dedup; sealing passive replies.

Order matters: nothing is stored or decrypted before the signature matches, so a forged request
cannot fill the nonce table; a valid but replayed or retried request is recognised and changes nothing.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable

from bot.channels.wecom.crypto import WeComCrypto
from bot.channels.wecom.errors import CallbackMalformed, StaleCallback
from bot.channels.wecom.models import (
    CallbackMessage,
    envelope_ciphertext,
    parse_envelope,
    parse_message,
    reply_envelope_xml,
    text_reply_xml,
)
from bot.channels.wecom.store import WeComStore

logger = logging.getLogger(__name__)


class CallbackGuard:
    """Verifies and opens callbacks for one corp; returns None for replays and retries."""

    def __init__(
        self,
        *,
        crypto: WeComCrypto,
        store: WeComStore,
        corp_id: str,
        replay_window_s: int,
        clock: Callable[[], float],
    ) -> None:
        self._crypto = crypto
        self._store = store
        self._corp_id = corp_id
        self._window = replay_window_s
        self._clock = clock

    def _check_timestamp(self, timestamp: str) -> None:
        try:
            age = abs(self._clock() - int(timestamp))
        except ValueError as exc:
            raise StaleCallback("timestamp is not a number") from exc
        if age > self._window:
            raise StaleCallback(f"timestamp is {age:.0f}s away from now (window {self._window}s)")

    def verify_url(self, *, msg_signature: str, timestamp: str, nonce: str, echostr: str) -> str:
        """The URL check (GET): the decrypted echostr, which WeCom wants back within 1 s.

        It changes no state, so a repeated check is harmless and no nonce is recorded.
        """
        # A '+' that arrived unencoded was turned into a space by query parsing; base64 has no spaces.
        echostr = echostr.replace(" ", "+")
        self._crypto.verify(msg_signature, timestamp, nonce, echostr)
        self._check_timestamp(timestamp)
        return self._crypto.decrypt(echostr)

    async def open(self, *, msg_signature: str, timestamp: str, nonce: str, body: bytes) -> CallbackMessage | None:
        """The decrypted message, or None if it is a replay or a retry of one already accepted.

        The signature is checked on the ciphertext found by a byte pattern, before any XML is parsed;
        only a signed body reaches the (DTD-refusing) parser.
        """
        encrypted = envelope_ciphertext(body)
        self._crypto.verify(msg_signature, timestamp, nonce, encrypted)
        self._check_timestamp(timestamp)
        if parse_envelope(body).encrypt != encrypted:
            raise CallbackMalformed("the envelope's <Encrypt> is not the signed ciphertext")
        message = parse_message(self._crypto.decrypt(encrypted))
        now = self._clock()
        seen = hashlib.sha256(f"{timestamp}:{nonce}".encode()).hexdigest()
        if not await self._store.claim_nonce(seen, now=now, window_s=self._window):
            logger.info("WeCom callback replayed (nonce %s): ignored", nonce)
            return None
        if not await self._store.claim(message.dedup_key, now=now):
            logger.info("WeCom callback %s already accepted: ignored", message.dedup_key)
            return None
        return message

    def seal_text_reply(self, *, to_user: str, content: str) -> str:
        """An encrypted passive text reply envelope."""
        now = int(self._clock())
        plain = text_reply_xml(to_user=to_user, from_user=self._corp_id, content=content, create_time=now)
        sealed = self._crypto.seal(plain, timestamp=str(now), nonce=str(secrets.randbelow(10**10)))
        return reply_envelope_xml(
            encrypt=sealed.encrypt, signature=sealed.signature, timestamp=sealed.timestamp, nonce=sealed.nonce
        )
