"""Training pages (/training) and API (/api/training/...): thin handlers over TrainingService.

Behind the console's login (bot/console/deps.py): pages send an anonymous visitor to the login page,
the API answers 401, and a cookie session's POSTs need its CSRF token (X-CSRF-Token). An advisor
account reads and writes only its own sessions (its advisor id comes from the account, never from
the request); admins read everyone's; the team's averages are for operations staff (viewer, admin).
`advisor roleplay` in a terminal uses the service directly and needs no login.

The service is built once by the app's lifespan (bot/app.py) and reaches these handlers through
``TrainingDep`` (bot/deps.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

from fastapi import APIRouter, HTTPException, Query, status
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from bot.console.auth import Principal
from bot.console.deps import ApiLogin, ApiUser, AuthDep, PageLogin
from bot.deps import TrainingDep
from bot.roleplay.personas import PersonaCard
from bot.roleplay.schemas import (
    MessageRequest,
    ReplyView,
    Report,
    SessionSummary,
    SessionView,
    StartRequest,
    TeamView,
    TranscriptTurn,
)
from bot.roleplay.service import TrainingService

STATIC_DIR = Path(__file__).parent / "static"
_ASSETS = {"training.js": "text/javascript", "training.css": "text/css"}
SessionId = Annotated[str, PathParam(pattern=r"^[0-9a-f]{32}$")]
AdvisorId = Annotated[str, PathParam(min_length=1, max_length=128, pattern=r"^[\w.:@-]+$")]


router = APIRouter(tags=["training"])


class ScoreRequest(BaseModel):
    """A transcript to score without storing it."""

    persona_id: str | None = Field(default=None, max_length=64)
    turns: list[TranscriptTurn] = Field(min_length=1, max_length=400)


def _page() -> FileResponse:
    return FileResponse(STATIC_DIR / "training.html", media_type="text/html; charset=utf-8")


def _forbid(message: str) -> NoReturn:
    raise HTTPException(status.HTTP_403_FORBIDDEN, message)


def _trainee(principal: Principal) -> str:
    """The advisor id a user trains under: their account's, never one from the request."""
    if not principal.advisor_id:
        _forbid("only advisor accounts can practise / 仅理财经理账号可以练习")
    return principal.advisor_id


def _may_read(principal: Principal, advisor_id: str) -> None:
    if not (principal.allows("admin") or principal.advisor_id == advisor_id):
        _forbid("not your training session / 这不是您的练习记录")


async def _own_session(training: TrainingService, session_id: str, principal: Principal) -> None:
    """Only the advisor a session belongs to may write into it."""
    owner = await training.advisor_of(session_id)
    if owner != principal.advisor_id:
        _forbid("not your training session / 这不是您的练习记录")


@router.get("/training", include_in_schema=False)
async def training_page(_: PageLogin) -> FileResponse:
    """The training page (one static page; its script picks the view from the path)."""
    return _page()


@router.get("/training/sessions/{session_id}", include_in_schema=False)
async def report_page(session_id: SessionId, _: PageLogin) -> FileResponse:
    """A session: the conversation if active, its report once ended."""
    return _page()


@router.get("/training/team", include_in_schema=False)
async def team_page(_: PageLogin) -> FileResponse:
    """The team view."""
    return _page()


@router.get("/training/assets/{name}", include_in_schema=False)
async def asset(name: str) -> FileResponse:
    """The page's script and style (a fixed list: nothing else in the folder is served; no login needed)."""
    if name not in _ASSETS:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such asset")
    return FileResponse(STATIC_DIR / name, media_type=f"{_ASSETS[name]}; charset=utf-8")


@router.get("/api/training/me")
async def me(principal: ApiLogin, auth: AuthDep) -> dict[str, str | None]:
    """Who is training, and the CSRF token the page sends with its POSTs."""
    csrf = auth.csrf_token(principal) if principal.via == "session" else None
    return {"name": principal.name, "role": principal.role, "advisor_id": principal.advisor_id, "csrf_token": csrf}


@router.get("/api/training/personas", response_model=list[PersonaCard])
async def personas(training: TrainingDep, _: ApiLogin) -> list[PersonaCard]:
    """Personas to train against (their risk level and hidden needs stay hidden)."""
    return training.cards()


@router.post("/api/training/sessions", response_model=SessionView, status_code=status.HTTP_201_CREATED)
async def start(body: StartRequest, training: TrainingDep, principal: ApiLogin) -> SessionView:
    """Start a session under the account's advisor id; the client speaks first."""
    advisor_id = _trainee(principal)
    if body.advisor_id is not None and body.advisor_id != advisor_id:
        _forbid("you can only start your own sessions / 只能以自己的工号练习")
    return await training.start(persona_id=body.persona_id, advisor_id=advisor_id, seed=body.seed)


@router.get("/api/training/sessions/{session_id}", response_model=SessionView)
async def session(session_id: SessionId, training: TrainingDep, principal: ApiLogin) -> SessionView:
    """A session with its transcript (and report once ended)."""
    view = await training.get(session_id)
    _may_read(principal, view.advisor_id)
    return view


@router.post("/api/training/sessions/{session_id}/messages", response_model=ReplyView)
async def say(session_id: SessionId, body: MessageRequest, training: TrainingDep, principal: ApiLogin) -> ReplyView:
    """One advisor message in, the client's reply out."""
    await _own_session(training, session_id, principal)
    return await training.say(session_id, body.text)


@router.post("/api/training/sessions/{session_id}/end", response_model=Report)
async def end(session_id: SessionId, training: TrainingDep, principal: ApiLogin) -> Report:
    """End the session and score it."""
    await _own_session(training, session_id, principal)
    return await training.end(session_id)


@router.get("/api/training/sessions/{session_id}/report", response_model=Report)
async def report(session_id: SessionId, training: TrainingDep, principal: ApiLogin) -> Report:
    """The stored report of an ended session."""
    view = await session(session_id, training, principal)
    if view.report is None:
        raise HTTPException(status.HTTP_409_CONFLICT, "session not ended yet; POST .../end to score it")
    return view.report


@router.post("/api/training/score", response_model=Report)
async def score(body: ScoreRequest, training: TrainingDep, _: ApiLogin) -> Report:
    """Score a transcript without storing it (same report as `advisor roleplay score --json`)."""
    return await training.score(body.turns, persona_id=body.persona_id)


@router.get("/api/training/advisors/{advisor_id}/sessions", response_model=list[SessionSummary])
async def history(advisor_id: AdvisorId, training: TrainingDep, principal: ApiLogin) -> list[SessionSummary]:
    """An advisor's sessions and scores, newest first (their own, or anyone's for an admin)."""
    _may_read(principal, advisor_id)
    return await training.history(advisor_id)


@router.get("/api/training/team", response_model=TeamView)
async def team(training: TrainingDep, _: ApiUser, advisor_id: Annotated[list[str] | None, Query()] = None) -> TeamView:
    """Averages per criterion and the most frequent violations (all advisors, or those listed): for
    operations staff, as on the console's training page."""
    return await training.team(advisor_id or ())
