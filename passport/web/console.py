"""The web console for signed-in users: passport search, a passport in the user's view with its history, the
material inventory and the circularity reports, with charts and CSV downloads.

Sign in with an API key; the session is server-side, its cookie Secure (outside development), HttpOnly and
SameSite=Strict; every form carries a CSRF token (the sign-in form a double-submit cookie). The pages call the same
services as the API, so they show exactly what the user's role may see."""

from __future__ import annotations

import secrets
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from passport.access import View
from passport.circularity import InventoryQuery, inventory, recovery_report, recycled_content_report
from passport.config import Environment
from passport.errors import PassportError, Unauthorized
from passport.service.access_control import AccessPolicy, log_reads
from passport.service.passports import parse_passport_id
from passport.service.search import all_pages, build_query, csv_lines, logged, search
from passport.service.sessions import Session, check_csrf, session_for, sign_in, sign_out
from passport.web.api_circularity import csv_response
from passport.web.charts import Bar, bar_chart, recycled_chart
from passport.web.deps import Context
from passport.web.pages import METAL_NAMES, PageRenderer

router = APIRouter(prefix="/console", include_in_schema=False)
SESSION_COOKIE = "passport_session"
LOGIN_COOKIE = "passport_login_csrf"


def _pages(request: Request) -> PageRenderer:
    pages: PageRenderer = request.app.state.pages
    return pages


def _secure(request: Request) -> bool:
    return bool(request.app.state.settings.env is not Environment.DEVELOPMENT)


def _render(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    html = _pages(request).render(f"console/{template}", "en", **values)
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def _session(request: Request, context: Any) -> Session:
    session = session_for(context, request.cookies.get(SESSION_COOKIE))
    if session is None:
        raise Unauthorized("sign in first")
    return session


def _same_token(expected: str, given: str) -> bool:
    """Constant-time comparison of two tokens, whatever text the form sent."""
    return secrets.compare_digest(expected.encode(), given.encode())


@router.get("", response_class=HTMLResponse)
async def home() -> RedirectResponse:
    return RedirectResponse("/console/passports", status_code=303)


@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_form(request: Request) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    response = _render(request, "sign_in.html", csrf=token, failed=False)
    response.set_cookie(
        LOGIN_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request), path="/console", max_age=3600
    )
    return response


