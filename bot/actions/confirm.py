"""Irreversible effects need more than one shaky guess: confirm opt-outs, leads and hang-ups first.

An effect action (`GatedAction`: opt-out, hand-off, interest, callback, end of call) checks the NLU
confidence of the turn that asked for it against `dialogue.confirm_below`. Below its threshold the
action does nothing yet: it asks a short yes/no question and sets the slot `pending_confirmation` to
its own name. The rules (data/rules.yml, "pending confirmation") send the next affirm or deny to
`action_confirm`, which runs the effect with the turn that asked for it (the client's own words stay
the evidence) or lets it go. Only the very next message answers: after any other turn the question
is stale, and a later "yes" changes nothing.

Extending the dialogue: subclass `GatedAction` for any new irreversible effect; nothing else changes.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable
from typing import Any, ClassVar, Literal

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.context import TurnContext, turn_context, user_message
from bot.flows import DialogueFlows
from bot.settings import ConfirmThresholds

Effect = Literal["opt_out", "lead", "hangup"]
PENDING = "pending_confirmation"


def unsure(thresholds: ConfirmThresholds, effect: Effect, ctx: TurnContext) -> bool:
    """True when the turn's NLU confidence is under the effect's threshold (or unknown).

    A hang-up is irreversible on a phone call only; elsewhere "goodbye" just ends the chat politely.
    """
    if effect == "hangup" and ctx.channel != "voice":
        return False
    return ctx.confidence is None or ctx.confidence < getattr(thresholds, effect)


def ask(dispatcher: CollectingDispatcher, *, action: str, question: str) -> list[EventType]:
    """Ask the yes/no question instead of acting; `action` runs if the next message says yes."""
    dispatcher.utter_message(response=question)
    return [SlotSet(PENDING, action), SlotSet("pending_offer", None)]


class GatedAction(Action):
    """A custom action whose effect cannot be undone: it acts only on a confident or confirmed turn."""

    effect: ClassVar[Effect]
    question: ClassVar[str]  # the domain response asking the client to confirm

    def __init__(self, flows: DialogueFlows) -> None:
        self._flows = flows

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        ctx = turn_context(tracker)
        if unsure(self._flows.settings.confirm_below, self.effect, ctx):
            return ask(dispatcher, action=self.name(), question=self.question)
        return await self.act(dispatcher, tracker, ctx)

    @abstractmethod
    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, ctx: TurnContext) -> list[EventType]:
        """Take the effect for the turn `ctx` (the latest, or the one a confirmation answered)."""


def asked_turn(tracker: Tracker) -> dict[str, Any] | None:
    """The user message whose effect the latest message answers: the one just before it, provided the
    question (the slot set) came after it. None when the question is stale or was never asked."""
    users_seen = 0
    asked = False
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            users_seen += 1
            if users_seen == 2:
                return user_message(event) if asked else None
        elif users_seen == 1 and kind == "slot" and event.get("name") == PENDING and event.get("value"):
            asked = True
    return None


class ActionConfirm(Action):
    """affirm or deny while a confirmation is pending: run the asked-for effect, or carry on without it."""

    def __init__(self, actions: Iterable[GatedAction]) -> None:
        self._actions = {action.name(): action for action in actions}

    def name(self) -> str:
        return "action_confirm"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        cleared: list[EventType] = [SlotSet(PENDING, None)]
        action = self._actions.get(str(tracker.get_slot(PENDING)))
        asked = asked_turn(tracker)
        if action is None or asked is None:  # a "yes" to a question no longer open
            dispatcher.utter_message(response="utter_how_can_help")
            return cleared
        if turn_context(tracker).intent != "affirm":
            dispatcher.utter_message(response="utter_confirm_declined")
            return cleared
        return [*cleared, *await action.act(dispatcher, tracker, turn_context(tracker, asked))]
