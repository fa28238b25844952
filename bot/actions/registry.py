"""Builds the action executor with services injected into the actions."""

from __future__ import annotations

from rasa_sdk.executor import ActionExecutor

from bot.actions.answer import Answerer
from bot.actions.confirm import ActionConfirm
from bot.actions.kyc import ActionAskQuestion, ActionSubmitRiskAssessment, ValidateRiskAssessmentForm
from bot.actions.router import ENTRY_ACTIONS, EntryAction, Router
from bot.actions.session import ActionSessionStart
from bot.dialogue.second_opinion import SecondOpinion
from bot.flows import DialogueFlows
from bot.kyc.models import questionnaire


def build_executor(
    *, answerer: Answerer, flows: DialogueFlows, second_opinion: SecondOpinion | None = None
) -> ActionExecutor:
    """All custom actions the domain declares, each holding only the services it needs."""
    executor = ActionExecutor()
    router = Router(flows=flows, answerer=answerer, second_opinion=second_opinion)
    for action in (
        ActionSessionStart(),
        *(EntryAction(name, router) for name in ENTRY_ACTIONS),
        *(ActionAskQuestion(slot) for slot in questionnaire().slots),
        ValidateRiskAssessmentForm(router),
        ActionSubmitRiskAssessment(flows, router),
        ActionConfirm(router.gated.values()),
    ):
        executor.register_action(action)
    return executor
