"""Console pages (/console/...): login, leads, content status, compliance audit, training.

Handlers are thin: each reads through the owning domain's service (leads.service, the knowledge ingest
report, the audit log, the training service) and renders a template. Blocking reads run in plain `def`
handlers (FastAPI's thread pool); the training service is async already.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated
from urllib.parse import parse_qsl, urlencode, urlsplit
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import FileResponse, RedirectResponse, Response, StreamingResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session

from bot.console import charts
from bot.console import sessions as console_sessions
from bot.console.auth import COOKIE, Principal
from bot.console.deps import (
    PLOTLY_JS,
    PLOTLY_URL,
    AuthDep,
    PageAdmin,
    PageLogin,
    PageUser,
    identify,
    labels,
    render,
)
from bot.console.service import audit_log, knowledge_overview
from bot.db import transaction, utcnow
from bot.deps import RowId, SessionsDep, SettingsDep
from bot.errors import InputError
from bot.leads import service as leads
from bot.leads.errors import LeadNotFound, TransitionNotAllowed
from bot.leads.models import TRANSITIONS, LeadFilters
from bot.leads.queries import LeadListQuery, LeadQuery
from bot.roleplay.schemas import TeamView
from bot.settings import Settings

STATIC = Path(__file__).parent / "static"
_ASSETS = {
    "console.css": "text/css; charset=utf-8",
    "console.js": "text/javascript; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
_LEAD_PARAMS = ("status", "type", "channel", "advisor_id", "created_from", "created_to")
UNASSIGNED = "-"  # the advisor filter's value for "no advisor yet"

router = APIRouter(prefix="/console", include_in_schema=False)


# -- login ------------------------------------------------------------------------------------


def _safe_next(target: str | None, principal: Principal | None = None) -> str:
    """Only back into the console or the training pages (no open redirect to another site)."""
    if target and target.startswith(("/console", "/training")) and not target.startswith("//") and "\\" not in target:
        return target
    return "/training" if principal is not None and principal.role == "advisor" else "/console/leads"


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html", principal=identify(request), next=_safe_next(next), error=None)


@router.post("/login")
def login(
    request: Request,
    auth: AuthDep,
    settings: SettingsDep,
    sessions: SessionsDep,
    username: Annotated[str, Form(max_length=128)] = "",
    password: Annotated[str, Form(max_length=512)] = "",
    next: Annotated[str, Form(max_length=2048)] = "",
) -> Response:
    """Check the password (scrypt, in this worker thread), open a server-side session, set the cookie.

    Repeated failures from one address for one user are slowed down (429 with Retry-After), never locked.
    """
    wait = auth.retry_after(username, _address(request)) if username else 0.0
    if wait > 0:
        seconds = math.ceil(wait)
        error = f"尝试次数过多，请 {seconds} 秒后再试 / Too many attempts; try again in {seconds} s"
        slowed = render(request, "login.html", principal=None, next=_safe_next(next), error=error, status_code=429)
        slowed.headers["Retry-After"] = str(seconds)
        return slowed
    principal = auth.login(username, password, address=_address(request)) if username and password else None
    if principal is None:
        error = "用户名或密码错误 / Wrong username or password"
        if not auth.configured:
            error = "控制台未配置用户 / No console users configured (see .env.example: ADVISOR_CONSOLE__USERS)"
        return render(request, "login.html", principal=None, next=_safe_next(next), error=error, status_code=401)
    with transaction(sessions) as db:
        console_sessions.open_session(
            db, session_id=principal.nonce, username=principal.name, now=utcnow(), ttl=timedelta(seconds=auth.max_age_s)
        )
    response = RedirectResponse(_safe_next(next, principal), status_code=status.HTTP_303_SEE_OTHER)
    response.set_cookie(
        COOKIE,
        auth.cookie_for(principal),
        max_age=auth.max_age_s,
        path="/",  # the training pages and API share the console's login
        httponly=True,
        samesite="strict",
        secure=settings.app.public_base_url.startswith("https://"),
    )
    response.delete_cookie(COOKIE, path="/console")  # an older release scoped it there; it would shadow this one
    return response


@router.post("/logout")
def logout(
    principal: PageLogin, auth: AuthDep, sessions: SessionsDep, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    """End the session server-side (the old cookie is refused from now on, in every process)."""
    if not auth.check_csrf(principal, csrf_token):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or invalid CSRF token")
    if principal.via == "session":
        with transaction(sessions) as db:
            console_sessions.revoke(db, session_id=principal.nonce, now=utcnow())
    response = RedirectResponse("/console/login", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("")
@router.get("/")
def home(principal: PageLogin) -> Response:
    return RedirectResponse(_safe_next(None, principal), status_code=status.HTTP_303_SEE_OTHER)


# -- assets (public: a chart library and a style sheet hold nothing confidential) --------------


@router.get("/assets/{name}")
def asset(name: str) -> Response:
    """plotly.js from the installed plotly package (versioned URL: cached for a year), our CSS and JS."""
    if name == PLOTLY_URL.rsplit("/", 1)[1]:
        return FileResponse(
            PLOTLY_JS,
            media_type="text/javascript; charset=utf-8",
            headers={"Cache-Control": "public, max-age=31536000, immutable"},
        )
    if name in _ASSETS:
        return FileResponse(STATIC / name, media_type=_ASSETS[name], headers={"Cache-Control": "public, max-age=300"})
    raise HTTPException(status.HTTP_404_NOT_FOUND, "no such asset")


# -- leads ------------------------------------------------------------------------------------


def lead_query(request: Request, *, paged: bool) -> tuple[LeadQuery | None, str | None]:
    """The filter form's values (blank fields ignored) as the leads API's own query model."""
    data: dict[str, str] = {k: v.strip() for k in _LEAD_PARAMS if (v := request.query_params.get(k)) and v.strip()}
    if data.get("advisor_id") == UNASSIGNED:
        del data["advisor_id"]
        data["unassigned"] = "true"
    if paged and (page := request.query_params.get("page", "").strip()):
        data["page"] = page
    try:
        return (LeadListQuery if paged else LeadQuery).model_validate(data), None
    except ValidationError as exc:
        return None, "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())


def lead_filters(query: LeadQuery, settings: Settings) -> LeadFilters:
    """Raises InputError for an empty date range (from ≥ to)."""
    try:
        return query.to_filters(ZoneInfo(settings.dialogue.timezone))
    except ValidationError as exc:
        raise InputError("; ".join(e["msg"] for e in exc.errors())) from exc


def known_advisors(session: Session, settings: Settings) -> list[str]:
    """Advisors to filter by: those with leads, and those the assignment rules may pick."""
    configured = {
        *settings.leads.assignment.roster,
        *(a for team in settings.leads.assignment.by_segment.values() for a in team),
    }
    return sorted({*leads.advisors(session), *configured})


@router.get("/leads")
def leads_page(request: Request, principal: PageUser, sessions: SessionsDep, settings: SettingsDep) -> Response:
    """Leads with how to reach the client and who follows up; contact details masked for viewers."""
    query, error = lead_query(request, paged=True)
    page = None
    with sessions() as session:
        if query is not None:
            try:
                filters = lead_filters(query, settings)
                assert isinstance(query, LeadListQuery)
                page = leads.list_leads(session, filters=filters, page=query.page, page_size=query.page_size)
            except InputError as exc:
                error = str(exc)
        advisors = known_advisors(session, settings)
    if page is not None and not principal.allows("admin"):
        page = page.model_copy(update={"items": [leads.masked(lead) for lead in page.items]})
    params = {k: request.query_params.get(k, "") for k in _LEAD_PARAMS}
    export_qs = urlencode({k: v for k, v in params.items() if v})
    return render(
        request,
        "leads.html",
        principal=principal,
        page=page,
        error=error,
        params=params,
        export_qs=export_qs,
        advisors=advisors,
        unassigned=UNASSIGNED,
        # forward first (new → contacted before closed), so the preselected choice is the usual next step
        transitions={k: sorted(v, key=list(TRANSITIONS).index) for k, v in TRANSITIONS.items()},
        flash=request.query_params.get("flash"),
        page_qs=lambda n: urlencode({**{k: v for k, v in params.items() if v}, "page": n}),
    )


def _back_with(back: str, flash: str) -> str:
    """The leads page the form came from, with a one-off message."""
    parts = urlsplit(back if back.startswith("/console/leads") else "/console/leads")
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "flash"] + [("flash", flash)]
    return f"{parts.path}?{urlencode(query)}"


@router.post("/leads/{lead_id}/status")
def change_status(
    lead_id: RowId,
    principal: PageAdmin,
    auth: AuthDep,
    sessions: SessionsDep,
    status_: Annotated[str, Form(alias="status", max_length=16)],
    csrf_token: Annotated[str, Form()] = "",
    back: Annotated[str, Form(max_length=2048)] = "/console/leads",
) -> Response:
    """Move a lead along its life cycle (same rules and CRM event as the leads API)."""
    if not auth.check_csrf(principal, csrf_token):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or invalid CSRF token")
    name = labels()["lead_statuses"].get(status_, status_)
    try:
        with transaction(sessions) as session:
            leads.update_status(session, lead_id=lead_id, status=status_)
        flash = f"线索 #{lead_id} 已更新为「{name}」 / Lead #{lead_id} set to {name.split(' ', 1)[-1]}"
    except LeadNotFound:
        flash = f"线索 #{lead_id} 不存在 / Lead #{lead_id} not found"
    except (TransitionNotAllowed, InputError) as exc:
        flash = f"无法更新 / Not changed: {exc}"
    return RedirectResponse(_back_with(back, flash), status_code=status.HTTP_303_SEE_OTHER)


@router.get("/leads/export.csv")
def export_leads(request: Request, principal: PageUser, sessions: SessionsDep, settings: SettingsDep) -> Response:
    """The filtered leads as CSV, through the leads service's own exporter (contacts masked for viewers)."""
    query, error = lead_query(request, paged=False)
    if query is None:
        raise InputError(error or "invalid filters")
    filters = lead_filters(query, settings)
    tz = ZoneInfo(settings.dialogue.timezone)

    mask = not principal.allows("admin")

    def chunks() -> Iterator[str]:
        with sessions() as session:
            yield from leads.export_csv(session, filters=filters, tz=tz, mask_contact=mask)

    stamp = datetime.now(tz).strftime("%Y%m%d-%H%M")
    return StreamingResponse(
        chunks(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="leads-{stamp}.csv"', "Cache-Control": "no-store"},
    )


# -- content, audit, training ---------------------------------------------------------------


@router.get("/knowledge")
def knowledge_page(request: Request, principal: PageUser, settings: SettingsDep) -> Response:
    overview = knowledge_overview(
        report_path=settings.data_dir / "knowledge" / "last_ingest.json",
        default_source=settings.knowledge.source_dir,
        today=datetime.now(ZoneInfo(settings.knowledge.timezone)).date(),
        expiring_days=settings.console.expiring_days,
    )
    return render(request, "knowledge.html", principal=principal, kb=overview)


@router.get("/audit")
def audit_page(
    request: Request,
    principal: PageUser,
    settings: SettingsDep,
    rule: str | None = None,
    channel: str | None = None,
) -> Response:
    log = audit_log(
        settings.data_dir / "audit" / "compliance.jsonl",
        show_text=principal.allows("admin"),
        rule=rule or None,
        channel=channel or None,
    )
    figure = (
        charts.counts_bar("按规则拦截次数 Blocks by rule", log.by_rule, labels=labels()["rules"])
        if log.by_rule
        else None
    )
    return render(
        request,
        "audit.html",
        principal=principal,
        log=log,
        rule=rule or "",
        channel=channel or "",
        figure=figure,
        charts=figure is not None,
    )


async def team_view(request: Request, advisor_ids: list[str]) -> TeamView | None:
    """The training service's team view, or None when the training service is not running."""
    training = getattr(request.app.state, "training", None)
    if training is None:
        return None
    view: TeamView = await training.team(advisor_ids)
    return view


@router.get("/training")
async def training_page(request: Request, principal: PageUser, advisor: str = "") -> Response:
    advisor_ids = [a.strip() for a in advisor.replace("，", ",").split(",") if a.strip()]
    team = await team_view(request, advisor_ids)
    worst = sorted(team.criteria, key=lambda c: c.average / c.max if c.max else 0)[:3] if team else []
    figure = charts.training_criteria(team.criteria) if team and team.criteria else None
    return render(
        request,
        "training.html",
        principal=principal,
        team=team,
        worst=worst,
        figure=figure,
        advisor=advisor,
        charts=figure is not None,
    )
