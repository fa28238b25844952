"""Irreversible effects need more than one shaky guess: confirm opt-outs, leads and hang-ups first.

An effect (`GatedAction`: opt-out, hand-off, interest, callback, end of call) is taken only when the
dialogue policy (bot/dialogue/policy.py) calls the turn `sure`: NLU confidence at or above its
`dialogue.confirm_below` threshold, the words that say it, and nothing contrary in the same utterance
(interest words under a "not interested" guess, a question, a negation). Otherwise the action does
nothing yet: it asks a short yes/no question and sets the slot `pending_confirmation` to its own name.
The rules (data/rules.yml, "pending confirmation") send the next affirm or deny to `action_confirm`,
which runs the effect with the turn that asked for it (the client's own words stay the evidence) or
lets it go. Only the very next message answers: after any other turn the question is stale, and a
later "yes" changes nothing.

Extending the dialogue: subclass `GatedAction` for any new irreversible effect and give the policy a
`Do` for it; nothing else changes.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable
from typing import Any, ClassVar, Literal

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.context import TurnContext, turn_context, user_message
from bot.dialogue.cues import cues
from bot.flows import DialogueFlows

Effect = Literal["opt_out", "lead", "hangup"]
PENDING = "pending_confirmation"


def ask(dispatcher: CollectingDispatcher, *, action: str, question: str) -> list[EventType]:
    """Ask the yes/no question instead of acting; `action` runs if the next message says yes."""
    dispatcher.utter_message(response=question)  # the response carries its yes/no buttons
    return [SlotSet(PENDING, action), SlotSet("pending_offer", None)]


class GatedAction(Action):
    """An effect that cannot be undone: taken only on a sure or confirmed turn.

    The entry actions (bot/actions/router.py) call `handle` with the policy's decision; `action_confirm`
    calls `act` once the client said yes. The name is what `pending_confirmation` holds.
    """

    effect: ClassVar[Effect]
    question: ClassVar[str]  # the domain response asking the client to confirm

    def __init__(self, flows: DialogueFlows) -> None:
        self._flows = flows

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        """Called directly (no policy decision at hand): act only on a confident turn."""
        ctx = turn_context(tracker)
        threshold = getattr(self._flows.settings.confirm_below, self.effect)
        return await self.handle(dispatcher, tracker, ctx, sure=(ctx.confidence or 0.0) >= threshold)

    async def handle(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, ctx: TurnContext, *, sure: bool
    ) -> list[EventType]:
        """Act when sure; otherwise ask first. A hang-up is irreversible on a phone call only."""
        if not sure and not (self.effect == "hangup" and ctx.channel != "voice"):
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


def says_yes(ctx: TurnContext) -> bool:
    """A yes: the NLU's affirm, or the words of one ("是的", "ok") whatever the NLU guessed."""
    return ctx.intent == "affirm" or (cues().has("affirm", ctx.text) and not cues().has("deny", ctx.text))


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
        if not says_yes(turn_context(tracker)):
            dispatcher.utter_message(response="utter_confirm_declined")
            return cleared
        return [*cleared, *await action.act(dispatcher, tracker, turn_context(tracker, asked))]
