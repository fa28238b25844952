"""Builds the action executor with services injected into the actions."""

from __future__ import annotations

from rasa_sdk.executor import ActionExecutor

from bot.actions.advice import ActionRecommend, ActionRecordInterest
from bot.actions.answer import ActionAnswerQuestion, Answerer
from bot.actions.confirm import ActionConfirm
from bot.actions.contact import ActionEndConversation, ActionHandoff, ActionOptOut, ActionScheduleCallback
from bot.actions.kyc import ActionAskQuestion, ActionSubmitRiskAssessment, ValidateRiskAssessmentForm
from bot.actions.session import ActionSessionStart
from bot.flows import DialogueFlows
from bot.kyc.models import questionnaire


def build_executor(*, answerer: Answerer, flows: DialogueFlows) -> ActionExecutor:
    """All custom actions the domain declares, each holding only the services it needs."""
    executor = ActionExecutor()
    recommend = ActionRecommend(flows)
    gated = (
        ActionRecordInterest(flows),
        ActionHandoff(flows),
        ActionOptOut(flows),
        ActionScheduleCallback(flows),
        ActionEndConversation(flows),
    )
    for action in (
        ActionSessionStart(),
        ActionAnswerQuestion(answerer, flows),
        *(ActionAskQuestion(slot) for slot in questionnaire().slots),
        ValidateRiskAssessmentForm(),
        ActionSubmitRiskAssessment(flows, recommend),
        recommend,
        *gated,
        ActionConfirm(gated),
    ):
        executor.register_action(action)
    return executor
