"""Every client turn outside the questionnaire goes through here: understood first, then answered or acted on.

Rasa's rules map each intent to an entry action (action_answer_question, action_handoff, action_opt_out,
...), all of them `EntryAction`s: the name says what the NLU guessed, the dialogue policy
(bot/dialogue/policy.py) decides what the turn really asks for, and the router performs it: an answer
from the knowledge base, a canned reply, safety guidance, a suggestion, the questionnaire, or an effect
(`GatedAction`, taken when sure, asked about otherwise). A pending hand-off (name and mobile awaited) is
answered first. With an LLM configured, a low-confidence turn gets a second opinion before the policy.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.advice import (
    ActionRecordInterest,
    Recommender,
    above_level,
    client_level,
    explain_suitability,
)
from bot.actions.answer import Answerer, Answering
from bot.actions.confirm import GatedAction, ask, says_yes
from bot.actions.contact import ActionEndConversation, ActionHandoff, ActionOptOut, ActionScheduleCallback
from bot.actions.context import TurnContext, history, slot_codes, turn_context
from bot.actions.handoff import CLEARED, MAX_TRIES, PENDING_LEAD, STEP, Contacts
from bot.compliance.levels import stated_level
from bot.dialogue.cues import cues
from bot.dialogue.focus import remember
from bot.dialogue.policy import Decision, Turn, decide
from bot.dialogue.second_opinion import SecondOpinion
from bot.flows import DialogueFlows
from bot.kyc.models import questionnaire

logger = logging.getLogger(__name__)
# Entry actions: one per family of intents in data/rules.yml (the name is what the NLU guessed).
ENTRY_ACTIONS = (
    "action_answer_question",
    "action_smalltalk",
    "action_recommend",
    "action_record_interest",
    "action_handoff",
    "action_opt_out",
    "action_schedule_callback",
    "action_end_conversation",
    "action_start_assessment",
)
# The slot telling Rasa's rules to start the questionnaire after action_start_assessment.
GO = "assessment_go"


class Router:
    """Decides and performs one turn; holds the behaviours the entry actions share."""

    def __init__(self, *, flows: DialogueFlows, answerer: Answerer, second_opinion: SecondOpinion | None = None):
        self.flows = flows
        self.answering = Answering(answerer, flows)
        self.contacts = Contacts(flows)
        self.recommender = Recommender(flows)
        self._second_opinion = second_opinion
        self.gated: dict[str, GatedAction] = {
            "interest": ActionRecordInterest(flows, self.contacts),
            "handoff": ActionHandoff(flows, self.contacts),
            "callback": ActionScheduleCallback(flows, self.contacts),
            "opt_out": ActionOptOut(flows),
            "end": ActionEndConversation(flows),
        }

    async def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, ctx: TurnContext, *, entry: str
    ) -> list[EventType]:
        """One turn: a pending hand-off step first, then the policy's decision."""
        events: list[EventType] = []
        offered = entry == "action_start_assessment" and tracker.get_slot("pending_offer") == "assessment"
        if offered and ctx.intent == "affirm" and says_yes(ctx):  # the offered questionnaire accepted
            # pending_offer stays: the rules go on with it, and the submit gives the suggestions asked for
            return [self._go(tracker), SlotSet("last_route", "assessment")]
        if level := stated_level(ctx.text):
            events.append(SlotSet("stated_level", level))
        if tracker.get_slot(STEP) is not None and not self._overrides_contact(ctx):
            done = await self.contacts.answer(dispatcher, tracker, ctx)
            if done is not None:
                return [*events, *done]
            events += await self._contact_still_open(tracker)
        decision = await self.decide(tracker, ctx)
        logger.info("turn routed: intent=%s confidence=%s -> %s (%s)", ctx.intent, ctx.confidence, decision.do,
                    decision.reason)  # fmt: skip
        events += await self.perform(decision, dispatcher, tracker, ctx, entry=entry)
        events.append(SlotSet("last_route", decision.do))
        if entry == "action_start_assessment" and not any(e.get("name") == GO for e in events):
            events.append(SlotSet(GO, "no"))  # Rasa's rules branch on it after this action
        return events

    def _overrides_contact(self, ctx: TurnContext) -> bool:
        """Safety and an opt-out are never taken for contact details."""
        return cues().safety_kind(ctx.text) is not None or cues().said("opt_out", ctx.text)

    async def _contact_still_open(self, tracker: Tracker) -> list[EventType]:
        """Another turn while details are awaited: the step stays open a little, then lapses, and the lead
        nobody could act on is withdrawn (as when the client declines)."""
        tries = int(tracker.get_slot("contact_tries") or 0) + 1
        if tries < MAX_TRIES and tracker.get_slot(STEP) != "consent":
            return [SlotSet("contact_tries", float(tries))]
        await self.contacts.withdraw(tracker.get_slot(PENDING_LEAD))
        return [*CLEARED, SlotSet("lead_type", None)]

    async def decide(self, tracker: Tracker, ctx: TurnContext) -> Decision:
        """The policy's decision, with what only the catalogue and the client's level can tell."""
        intent, confidence = ctx.intent, ctx.confidence
        named = self.flows.find_products(ctx.text)
        focus = slot_codes(tracker, "product_focus")
        if self._second_opinion is not None and self._second_opinion.wanted(intent, confidence):
            before = history(tracker, ctx.language)
            opinion = await self._second_opinion.ask(ctx.text, before, self.flows.catalogue())
            if opinion is not None:
                logger.info("second opinion: %s -> %s (product %s)", intent, opinion.intent, opinion.product)
                intent, confidence = opinion.intent, opinion.confidence
                if opinion.product and not named:  # the product a follow-up is about, for this turn's answer
                    focus = remember(focus, [opinion.product])
                    tracker.slots["product_focus"] = focus
        in_play = [p for p in self.flows.products() if p.code in focus[:1]]
        level = await client_level(self.flows, tracker, ctx)
        turn = Turn(
            text=ctx.text,
            intent=intent,
            confidence=confidence,
            channel=ctx.channel,
            named=tuple(p.code for p in named),
            unsuitable=tuple(p.code for p in above_level(named or in_play, level)),
            unknown_offer=self._unknown_offer(ctx.text),
            pending_offer=tracker.get_slot("pending_offer"),
            opted_out=bool(tracker.get_slot("opted_out")),
            previous=tracker.get_slot("last_route"),
            best_guess=ctx.best_guess if intent == ctx.intent else None,
        )
        return decide(turn, self.flows.settings.confirm_below)

    def _unknown_offer(self, text: str) -> bool:
        """Names a programme or promotion ("紫杉计划") the live catalogue does not know."""
        catalogue = self.flows.catalogue()
        return any(not catalogue.find(span) for span in cues().spans("named_offer", text))

    async def perform(
        self, decision: Decision, dispatcher: CollectingDispatcher, tracker: Tracker, ctx: TurnContext, *, entry: str
    ) -> list[EventType]:
        do = decision.do
        cleared: list[EventType] = [SlotSet("pending_offer", None)] if tracker.get_slot("pending_offer") else []
        if do in self.gated:
            return [*cleared, *await self.gated[do].handle(dispatcher, tracker, ctx, sure=decision.sure)]
        if do == "answer":
            return [*cleared, *await self.answering.run(dispatcher, tracker, ctx, offer=decision.offer)]
        if do == "smalltalk":
            dispatcher.utter_message(response=decision.response or "utter_how_can_help")
            return cleared
        if do == "safety":
            dispatcher.utter_message(response=f"utter_safety_{decision.response}")
            return [*cleared, SlotSet("misses", 0.0)]
        if do == "complaint":
            return [*cleared, *await self._complaint(dispatcher, tracker, ctx)]
        if do == "recommend":
            return [*cleared, *await self.recommender.run(dispatcher, tracker, ctx)]
        if do == "suitability":
            return [*cleared, *await self._suitability(dispatcher, tracker, ctx)]
        if do == "assessment" and entry == "action_start_assessment":
            return [*cleared, self._go(tracker)]
        dispatcher.utter_message(response="utter_assessment_offer")  # assessment_offer, or a start elsewhere
        return [SlotSet("pending_offer", "assessment")]

    @staticmethod
    def _go(tracker: Tracker) -> EventType:
        """Start the questionnaire, or resume it where it was stopped (its answers are kept)."""
        resume = any(tracker.get_slot(slot) is not None for slot in questionnaire().slots)
        return SlotSet(GO, "resume" if resume else "start")

    async def _complaint(self, dispatcher: CollectingDispatcher, tracker: Tracker, ctx: TurnContext) -> list[EventType]:
        """Sorry, how to complain (approved content, when it answers), the hotline; a follow-up is offered."""
        dispatcher.utter_message(response="utter_complain")
        quiet = CollectingDispatcher()
        events = await self.answering.run(quiet, tracker, ctx)
        for message in quiet.messages:
            custom = message.get("custom") or {}
            if custom.get("kind") == "answer":  # a decline would only muddle the apology
                dispatcher.utter_message(json_message=custom)
        focus = [e for e in events if e.get("name") == "product_focus"]
        return [*focus, *ask(dispatcher, action="action_handoff", question="utter_confirm_complaint_followup")]

    async def _suitability(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, ctx: TurnContext
    ) -> list[EventType]:
        level = await client_level(self.flows, tracker, ctx)
        named = self.flows.find_products(ctx.text)
        focus = slot_codes(tracker, "product_focus")[:1]
        products = above_level(named or [p for p in self.flows.products() if p.code in focus], level)
        if level is None or not products:
            return await self.answering.run(dispatcher, tracker, ctx)
        return explain_suitability(dispatcher, products, level, ctx.language)


class EntryAction(Action):
    """An action Rasa's rules name for a family of intents; the router decides what the turn gets."""

    def __init__(self, name: str, router: Router) -> None:
        self._name = name
        self._router = router

    def name(self) -> str:
        return self._name

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        return await self._router.respond(dispatcher, tracker, turn_context(tracker), entry=self._name)
