"""One error handler: our refusals carry their HTTP status and the app maps them once, in one shape."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.channels.voice.webhook import Rejected
from bot.compliance.rules import RulesFileError
from bot.error_handlers import install_error_handlers
from bot.errors import AdvisorError, ConfigError, InputError
from bot.leads.errors import LeadNotFound, TransitionNotAllowed
from bot.roleplay.service import TooManyTurns

REPO = Path(__file__).resolve().parents[2]


class PaymentRequired(InputError):
    status_code = 402


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (InputError("the campaign name must be 1-128 characters"), 422),
        (LeadNotFound("no lead 7"), 404),
        (TransitionNotAllowed("lead 7 cannot go from contacted to new"), 409),
        (TooManyTurns("the session reached 40 turns"), 409),
        (PaymentRequired("a subclass brings its own status"), 402),
    ],
)
def test_a_refusal_becomes_its_status_in_the_apps_error_shape(error: InputError, status: int) -> None:
    app = FastAPI()

    @app.get("/refuse")
    def refuse() -> None:
        raise error

    install_error_handlers(app)
    response = TestClient(app).get("/refuse")
    assert response.status_code == status
    assert response.json() == {"error": f"http_{status}", "detail": [{"field": "body", "problem": str(error)}]}


def test_rules_file_and_voice_refusals_are_in_the_error_tree() -> None:
    assert issubclass(RulesFileError, ConfigError) and issubclass(Rejected, InputError)
    assert issubclass(InputError, AdvisorError)


def _input_errors(trees: list[ast.Module]) -> set[str]:
    """Names of every class deriving (transitively, by name) from InputError in our code."""
    bases = {
        node.name: {b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases}
        for tree in trees
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
    }
    found = {"InputError"}
    while grown := {name for name, parents in bases.items() if parents & found} - found:
        found |= grown
    return found


def _caught(handler: ast.ExceptHandler) -> set[str]:
    types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return {t.id if isinstance(t, ast.Name) else getattr(t, "attr", "") for t in types if t is not None}


def test_no_router_translates_our_refusals_itself() -> None:
    paths = [*REPO.glob("bot/**/*.py"), *REPO.glob("telephony/**/*.py")]
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path in paths}
    ours = _input_errors(list(trees.values()))
    translated = [
        f"{path.relative_to(REPO)}:{handler.lineno}"
        for path, tree in trees.items()
        for handler in ast.walk(tree)
        if isinstance(handler, ast.ExceptHandler) and _caught(handler) & ours
        for node in ast.walk(handler)
        if isinstance(node, ast.Raise)
        and isinstance(node.exc, ast.Call)
        and getattr(node.exc.func, "id", "") == "HTTPException"
    ]
    assert translated == []
