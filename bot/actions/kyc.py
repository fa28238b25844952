"""The risk pre-assessment form: ask, validate (re-ask on nonsense, offer an advisor after 3), submit."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.context import turn_context
from bot.flows import DialogueFlows
from bot.kyc.models import questionnaire
from bot.kyc.service import parse_answer, score

LEVEL_NAMES = {
    "C1": ("保守型", "conservative"),
    "C2": ("稳健型", "cautious"),
    "C3": ("平衡型", "balanced"),
    "C4": ("成长型", "growth"),
    "C5": ("进取型", "aggressive"),
}
MAX_FAILURES = 3


class ActionAskQuestion(Action):
    """action_ask_<slot>: the question text comes from bot/kyc/questionnaire.yml, in both languages."""

    def __init__(self, slot: str) -> None:
        self._question = questionnaire().question(slot)

    def name(self) -> str:
        return f"action_ask_{self._question.slot}"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        dispatcher.utter_message(json_message={"zh": self._question.zh, "en": self._question.en, "kind": "question"})
        return []


class ValidateRiskAssessmentForm(Action):
    """Maps free text to an option; nonsense is re-asked, and the third failure stops the form."""

    def name(self) -> str:
        return "validate_risk_assessment_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        events: list[EventType] = []
        failures = int(tracker.get_slot("assessment_failures") or 0)
        slots = set(questionnaire().slots)
        for slot, value in tracker.slots_to_validate().items():
            if slot not in slots or value is None:
                continue
            choice = parse_answer(questionnaire().question(slot), str(value))
            if choice is not None:
                events.append(SlotSet(slot, str(choice)))
                continue
            failures += 1
            events.append(SlotSet(slot, None))
            if failures >= MAX_FAILURES:
                dispatcher.utter_message(response="utter_assessment_abandoned")
                events.append(SlotSet("requested_slot", None))
            else:
                dispatcher.utter_message(response="utter_assessment_retry")
        return [*events, SlotSet("assessment_failures", float(failures))]


class ActionSubmitRiskAssessment(Action):
    """Scores the answers to C1–C5, stores the result with its date, and states it is a pre-assessment."""

    def __init__(self, flows: DialogueFlows, recommend: Action) -> None:
        self._flows = flows
        self._recommend = recommend

    def name(self) -> str:
        return "action_submit_risk_assessment"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        slots = questionnaire().slots
        reset = [SlotSet("assessment_failures", 0.0), SlotSet("pending_offer", None)]
        raw = {slot: tracker.get_slot(slot) for slot in slots}
        if any(value is None for value in raw.values()):  # abandoned after repeated nonsense
            return [*reset, *(SlotSet(slot, None) for slot in slots)]
        answers = {slot: int(str(value)) for slot, value in raw.items()}
        level, total = score(answers, self._flows.settings.risk_level_thresholds)
        ctx = turn_context(tracker)
        await self._flows.save_assessment(
            client_key=ctx.client_key,
            level=level,
            score=total,
            answers=answers,
            assessed_at=datetime.now(UTC),
        )
        name_zh, name_en = LEVEL_NAMES[level]
        dispatcher.utter_message(
            response="utter_assessment_result", level=level, level_name_zh=name_zh, level_name_en=name_en
        )
        events: list[EventType] = [*reset, SlotSet("risk_level", level)]
        if tracker.get_slot("pending_offer") == "assessment":  # they came for suggestions: give them now
            tracker.slots["risk_level"] = level
            events += await self._recommend.run(dispatcher, tracker, domain)
        return events
