"""Console plumbing: who is asking (cookie or API key), role checks, templates and labels.

Pages redirect an anonymous visitor to the login page (303); APIs answer 401. A viewer asking for an
admin action gets 403, and so does an advisor asking for an operations page (advisors train only).
The same login guards the training pages and API (bot/roleplay/views.py).
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import plotly
import yaml
from fastapi import Depends, HTTPException, Request, status
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup
from sqlalchemy.orm import Session, sessionmaker

from bot.console import sessions as console_sessions
from bot.console.auth import COOKIE, ConsoleAuth, Principal
from bot.console.service import json_dumps
from bot.db import utcnow
from bot.deps import get_app_settings
from bot.settings import Settings

HERE = Path(__file__).parent
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
PLOTLY_URL = f"/console/assets/plotly-{plotly.__version__}.min.js"
_env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))
_env.filters["tojson_script"] = json_dumps


@pass_context
def _localtime(context: Context, value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> Markup:
    """A time in the bank's zone (dialogue.timezone), always labelled with its UTC offset."""
    if value is None:
        return Markup("—")
    local = value.astimezone(context["tz"])
    offset = local.strftime("%z")
    return Markup('<time datetime="{}" title="{}">{} <small class="tz">UTC{}:{}</small></time>').format(
        value.isoformat(), context["tz"].key, local.strftime(fmt), offset[:3], offset[3:]
    )


_env.filters["localtime"] = _localtime
SECURITY_HEADERS = {
    # plotly.js sets inline styles on the elements it draws; scripts come only from the app itself.
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@lru_cache(maxsize=1)
def labels() -> dict[str, dict[str, str]]:
    """Bilingual labels (labels.yml), read once."""
    data: dict[str, dict[str, str]] = yaml.safe_load((HERE / "labels.yml").read_text(encoding="utf-8"))
    return data


def get_auth(request: Request) -> ConsoleAuth:
    auth: ConsoleAuth = request.app.state.console_auth
    return auth


def identify(request: Request) -> Principal | None:
    """The principal behind an X-API-Key header or the session cookie; None if neither is valid.

    A cookie counts only while its server-side session is open (a database read: call it from a
    plain `def` dependency or handler, which FastAPI runs in its thread pool).
    """
    auth = get_auth(request)
    key = request.headers.get("x-api-key")
    if key:
        return auth.from_api_key(key)
    cookie = request.cookies.get(COOKIE)
    principal = auth.from_cookie(cookie) if cookie else None
    sessions: sessionmaker[Session] | None = getattr(request.app.state, "sessions", None)
    if principal is None or sessions is None:
        return None
    with sessions() as db:
        active = console_sessions.is_active(db, session_id=principal.nonce, now=utcnow())
    return principal if active else None


def _login_redirect(request: Request) -> HTTPException:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return HTTPException(
        status.HTTP_303_SEE_OTHER,
        "login required / 请先登录",
        headers={"Location": f"/console/login?next={quote(target, safe='')}"},
    )


_OPS_ONLY = "operations staff only / 仅限运营人员"


def page_login(request: Request) -> Principal:
    """Anyone logged in (or a key); otherwise off to the login page."""
    principal = identify(request)
    if principal is None:
        raise _login_redirect(request)
    return principal


def page_viewer(principal: Annotated[Principal, Depends(page_login)]) -> Principal:
    """Operations pages: viewers and admins (advisors get 403)."""
    if not principal.allows("viewer"):
        raise HTTPException(status.HTTP_403_FORBIDDEN, _OPS_ONLY)
    return principal


def page_admin(principal: Annotated[Principal, Depends(page_viewer)]) -> Principal:
    if not principal.allows("admin"):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "admins only / 仅限管理员")
    return principal


def api_login(request: Request) -> Principal:
    """Any valid key or session; otherwise 401. A cookie session changing something (any method but
    GET/HEAD) must also send its CSRF token as X-CSRF-Token."""
    principal = identify(request)
    if principal is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "login or X-API-Key required / 需要登录或 API 密钥",
            headers={"WWW-Authenticate": "APIKey"},
        )
    if request.method not in {"GET", "HEAD"} and not get_auth(request).check_csrf(
        principal, request.headers.get("x-csrf-token")
    ):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or invalid CSRF token")
    return principal


def api_viewer(principal: Annotated[Principal, Depends(api_login)]) -> Principal:
    """Operations APIs: viewers and admins."""
    if not principal.allows("viewer"):
        raise HTTPException(status.HTTP_403_FORBIDDEN, _OPS_ONLY)
    return principal


def api_admin(principal: Annotated[Principal, Depends(api_viewer)]) -> Principal:
    """Admins only (the CSRF token is checked by api_login)."""
    if not principal.allows("admin"):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "admins only / 仅限管理员")
    return principal


PageLogin = Annotated[Principal, Depends(page_login)]
PageUser = Annotated[Principal, Depends(page_viewer)]
PageAdmin = Annotated[Principal, Depends(page_admin)]
ApiLogin = Annotated[Principal, Depends(api_login)]
ApiUser = Annotated[Principal, Depends(api_viewer)]
ApiAdmin = Annotated[Principal, Depends(api_admin)]
AuthDep = Annotated[ConsoleAuth, Depends(get_auth)]


def bank_zone(settings: Settings) -> ZoneInfo:
    """The zone every console time is shown in: the bank's (dialogue.timezone)."""
    return ZoneInfo(settings.dialogue.timezone)


def render(
    request: Request, template: str, *, principal: Principal | None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """A page with the common context (user, role, CSRF token, labels, the bank's zone) and the security headers."""
    auth = get_auth(request)
    zone = bank_zone(get_app_settings(request))
    html = _env.get_template(template).render(
        request=request,
        user=principal,
        is_admin=bool(principal and principal.allows("admin")),
        csrf=auth.csrf_token(principal) if principal and principal.via == "session" else "",
        labels=labels(),
        path=request.url.path,
        plotly_url=PLOTLY_URL,
        tz=zone,
        tz_label=f"{zone.key} UTC{datetime.now(zone).strftime('%z')[:3]}",
        **context,
    )
    return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)
