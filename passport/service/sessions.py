"""Console sessions: sign in with an API key, get a server-side session. The cookie carries only a random id; the
store keeps its SHA-256, the API key it stands for, and the CSRF token every form of the session must send back."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from passport.access import Role
from passport.clock import truncate_ms
from passport.errors import Unauthorized
from passport.service.apikeys import Caller, authenticate
from passport.service.context import ServiceContext

SESSION_LIFETIME = dt.timedelta(hours=8)


@dataclass(frozen=True)
class Session:
    caller: Caller
    csrf: str


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def sign_in(context: ServiceContext, api_key: str) -> tuple[str, Session]:
    """A new session for a valid API key: (cookie value, session). Unauthorized otherwise."""
    caller = authenticate(context, api_key.strip())
    assert caller.key_id is not None
    cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = truncate_ms(context.clock())
    context.store.create_session(_hash(cookie), caller.key_id, csrf, now, now + SESSION_LIFETIME)
    return cookie, Session(caller, csrf)


def session_for(context: ServiceContext, cookie: str | None) -> Session | None:
    """The live session a cookie names, if its API key is still valid."""
    if not cookie or len(cookie) > 100:
        return None
    found = context.store.find_session(_hash(cookie), context.clock())
    if found is None:
        return None
    key_id, csrf = found
    record = context.store.api_key_by_id(key_id)
    now = context.clock()
    if record is None or record.revoked_at is not None or (record.expires_at is not None and record.expires_at <= now):
        return None
    return Session(Caller(Role(record.role), record.organisation, record.key_id), csrf)


def check_csrf(session: Session, token: str | None) -> None:
    # compared as bytes: compare_digest refuses non-ASCII text with a TypeError
    if not token or not hmac.compare_digest(session.csrf.encode(), token.encode("utf-8", "replace")):
        raise Unauthorized("the form's CSRF token is missing or wrong: reload the page and try again")


def sign_out(context: ServiceContext, cookie: str | None) -> None:
    if cookie:
        context.store.delete_session(_hash(cookie))


__all__ = ["SESSION_LIFETIME", "Session", "check_csrf", "session_for", "sign_in", "sign_out"]