@router.post("/sign-in", response_class=HTMLResponse)
async def sign_in_submit(
    request: Request,
    context: Context,
    api_key: Annotated[str, Form(max_length=200)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    expected = request.cookies.get(LOGIN_COOKIE)
    if not expected or not _same_token(expected, csrf):
        return _render(request, "forbidden.html", 403)
    try:
        cookie, _ = await run_in_threadpool(sign_in, context, api_key)
    except PassportError:
        return _render(request, "sign_in.html", 401, csrf=csrf, failed=True)
    response = RedirectResponse("/console/passports", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/console",
        max_age=8 * 3600,
    )
    response.delete_cookie(LOGIN_COOKIE, path="/console")
    return response


@router.post("/sign-out", response_class=HTMLResponse)
async def sign_out_submit(
    request: Request,
    context: Context,
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    try:
        if not csrf.isascii():  # tokens are URL-safe base64; compare_digest refuses other text with a TypeError
            raise Unauthorized("the form's CSRF token is wrong")
        check_csrf(_session(request, context), csrf)
    except Unauthorized:
        return _render(request, "forbidden.html", 403)
    await run_in_threadpool(sign_out, context, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/console/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/console")
    return response


SEARCH_FILTERS = ("gtin", "serial", "manufacturer", "category", "chemistry", "status")


def _filters(request: Request) -> dict[str, str | None]:
    return {name: (request.query_params.get(name) or None) for name in SEARCH_FILTERS}


@router.get("/passports", response_class=HTMLResponse)
def passports_page(request: Request, context: Context) -> Response:
    def build(session: Session) -> dict[str, Any]:
        filters = _filters(request)
        policy = AccessPolicy.load(context, session.caller)
        query = build_query(policy, filters, cursor=request.query_params.get("cursor"), limit=50)
        page = logged(context, search(context, policy, query), session.caller, "console")
        params = {k: v for k, v in filters.items() if v}
        next_url = f"/console/passports?{urlencode({**params, 'cursor': page.next_cursor})}" if page.next_cursor else ""
        return {
            "rows": page.rows,
            "filters": filters,
            "next_url": next_url,
            "csv_url": f"/console/passports.csv?{urlencode(params)}",
        }

    return _guarded(request, context, "passports.html", build)


@router.get("/passports.csv")
def passports_csv(request: Request, context: Context) -> Response:
    session = session_for(context, request.cookies.get(SESSION_COOKIE))
    if session is None:
        return RedirectResponse("/console/sign-in", status_code=303)
    policy = AccessPolicy.load(context, session.caller)
    query = build_query(policy, _filters(request), limit=1000)
    first = search(context, policy, query)
    return StreamingResponse(
        csv_lines(all_pages(context, policy, query, first, "console"), first.view),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="passports.csv"'},
    )


@router.get("/passports/{passport_id}", response_class=HTMLResponse)
def passport_page(request: Request, context: Context, passport_id: str) -> Response:
    def build(session: Session) -> dict[str, Any]:
        record = context.store.get_passport(parse_passport_id(passport_id))
        decision = AccessPolicy.load(context, session.caller).decide(record)
        view = decision.view
        if record.ceased and view is View.PUBLIC:
            from passport.errors import Gone

            raise Gone("this passport has ceased (battery recycled)")
        version_param = request.query_params.get("version")
        number = int(version_param) if version_param and version_param.isdigit() else None
        stored = context.store.get_version(record.passport_id, number)
        document = stored.credential_json(view.value)["credentialSubject"]["passport"]
        log_reads(context, session.caller, [(record, decision)], "console")
        history = [
            (n, at.isoformat()[:16].replace("T", " ")) for n, at in context.store.version_dates(record.passport_id)
        ]
        return {"record": record, "view": view, "version": stored.version, "document": document, "history": history}

    return _guarded(request, context, "passport.html", build)


def _inventory_query(request: Request) -> InventoryQuery:
    params = request.query_params
    groups = tuple(g for g in params.getlist("group") if g) or ("material",)
    return InventoryQuery(
        status=params.get("status") or None,
        chemistry=params.get("chemistry") or None,
        category=params.get("category") or None,
        holder=params.get("holder") or None,
        manufacturer=params.get("manufacturer") or None,
        group_by=groups,
    )


@router.get("/inventory", response_class=HTMLResponse)
def inventory_page(request: Request, context: Context) -> Response:
    def build(session: Session) -> dict[str, Any]:
        query = _inventory_query(request)
        result = inventory(context, session.caller, query)
        totals: dict[str, float] = {}
        for row in result["rows"]:
            totals[row["material"]] = totals.get(row["material"], 0.0) + row["massKg"]
        top = sorted(totals.items(), key=lambda item: -item[1])[:12]
        chart = bar_chart("Material mass (kg), largest first", [Bar(m, v, "kg") for m, v in top], "chart-inventory")
        return {
            "result": result,
            "chart": chart,
            "query": query,
            "csv_url": f"/console/inventory.csv?{request.url.query}",
        }

    return _guarded(request, context, "inventory.html", build)


@router.get("/inventory.csv")
def inventory_csv(request: Request, context: Context) -> Response:
    session = session_for(context, request.cookies.get(SESSION_COOKIE))
    if session is None:
        return RedirectResponse("/console/sign-in", status_code=303)
    return csv_response(inventory(context, session.caller, _inventory_query(request))["rows"], "inventory.csv")


@router.get("/reports/recycled-content", response_class=HTMLResponse)
def recycled_page(request: Request, context: Context) -> Response:
    by = "manufacturer" if request.query_params.get("by") == "manufacturer" else "model"

    def build(session: Session) -> dict[str, Any]:
        rows = recycled_content_report(context, session.caller, by)
        charts = []
        for index, row in enumerate(rows[:20]):
            shares = [
                (metal, figures["preConsumer"] or 0.0, figures["postConsumer"] or 0.0)
                for metal, figures in row["metals"].items()
                if figures["declaring"]
            ]
            if shares:
                charts.append(
                    (
                        row[by],
                        recycled_chart(
                            f"Recycled content of {row[by]}",
                            shares,
                            METAL_NAMES,
                            f"chart-recycled-{index}",
                            ("pre-consumer", "post-consumer", "minimum 2031", "minimum 2036"),
                        ),
                    )
                )
        return {"rows": rows, "by": by, "charts": charts, "csv_url": f"/console/reports/recycled-content.csv?by={by}"}

    return _guarded(request, context, "report_recycled.html", build)


@router.get("/reports/recycled-content.csv")
def recycled_csv(request: Request, context: Context) -> Response:
    session = session_for(context, request.cookies.get(SESSION_COOKIE))
    if session is None:
        return RedirectResponse("/console/sign-in", status_code=303)
    by = "manufacturer" if request.query_params.get("by") == "manufacturer" else "model"
    return csv_response(recycled_content_report(context, session.caller, by), f"recycled-content-by-{by}.csv")


@router.get("/reports/recovery", response_class=HTMLResponse)
def recovery_page(request: Request, context: Context) -> Response:
    def build(session: Session) -> dict[str, Any]:
        rows = recovery_report(context, session.caller)
        bars = [
            Bar(f"{row['recycler']} · {row['material']}", row["efficiency"], "%")
            for row in rows
            if row["efficiency"] is not None
        ]
        chart = bar_chart("Recovery efficiency (%) per recycler and material", bars, "chart-recovery") if bars else ""
        return {"rows": rows, "chart": chart, "csv_url": "/console/reports/recovery.csv"}

    return _guarded(request, context, "report_recovery.html", build)


@router.get("/reports/recovery.csv")
def recovery_csv(request: Request, context: Context) -> Response:
    session = session_for(context, request.cookies.get(SESSION_COOKIE))
    if session is None:
        return RedirectResponse("/console/sign-in", status_code=303)
    return csv_response(recovery_report(context, session.caller), "recovery-efficiency.csv")


def _guarded(request: Request, context: Any, template: str, build: Any) -> Response:
    session = session_for(context, request.cookies.get(SESSION_COOKIE))
    if session is None:
        return RedirectResponse("/console/sign-in", status_code=303)
    try:
        values = build(session)
    except PassportError as error:
        return _render(request, "error.html", error.status, session=session, error=error)
    return _render(request, template, session=session, **values)
