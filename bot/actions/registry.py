"""Builds the action executor with services injected into the actions."""

from __future__ import annotations

from rasa_sdk.executor import ActionExecutor

from bot.actions.answer import ActionAnswerQuestion, Answerer
from bot.actions.session import ActionSessionStart


def build_executor(*, answerer: Answerer) -> ActionExecutor:
    """All custom actions the domain declares, each holding only the services it needs."""
    executor = ActionExecutor()
    executor.register_action(ActionSessionStart())
    executor.register_action(ActionAnswerQuestion(answerer))
    return executor
