"""The console's access page (Art. 77(2)): what each signed-in organisation decides or asks about access to
passport data. Makers decide access requests, see and revoke the grants they gave and read who read their passports;
legitimate-interest organisations see their purposes, grants and requests and ask for access; authorities read the
access log; administrators approve purposes. Every form posts with the session's CSRF token and calls the same
services as the API (passport/service/access_management.py), so the same rules and the same audit apply."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from passport.access import Role
from passport.errors import InvalidInput, PassportError, Unauthorized
from passport.service import access_management as access
from passport.service.access_control import SCOPES
from passport.service.access_json import access_json
from passport.service.context import ServiceContext
from passport.service.passports import parse_passport_id
from passport.service.sessions import Session, check_csrf, session_for
from passport.web.api_circularity import csv_response
from passport.web.console import SESSION_COOKIE, _guarded, _render
from passport.web.deps import Context

router = APIRouter(prefix="/console", include_in_schema=False)
LOG_ROWS = 50
DONE = {
    "requested": "Your request was sent to the responsible operator.",
    "approved": "The request was approved and a grant created.",
    "refused": "The request was refused.",
    "revoked": "The grant was revoked.",
    "purpose": "The purpose decision was recorded.",
}


def _page(context: ServiceContext, session: Session, done: str | None) -> dict[str, Any]:
    caller, store, now = session.caller, context.store, context.clock()
    organisation = caller.organisation
    values: dict[str, Any] = {
        "done": DONE.get(done or ""),
        "purposes": access.PURPOSES,
        "scopes": SCOPES,
        "now": now,
        "default_expiry": (now + dt.timedelta(days=365)).date().isoformat(),
        "max_expiry": (access.latest_expiry(now) - dt.timedelta(days=1)).date().isoformat(),
    }
    if caller.role is Role.ADMIN:
        values["purpose_requests"] = [p for p in store.list_purposes() if p["status"] == "requested"]
        values["all_purposes"] = store.list_purposes()
        return values
    if caller.role is Role.AUTHORITY:
        values["log"] = [access_json(e) for e in store.list_access(limit=LOG_ROWS)]
        return values
    if organisation is None:
        return values
    values["my_purposes"] = store.list_purposes(organisation)
    values["to_decide"] = store.list_requests(approver=organisation, status="pending")
    values["decided"] = [r for r in store.list_requests(approver=organisation) if r.status != "pending"][:LOG_ROWS]
    values["my_requests"] = store.list_requests(requester=organisation)
    values["given"] = store.list_grants(grantor=organisation)
    values["held"] = store.list_grants(grantee=organisation)
    if caller.role is Role.MANUFACTURER:
        values["log"] = [access_json(e) for e in store.list_access(manufacturer=organisation, limit=LOG_ROWS)]
    return values


@router.get("/access", response_class=HTMLResponse)
def access_page(request: Request, context: Context) -> Response:
    done = request.query_params.get("done")
    return _guarded(request, context, "access.html", lambda session: _page(context, session, done))


@router.get("/access-log.csv")
def access_log_csv(request: Request, context: Context) -> Response:
    """The access log as the API gives it (newest first, up to 10 000 entries): a maker's own passports, or all
    of them for an authority."""
    session = session_for(context, request.cookies.get(SESSION_COOKIE))
    if session is None:
        return RedirectResponse("/console/sign-in", status_code=303)
    caller = session.caller
    if caller.role is Role.AUTHORITY:
        entries = context.store.list_access(limit=10_000)
    elif caller.role is Role.MANUFACTURER:
        entries = context.store.list_access(manufacturer=caller.organisation, limit=10_000)
    else:
        return _render(request, "forbidden.html", 403, session=session)
    return csv_response([access_json(e) for e in entries], "access-log.csv")


async def _act(request: Request, context: ServiceContext, csrf: str, action: Callable[[Session], str]) -> Response:
    """A form post: the session's CSRF token checked first, then ``action`` (which returns what was done) through
    the access services; their refusals become the console's error page with the problem's status."""
    session = session_for(context, request.cookies.get(SESSION_COOKIE))
    if session is None:
        return RedirectResponse("/console/sign-in", status_code=303)
    try:
        check_csrf(session, csrf)
    except Unauthorized:
        return _render(request, "forbidden.html", 403, session=session)
    try:
        done = await run_in_threadpool(action, session)
    except PassportError as error:
        return _render(request, "error.html", error.status, session=session, error=error)
    return RedirectResponse(f"/console/access?done={done}", status_code=303)


def _expiry(text: str) -> dt.datetime:
    """A grant's expiry from the form's date: the end of that day, UTC."""
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidInput("expires: a date as YYYY-MM-DD") from None
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=dt.UTC)


Csrf = Annotated[str, Form(max_length=100)]


@router.post("/access/requests", response_class=HTMLResponse)
async def create_request(
    request: Request,
    context: Context,
    scope_kind: Annotated[str, Form(max_length=20)] = "",
    scope_value: Annotated[str, Form(max_length=100)] = "",
    purpose: Annotated[str, Form(max_length=40)] = "",
    justification: Annotated[str, Form(max_length=2000)] = "",
    csrf: Csrf = "",
) -> Response:
    def action(session: Session) -> str:
        value = scope_value.strip()
        if scope_kind == "passport":
            value = parse_passport_id(value)
        access.request_access(context, session.caller, scope_kind, value, purpose, justification)
        return "requested"

    return await _act(request, context, csrf, action)


@router.post("/access/requests/{request_id}/approve", response_class=HTMLResponse)
async def approve_request(
    request: Request,
    context: Context,
    request_id: str,
    expires: Annotated[str, Form(max_length=20)] = "",
    csrf: Csrf = "",
) -> Response:
    def action(session: Session) -> str:
        access.decide_request(context, session.caller, request_id, True, _expiry(expires))
        return "approved"

    return await _act(request, context, csrf, action)


@router.post("/access/requests/{request_id}/refuse", response_class=HTMLResponse)
async def refuse_request(
    request: Request,
    context: Context,
    request_id: str,
    reason: Annotated[str, Form(max_length=2000)] = "",
    csrf: Csrf = "",
) -> Response:
    def action(session: Session) -> str:
        access.decide_request(context, session.caller, request_id, False, None, reason.strip() or None)
        return "refused"

    return await _act(request, context, csrf, action)


@router.post("/access/grants/{grant_id}/revoke", response_class=HTMLResponse)
async def revoke_grant(request: Request, context: Context, grant_id: str, csrf: Csrf = "") -> Response:
    def action(session: Session) -> str:
        access.revoke_grant(context, session.caller, grant_id)
        return "revoked"

    return await _act(request, context, csrf, action)


@router.post("/access/purposes/{organisation}/{purpose}/{decision}", response_class=HTMLResponse)
async def decide_purpose(
    request: Request, context: Context, organisation: str, purpose: str, decision: str, csrf: Csrf = ""
) -> Response:
    def action(session: Session) -> str:
        if decision not in ("approve", "refuse"):
            raise InvalidInput("decision: approve or refuse")
        access.decide_purpose(context, session.caller, organisation, purpose, decision == "approve")
        return "purpose"

    return await _act(request, context, csrf, action)


__all__ = ["router"]
