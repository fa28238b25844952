"""The opt-out register in the console (/console/opt-outs): list, filter, export, and record one by phone.

Refusals come from chat, calls and WeCom by themselves; one a client gives on the hotline or at a
branch is entered here by an admin (CSRF-protected form), with the number, so it blocks that number in
every campaign at once. Viewers see numbers masked, in the page and in the export.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.console.deps import ApiUser, AuthDep, PageAdmin, PageUser, bank_zone, render
from bot.contacts import register
from bot.contacts.phones import normalize_phone
from bot.contacts.register import OptOutFilters, OptOutPage
from bot.contacts.service import opt_out
from bot.core.masking import mask_phone
from bot.db import transaction, utcnow
from bot.deps import SessionsDep, SettingsDep
from bot.errors import InputError
from bot.settings import Settings

router = APIRouter(prefix="/console", include_in_schema=False)
api = APIRouter(prefix="/console/api", tags=["console"])
_PARAMS = ("channel", "covers", "created_from", "created_to")
HOTLINE = "phone"  # the channel of a refusal received by phone and entered by staff


class OptOutQuery(BaseModel):
    """The page's filters; dates are whole days in the bank's zone."""

    model_config = ConfigDict(extra="forbid")

    channel: str | None = Field(default=None, max_length=32)
    covers: Literal["phone", "identity"] | None = None
    created_from: date | None = None
    created_to: date | None = None
    page: int = Field(default=1, ge=1)

    def filters(self, settings: Settings) -> OptOutFilters:
        zone = bank_zone(settings)
        since = datetime.combine(self.created_from, time(0), tzinfo=zone) if self.created_from else None
        until = datetime.combine(self.created_to + timedelta(days=1), time(0), tzinfo=zone) if self.created_to else None
        return OptOutFilters(channel=self.channel, covers=self.covers, since=since, until=until)


def _query(request: Request) -> tuple[OptOutQuery, str | None]:
    data = {k: v.strip() for k in (*_PARAMS, "page") if (v := request.query_params.get(k)) and v.strip()}
    try:
        return OptOutQuery.model_validate(data), None
    except ValidationError as exc:
        return OptOutQuery(), "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())


def _masked(page: OptOutPage, admin: bool) -> OptOutPage:
    if admin:
        return page
    items = [r.model_copy(update={"phone": mask_phone(r.phone) if r.phone else None}) for r in page.items]
    return page.model_copy(update={"items": items})


_EMPTY_FORM = {"phone": "", "client_id": "", "evidence": "", "received_at": "", "error": None}


def _page(
    request: Request,
    principal: PageUser,
    sessions: SessionsDep,
    settings: Settings,
    form: dict[str, str | None] | None = None,
) -> Response:
    """The register page; `form` refills the admin's form after a refused entry."""
    query, error = _query(request)
    with sessions() as session:
        page = register.list_opt_outs(session, filters=query.filters(settings), page=query.page)
    params = {k: request.query_params.get(k, "") for k in _PARAMS}
    return render(
        request,
        "optouts.html",
        principal=principal,
        page=_masked(page, principal.allows("admin")),
        params=params,
        error=error,
        export_qs=urlencode({k: v for k, v in params.items() if v}),
        page_qs=lambda n: urlencode({**{k: v for k, v in params.items() if v}, "page": n}),
        flash=request.query_params.get("flash"),
        form=form or _EMPTY_FORM,
    )


@router.get("/opt-outs")
def opt_outs_page(request: Request, principal: PageUser, sessions: SessionsDep, settings: SettingsDep) -> Response:
    """Every refusal of marketing received, newest first, with its channel, time and what it covers."""
    return _page(request, principal, sessions, settings)


@router.post("/opt-outs")
def record_by_phone(
    request: Request,
    principal: PageAdmin,
    auth: AuthDep,
    sessions: SessionsDep,
    settings: SettingsDep,
    phone: Annotated[str, Form(max_length=40)] = "",
    client_id: Annotated[str, Form(max_length=128)] = "",
    evidence: Annotated[str, Form(max_length=2000)] = "",
    received_at: Annotated[str, Form(max_length=32)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Admins: record a refusal received by phone (hotline, branch); the number is blocked everywhere."""
    if not auth.check_csrf(principal, csrf_token):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or invalid CSRF token")
    entered: dict[str, str | None] = {
        "phone": phone, "client_id": client_id, "evidence": evidence, "received_at": received_at
    }  # fmt: skip
    try:
        number = normalize_phone(phone)
        if number is None:
            raise InputError(
                "手机号无效 / not a phone number: 11 digits for mainland China, or +country code and number"
            )
        if not evidence.strip():
            raise InputError("请写明来源 / say how the refusal was received (e.g. 客户致电客服热线要求不再营销)")
        at = _received_at(received_at, settings)
        with transaction(sessions) as session:
            recorded = opt_out(
                session, client_key=client_id.strip() or f"phone:{number}", phone=number, channel=HOTLINE,
                evidence=evidence.strip(), recorded_by=f"console:{principal.name}", now=at,
            )  # fmt: skip
    except InputError as exc:
        form = {**entered, "error": str(exc)}
        response = _page(request, principal, sessions, settings, form=form)
        response.status_code = status.HTTP_422_UNPROCESSABLE_CONTENT
        return response
    shown = mask_phone(number)
    flash = (
        f"已登记：{shown} 今后不再接到营销电话和信息 / Recorded: {shown} is blocked in every campaign"
        if recorded.record is not None
        else f"{shown} 已在退订名单中 / {shown} had already opted out"
    )
    return RedirectResponse(f"/console/opt-outs?{urlencode({'flash': flash})}", status_code=status.HTTP_303_SEE_OTHER)


def _received_at(text: str, settings: Settings) -> datetime:
    """The form's local date-time (bank zone), defaulting to now; never in the future."""
    if not text.strip():
        return utcnow()
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError("接收时间格式无效 / received at: expected a date and time, e.g. 2026-12-01T10:30") from None
    at = parsed if parsed.tzinfo else parsed.replace(tzinfo=bank_zone(settings))
    if at > utcnow() + timedelta(minutes=5):
        raise InputError("接收时间不能晚于现在 / received at cannot be in the future")
    return at


@router.get("/opt-outs/export.csv")
def export_opt_outs(request: Request, principal: PageUser, sessions: SessionsDep, settings: SettingsDep) -> Response:
    """The filtered register as CSV (UTF-8 with BOM for Excel), times in the bank's zone; masked for viewers."""
    query, error = _query(request)
    if error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, error)
    filters, zone, mask = query.filters(settings), bank_zone(settings), not principal.allows("admin")

    def chunks() -> Iterator[str]:
        with sessions() as session:
            yield from register.export_csv(session, filters=filters, tz=zone, mask=mask)

    stamp = datetime.now(zone).strftime("%Y%m%d-%H%M")
    return StreamingResponse(
        chunks(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="opt-outs-{stamp}.csv"', "Cache-Control": "no-store"},
    )


@api.get("/opt-outs", response_model=OptOutPage)
def opt_outs_api(request: Request, principal: ApiUser, sessions: SessionsDep, settings: SettingsDep) -> OptOutPage:
    """The register as JSON (same filters as the page); numbers masked unless the caller is an admin."""
    query, error = _query(request)
    if error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, error)
    with sessions() as session:
        page = register.list_opt_outs(session, filters=query.filters(settings), page=query.page)
    return _masked(page, principal.allows("admin"))
