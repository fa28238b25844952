"""The risk pre-assessment form, forgiving: every step shows tap-to-answer options, answers are read in
the client's own words (bot/kyc/parse.py), and what is not an answer is handled, never lost.

Mid-form: a question is answered and the same step asked again; a greeting is returned and the step
asked again; "不想做了/先不测了/cancel" stops cleanly (the answers so far are kept, and the bot says how
to resume); safety, a request for a person or an opt-out leave the form and are handled; anything else
re-asks the step with its options. The form never gives up on its own.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.advice import LEVEL_NAMES
from bot.actions.context import TurnContext, turn_context
from bot.dialogue.cues import cues
from bot.dialogue.policy import in_form
from bot.flows import DialogueFlows
from bot.kyc.models import LETTERS, Question, option_index, questionnaire
from bot.kyc.service import parse_answer, score

if TYPE_CHECKING:
    from bot.actions.router import Router

EXIT = "assessment_exit"
# Decisions that take the client out of the form (the rest of the turn is theirs).
_LEAVES = frozenset({"safety", "complaint", "handoff", "opt_out", "interest", "callback"})


def step_message(question: Question) -> dict[str, Any]:
    """One step: the question with its lettered options, and a button per option whose payload is the
    option's own text (what the parser reads back), in both languages."""
    return {
        "zh": question.text("zh"),
        "en": question.text("en"),
        "kind": "question",
        "buttons": [
            {
                "title": {"zh": f"{LETTERS[i]}. {o.label.zh}", "en": f"{LETTERS[i]}. {o.label.en}"},
                "payload": {"zh": o.label.zh, "en": o.label.en},
            }
            for i, o in enumerate(question.options)
        ],
    }


class ActionAskQuestion(Action):
    """action_ask_<slot>: the question text comes from bot/kyc/questionnaire.yml, in both languages."""

    def __init__(self, slot: str) -> None:
        self._question = questionnaire().question(slot)

    def name(self) -> str:
        return f"action_ask_{self._question.slot}"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        dispatcher.utter_message(json_message=step_message(self._question))
        return []


class ValidateRiskAssessmentForm(Action):
    """Maps free text to an option; anything else is handled (see the module) and the step kept."""

    def __init__(self, router: Router) -> None:
        self._router = router

    def name(self) -> str:
        return "validate_risk_assessment_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        events: list[EventType] = []
        slots = set(questionnaire().slots)
        for slot, value in tracker.slots_to_validate().items():
            if slot not in slots or value is None:
                continue
            loose = not cues().has("asks", str(value))  # a keyword inside a question is no answer
            choice = parse_answer(questionnaire().question(slot), str(value), loose=loose)
            if choice is not None:
                # Stored as the option's letter: when the form resumes, Rasa validates answers already
                # given, and a letter reads back as the same option (a digit "1" would read as option A).
                events.append(SlotSet(slot, LETTERS[choice]))
                continue
            events.append(SlotSet(slot, None))
            events += await self._not_an_answer(dispatcher, tracker, turn_context(tracker))
        return events

    async def _not_an_answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, ctx: TurnContext
    ) -> list[EventType]:
        kind = in_form(ctx.text, ctx.intent, ctx.confidence)
        if kind == "cancel":
            return [SlotSet("requested_slot", None), SlotSet(EXIT, "cancelled")]
        decision = await self._router.decide(tracker, ctx)
        if decision.do in _LEAVES and (decision.sure or decision.do in ("safety", "complaint", "opt_out", "handoff")):
            done = await self._router.perform(decision, dispatcher, tracker, ctx, entry=self.name())
            return [SlotSet("requested_slot", None), SlotSet(EXIT, "interrupted"), *done]
        if kind == "question" or self._router.flows.find_products(ctx.text):
            answered = await self._router.answering.run(dispatcher, tracker, ctx)
            return [e for e in answered if e.get("name") == "product_focus"]  # no hand-off offers mid-form
        if kind == "greet":
            dispatcher.utter_message(response="utter_assessment_greet")
            return []
        dispatcher.utter_message(response="utter_assessment_retry")
        return []


class ActionSubmitRiskAssessment(Action):
    """Completed: scores C1–C5, stores the result with its date, says it is a pre-assessment (and gives
    the suggestions the client came for). Stopped: says how to resume; the answers so far are kept."""

    def __init__(self, flows: DialogueFlows, recommend: Router) -> None:
        self._flows = flows
        self._router = recommend

    def name(self) -> str:
        return "action_submit_risk_assessment"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        slots = questionnaire().slots
        found = {slot: option_index(tracker.get_slot(slot)) for slot in slots}
        exit_reason = tracker.get_slot(EXIT)
        reset: list[EventType] = [SlotSet(EXIT, None), SlotSet("assessment_go", None)]
        if any(index is None for index in found.values()):  # stopped before the end: answers kept
            if exit_reason != "interrupted":
                answered = sum(index is not None for index in found.values())
                dispatcher.utter_message(response="utter_assessment_cancelled", answered=str(answered))
            return [*reset, SlotSet("pending_offer", None)]
        answers = {slot: index for slot, index in found.items() if index is not None}
        level, total = score(answers, self._flows.settings.risk_level_thresholds)
        ctx = turn_context(tracker)
        await self._flows.save_assessment(
            client_key=ctx.client_key, level=level, score=total, answers=answers, assessed_at=datetime.now(UTC)
        )
        name_zh, name_en = LEVEL_NAMES[level]
        dispatcher.utter_message(
            response="utter_assessment_result", level=level, level_name_zh=name_zh, level_name_en=name_en
        )
        # The next assessment starts afresh: the result is stored (answers with it).
        events: list[EventType] = [*reset, SlotSet("risk_level", level), SlotSet("stated_level", None)]
        events += [SlotSet(slot, None) for slot in slots]
        if tracker.get_slot("pending_offer") == "assessment":  # they came for suggestions: give them now
            tracker.slots["risk_level"] = level
            events += await self._router.recommender.run(dispatcher, tracker, ctx)
        return [*events, SlotSet("pending_offer", None)]
