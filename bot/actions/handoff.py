"""One story per client: one lead per request, one promise, and never a promise the bank cannot keep.

The lead is recorded when the client asks. Where the bank can reach them (a campaign call, a WeCom user,
a known client id, a mobile given before), the promise says how, at once. On the web it cannot: the bot
asks for a name and a mobile (validated), shows them back with the consent wording
(bot/leads/consent.yml) and, on the client's "同意", puts both on that same lead and only then promises
a call. A client who would rather not is told how to reach the bank (the hotline and its hours), and
the lead nobody could act on is closed. The lead's ids ride in the slot `pending_lead`; the step in
`contact_step` (details, consent).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.advice import contact_hours
from bot.actions.confirm import says_yes
from bot.actions.context import TurnContext
from bot.dialogue.cues import cues
from bot.flows import ContactConsent, DialogueFlows, LeadRequest
from bot.leads.contact import InvalidContact, consent_wording, validate_contact

STEP = "contact_step"
PENDING_LEAD = "pending_lead"
#: Unusable answers before the bot stops asking and gives the hotline instead.
MAX_TRIES = 3
# Digits with the separators people type inside a phone number ("138 1234 5678", "+852-9123-4567").
_PHONE = re.compile(r"(?:\+|00)?\d[\d\s\-()（）]{1,18}\d")
_LABELS = re.compile(
    r"我叫|我是|叫我|我姓|姓名|名字|称呼|联系人|手机号码|手机号|手机|电话号码|电话|号码|联系方式|"
    r"\bmy name is\b|\bname\b|\bi'?m\b|\bi am\b|\bphone\b|\bmobile\b|\bnumber\b|\bis\b|[:：,，。;；、]",
    re.IGNORECASE,
)
CLEARED: list[EventType] = [SlotSet(STEP, None), SlotSet(PENDING_LEAD, None), SlotSet("contact_tries", 0.0)]


def split_contact(text: str) -> tuple[str | None, str | None]:
    """(name, phone) as typed: the longest run of phone-like digits, and what is left without labels."""
    folded = unicodedata.normalize("NFKC", text)
    numbers = sorted(_PHONE.findall(folded), key=lambda n: len(re.sub(r"\D", "", n)), reverse=True)
    phone = numbers[0].strip() if numbers else None
    rest = folded.replace(numbers[0], " ") if numbers else folded
    name = " ".join(_LABELS.sub(" ", rest).split()).strip(" 的")
    return (name or None), phone


class Contacts:
    """Records leads, promises how the client will be reached, and collects how when the bank cannot."""

    def __init__(self, flows: DialogueFlows) -> None:
        self._flows = flows

    async def record(
        self, dispatcher: CollectingDispatcher, ctx: TurnContext, request: LeadRequest, *, ack: str
    ) -> list[EventType]:
        """The lead now; then one promise when the client can be reached, else a request for details."""
        ids = await self._flows.record_lead(request)
        reach = await self._flows.reach(client_key=ctx.client_key, channel=ctx.channel)
        if reach is None:
            dispatcher.utter_message(response="utter_contact_ask")
            pending = {"ids": ids, "type": request.type, "callback_at": _iso(request.callback_at)}
            return [
                *CLEARED,
                SlotSet(STEP, "details"),
                SlotSet(PENDING_LEAD, pending),
                SlotSet("lead_type", request.type),
            ]
        self._promise(dispatcher, ctx, request.type, request.callback_at, ack=ack, reach=reach)
        return [SlotSet("lead_type", request.type)]

    def _promise(
        self,
        dispatcher: CollectingDispatcher,
        ctx: TurnContext,
        kind: str,
        callback_at: datetime | None,
        *,
        ack: str,
        reach: str,
        phone: str | None = None,
    ) -> None:
        if kind == "callback_request" and callback_at is not None:  # the time the lead carries, said once
            dispatcher.utter_message(
                response="utter_call_later",
                when_zh=f"{callback_at:%m月%d日 %H:%M}",
                when_en=f"on {callback_at:%b %d at %H:%M}",
                callback_at=callback_at.isoformat(),
            )
            return
        dispatcher.utter_message(response=ack)
        if reach == "call":  # the call itself says what happens next (a transfer, or when we call back)
            return
        hours = contact_hours(self._flows, ctx.language)
        response = {"wecom": "utter_promise_wecom", "contact": "utter_promise_phone"}.get(reach, "utter_promise")
        dispatcher.utter_message(response=response, contact_hours=hours, last4=(phone or "")[-4:])

    async def answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, ctx: TurnContext
    ) -> list[EventType] | None:
        """This turn as an answer to the pending step; None when it is something else (the caller
        handles it, and the step stays open a little)."""
        step = tracker.get_slot(STEP)
        pending = tracker.get_slot(PENDING_LEAD)
        if step is None or not isinstance(pending, dict):
            return None
        if step == "consent":
            return await self._consent(dispatcher, tracker, ctx, pending)
        name, phone = split_contact(ctx.text)
        if phone is None and (cues().said("decline_contact", ctx.text) or cues().said("cancel", ctx.text)):
            return await self._declined(dispatcher, pending)
        if phone is None and (cues().has("question", ctx.text) or cues().has("affirm", ctx.text)):
            return None  # a question (or a bare "ok"), not details: the caller answers it
        name = name or tracker.get_slot("contact_name")
        phone = phone or tracker.get_slot("contact_phone")
        try:
            details = validate_contact(name=name or "", phone=phone or "")
        except InvalidContact as exc:
            return await self._retry(dispatcher, tracker, pending, field=exc.field, name=name, phone=phone)
        consent = consent_wording(ctx.language, bank_name=self._flows.bank_name(ctx.language))
        masked = f"{details.phone[:-8]}****{details.phone[-4:]}"
        dispatcher.utter_message(
            response="utter_contact_confirm", contact_name=details.name, masked_phone=masked, consent=consent
        )
        return [
            SlotSet(STEP, "consent"),
            SlotSet("contact_name", details.name),
            SlotSet("contact_phone", details.phone),
            SlotSet("contact_consent_text", consent),
        ]

    async def _consent(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, ctx: TurnContext, pending: dict[str, Any]
    ) -> list[EventType] | None:
        if not says_yes(ctx):
            if ctx.intent == "deny" or cues().has("deny", ctx.text) or cues().said("decline_contact", ctx.text):
                return await self._declined(dispatcher, pending)
            return None
        name, phone = tracker.get_slot("contact_name"), tracker.get_slot("contact_phone")
        consent = tracker.get_slot("contact_consent_text")
        if not (name and phone and consent):
            return await self._declined(dispatcher, pending)
        contact = ContactConsent(name=name, phone=phone, consent_text=consent, consented_at=datetime.now(UTC))
        await self._flows.attach_contact(client_key=ctx.client_key, lead_ids=_ids(pending), contact=contact)
        kind = str(pending.get("type") or "advisor_request")
        ack = {"product_interest": "utter_lead_ack_interest", "complaint": "utter_lead_ack_complaint"}
        when = pending.get("callback_at")
        callback_at = datetime.fromisoformat(when) if isinstance(when, str) else None
        self._promise(
            dispatcher, ctx, kind, callback_at, ack=ack.get(kind, "utter_lead_ack"), reach="contact", phone=phone
        )
        return [*CLEARED, *_FORGET]

    async def _retry(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        pending: dict[str, Any],
        *,
        field: str,
        name: str | None,
        phone: str | None,
    ) -> list[EventType]:
        tries = int(tracker.get_slot("contact_tries") or 0) + 1
        if tries >= MAX_TRIES:
            dispatcher.utter_message(response="utter_contact_gave_up")
            await self.withdraw(pending)
            return [*CLEARED, *_FORGET, SlotSet("lead_type", None)]
        retry = "utter_contact_retry_phone" if field == "phone" else "utter_contact_retry_name"
        dispatcher.utter_message(response=retry)
        return [
            SlotSet("contact_name", None if field == "name" else name),
            SlotSet("contact_phone", None if field == "phone" else phone),
            SlotSet("contact_tries", float(tries)),
        ]

    async def _declined(self, dispatcher: CollectingDispatcher, pending: dict[str, Any]) -> list[EventType]:
        """No way to reach the client: the hotline instead of a promise, and the lead is withdrawn."""
        dispatcher.utter_message(response="utter_contact_declined")
        await self.withdraw(pending)
        return [*CLEARED, *_FORGET, SlotSet("lead_type", None)]

    async def withdraw(self, pending: Any) -> None:
        """Close the leads awaiting contact details (nobody could act on them)."""
        if isinstance(pending, dict):
            await self._flows.withdraw_leads(_ids(pending))


def _ids(pending: dict[str, Any]) -> list[int]:
    return [int(i) for i in pending.get("ids") or [] if isinstance(i, int | float | str) and str(i).isdigit()]


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when is not None else None


_FORGET: list[EventType] = [SlotSet(s, None) for s in ("contact_name", "contact_phone", "contact_consent_text")]
