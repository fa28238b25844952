"""Hand-off to a human, opt-out, and call-back requests: each one is recorded before the bot replies.

All three cannot be undone (a lead reaches the CRM, an opt-out stops all marketing), so they are
`GatedAction`s: taken only on a confident or confirmed turn (bot/actions/confirm.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.advice import contact_hours
from bot.actions.confirm import GatedAction
from bot.actions.context import TurnContext, user_turns
from bot.dialogue.when import parse_callback_time
from bot.flows import DialogueFlows, LeadRequest

_SUMMARY_SLOTS = ("risk_level", "recommended_products", "channel", "client_id")


async def hand_off(flows: DialogueFlows, dispatcher: CollectingDispatcher, tracker: Tracker, ctx: TurnContext) -> None:
    """An advisor_request (or complaint) lead with a conversation summary, then tell the client when."""
    complaint = ctx.intent == "complain"
    slots = {k: tracker.get_slot(k) for k in _SUMMARY_SLOTS if tracker.get_slot(k)}
    summary = await flows.summarize(user_turns(tracker), slots)
    await flows.record_lead(
        LeadRequest(
            client_key=ctx.client_key, sender_id=ctx.sender_id, channel=ctx.channel,
            type="complaint" if complaint else "advisor_request", intent=ctx.intent or "request_human_advisor",
            confidence=ctx.confidence, evidence=ctx.text, summary=summary,
        )
    )  # fmt: skip
    hours = contact_hours(flows, ctx.language)
    if complaint:
        dispatcher.utter_message(response="utter_complain", contact_hours=hours, hotline=flows.hotline)
    else:
        dispatcher.utter_message(response="utter_handoff", contact_hours=hours)


class ActionHandoff(GatedAction):
    """request_human_advisor and complain (also two NLU fallbacks in a row, via the answer action)."""

    effect = "lead"
    question = "utter_confirm_lead"

    def name(self) -> str:
        return "action_handoff"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, ctx: TurnContext) -> list[EventType]:
        await hand_off(self._flows, dispatcher, tracker, ctx)
        return []


class ActionOptOut(GatedAction):
    """opt_out: do-not-contact at once, on every channel and campaign; confirm in one sentence and end."""

    effect = "opt_out"
    question = "utter_confirm_opt_out"

    def name(self) -> str:
        return "action_opt_out"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, ctx: TurnContext) -> list[EventType]:
        phone = tracker.get_slot("phone")
        await self._flows.opt_out(client_key=ctx.client_key, phone=phone, channel=ctx.channel, evidence=ctx.text)
        dispatcher.utter_message(response="utter_opt_out_confirm")
        return [SlotSet("pending_offer", None)]


class ActionScheduleCallback(GatedAction):
    """busy_call_later: capture the time the client names (or next day 10:00) as a callback_request lead."""

    effect = "lead"
    question = "utter_confirm_callback"

    def name(self) -> str:
        return "action_schedule_callback"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, ctx: TurnContext) -> list[EventType]:
        now = datetime.now(ZoneInfo(self._flows.settings.timezone))
        when = parse_callback_time(ctx.text, now)
        if when is None:
            when = (now + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
        await self._flows.record_lead(
            LeadRequest(
                client_key=ctx.client_key, sender_id=ctx.sender_id, channel=ctx.channel, type="callback_request",
                intent=ctx.intent or "busy_call_later", confidence=ctx.confidence, evidence=ctx.text,
                callback_at=when,
            )
        )  # fmt: skip
        dispatcher.utter_message(
            response="utter_call_later",
            when_zh=f"{when:%m月%d日 %H:%M}",
            when_en=f"on {when:%b %d at %H:%M}",
        )
        return []


class ActionEndConversation(GatedAction):
    """goodbye and not_interested: the closing line, which ends a phone call (so confirmed when unsure)."""

    effect = "hangup"
    question = "utter_confirm_hangup"

    def name(self) -> str:
        return "action_end_conversation"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, ctx: TurnContext) -> list[EventType]:
        dispatcher.utter_message(response="utter_not_interested" if ctx.intent == "not_interested" else "utter_goodbye")
        return []
