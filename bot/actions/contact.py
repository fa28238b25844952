"""Hand-off to a human, opt-out, call-back requests and the end of a call: effects that cannot be undone.

A lead reaches the CRM, an opt-out stops all marketing and closes the client's open marketing leads,
a hang-up ends a call: all are `GatedAction`s, taken only on a sure or confirmed turn
(bot/actions/confirm.py). A lead is recorded once, with a way to reach the client, and states one
promise (bot/actions/handoff.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.confirm import GatedAction
from bot.actions.context import TurnContext, slot_codes, user_turns
from bot.actions.handoff import CLEARED, Contacts
from bot.contacts.register import coverage_text
from bot.dialogue.when import parse_callback_time
from bot.flows import DialogueFlows, LeadRequest

_SUMMARY_SLOTS = ("risk_level", "recommended_products", "product_focus", "channel", "client_id")


def lead_type(tracker: Tracker, wanted: str) -> str:
    """One story per client: a later hand-off in the same conversation updates the lead already made."""
    made = tracker.get_slot("lead_type")
    return str(made) if made in ("advisor_request", "product_interest") and wanted != "complaint" else wanted


class ActionHandoff(GatedAction):
    """A person asked for (and complaints followed up): an advisor_request or complaint lead, once."""

    effect = "lead"
    question = "utter_confirm_lead"

    def __init__(self, flows: DialogueFlows, contacts: Contacts) -> None:
        super().__init__(flows)
        self._contacts = contacts

    def name(self) -> str:
        return "action_handoff"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, ctx: TurnContext) -> list[EventType]:
        complaint = ctx.intent == "complain"
        slots = {k: tracker.get_slot(k) for k in _SUMMARY_SLOTS if tracker.get_slot(k)}
        summary = await self._flows.summarize(user_turns(tracker), slots)
        request = LeadRequest(
            client_key=ctx.client_key, sender_id=ctx.sender_id, channel=ctx.channel,
            type=lead_type(tracker, "complaint" if complaint else "advisor_request"),
            intent=ctx.intent or "request_human_advisor", confidence=ctx.confidence, evidence=ctx.text,
            summary=summary, product_codes=tuple(slot_codes(tracker, "product_focus")[:1]),
        )  # fmt: skip
        ack = "utter_lead_ack_complaint" if complaint else "utter_lead_ack"
        return await self._contacts.record(dispatcher, ctx, request, ack=ack)


class ActionOptOut(GatedAction):
    """opt_out: do-not-contact at once, on every channel and campaign; the client's open marketing leads
    are closed; the reply says honestly what the refusal covers."""

    effect = "opt_out"
    question = "utter_confirm_opt_out"

    def name(self) -> str:
        return "action_opt_out"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, ctx: TurnContext) -> list[EventType]:
        recorded, closed = await self._flows.opt_out(
            client_key=ctx.client_key,
            sender_id=ctx.sender_id,
            phone=tracker.get_slot("phone"),
            channel=ctx.channel,
            evidence=ctx.text,
        )
        covers = coverage_text(
            recorded.covers, channel=ctx.channel, phone=recorded.phone, language=ctx.language, hotline="{hotline}"
        )
        dispatcher.utter_message(json_message={"text": covers, "kind": "opt_out"})
        if closed:
            dispatcher.utter_message(response="utter_opt_out_leads_closed")
        return [SlotSet("pending_offer", None), SlotSet("opted_out", True), SlotSet("lead_type", None), *CLEARED]


class ActionScheduleCallback(GatedAction):
    """busy_call_later: a callback_request lead at the time the client names (or the next morning);
    the reply states that time, the one the lead carries."""

    effect = "lead"
    question = "utter_confirm_callback"

    def __init__(self, flows: DialogueFlows, contacts: Contacts) -> None:
        super().__init__(flows)
        self._contacts = contacts

    def name(self) -> str:
        return "action_schedule_callback"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, ctx: TurnContext) -> list[EventType]:
        now = datetime.now(ZoneInfo(self._flows.settings.timezone))
        when = parse_callback_time(ctx.text, now)
        if when is None:
            when = (now + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
        request = LeadRequest(
            client_key=ctx.client_key, sender_id=ctx.sender_id, channel=ctx.channel, type="callback_request",
            intent=ctx.intent or "busy_call_later", confidence=ctx.confidence, evidence=ctx.text,
            callback_at=when,
        )  # fmt: skip
        return await self._contacts.record(dispatcher, ctx, request, ack="utter_lead_ack")


class ActionEndConversation(GatedAction):
    """goodbye and not_interested: the closing line, which ends a phone call (so confirmed when unsure)."""

    effect = "hangup"
    question = "utter_confirm_hangup"

    def name(self) -> str:
        return "action_end_conversation"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, ctx: TurnContext) -> list[EventType]:
        dispatcher.utter_message(response="utter_not_interested" if ctx.intent == "not_interested" else "utter_goodbye")
        return [*CLEARED]
