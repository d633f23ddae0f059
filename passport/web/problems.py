"""The one mapping of errors to RFC 9457 problem documents (``application/problem+json``). Routes never build
error bodies: they raise from the PassportError tree, and these handlers answer."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from passport.errors import InvalidInput, PassportError
from passport.validation import pointer

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("passport.web")


def problem_type(slug: str) -> str:
    """A stable problem type: a relative URI reference, the same on every deployment."""
    return f"/problems/{slug}"


def problem_response(
    request: Request, status: int, slug: str, title: str, detail: str, extensions: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": problem_type(slug),
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    body.update(extensions or {})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def _passport_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PassportError)
    if exc.status >= 500:
        log.error("request failed: %s %s: %s", request.method, request.url.path, type(exc).__name__)
    return problem_response(request, exc.status, exc.slug, exc.title, exc.detail, exc.extensions(), exc.headers())


async def _request_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [
        {"pointer": pointer(str(p) for p in error.get("loc", ())), "message": str(error.get("msg", "")),
         "severity": "error", "code": str(error.get("type", ""))}
        for error in exc.errors()
    ]
    return problem_response(
        request, 422, "request-invalid", "The request is not valid",
        problems[0]["message"] if problems else "invalid request", {"problems": problems},
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    slugs = {404: "not-found", 405: "method-not-allowed", 406: "not-acceptable", 413: "payload-too-large"}
    slug = slugs.get(exc.status_code, "http-error")
    return problem_response(
        request, exc.status_code, slug, str(exc.detail), str(exc.detail), headers=dict(exc.headers or {})
    )


RETRY_AFTER = "5"


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    """The database cannot answer (down, restarting, out of connections, out of space, read-only): 503 with
    Retry-After, never a 500. The transaction was rolled back, so nothing was partly written. The engine's pool
    checks connections before use, so the service recovers by itself once the database is back."""
    text = str(getattr(exc, "orig", exc)).lower()
    if "disk is full" in text or "no space left" in text:
        detail = "the database's storage is full; nothing was written"
    elif "readonly" in text or "read-only" in text:
        detail = "the database is read-only; nothing was written"
    else:
        detail = "the database is unavailable; nothing was written; retry shortly"
    log.error("database unavailable: %s %s: %s", request.method, request.url.path, type(exc).__name__)
    return problem_response(
        request, 503, "service-unavailable", "Service unavailable", detail, headers={"Retry-After": RETRY_AFTER}
    )


async def _data_error(request: Request, exc: Exception) -> JSONResponse:
    """The database refused a value the request carried: most often a NUL character in a path or query parameter or
    in a member of a body that passport.jsonio did not read (PostgreSQL holds NUL in no text; psycopg raises before
    sending it), or a number beyond a column's range. Bad input, so a 400 ``invalid-input`` problem like any other,
    never a 500. Nothing was partly written: the store writes in one transaction per operation, which the error
    rolled back. The database's message is not echoed (it can quote the value); the log has its type only."""
    text = str(getattr(exc, "orig", exc))
    if "NUL" in text or "0x00" in text or "\\u0000" in text:
        detail = "the NUL character (U+0000) is not allowed in text: not in a parameter, not in a body"
    else:
        detail = "a value of the request is out of the range the database can store or compare"
    path = request.url.path.replace("\x00", "%00")  # the NUL as sent: a raw one cuts log lines short in some tools
    log.warning("value refused by the database: %s %s: %s", request.method, path, type(exc).__name__)
    return problem_response(request, InvalidInput.status, InvalidInput.slug, InvalidInput.title, detail)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Log the type only: exception text can carry input or secrets.
    log.error("unexpected error: %s %s: %s", request.method, request.url.path, type(exc).__name__)
    return problem_response(request, 500, "internal-error", "Internal error", "an unexpected error occurred")


def add_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(PassportError, _passport_error)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for database_error in (OperationalError, InterfaceError, PoolTimeout):
        app.add_exception_handler(database_error, _database_error)
    app.add_exception_handler(DataError, _data_error)
    app.add_exception_handler(Exception, _unexpected)


__all__ = ["PROBLEM_JSON", "InvalidInput", "add_problem_handlers", "problem_response", "problem_type"]
