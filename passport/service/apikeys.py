"""API keys: ``pp_`` + 32 random bytes (base64url), shown once, stored as a SHA-256 hash, compared in constant
time, revocable, with their last-used time and an optional expiry. Each key acts for one organisation in one role,
and may be narrowed to reading (scope ``read``)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from passport.access import Role
from passport.clock import truncate_ms, uuid7
from passport.errors import InvalidInput, Unauthorized
from passport.service.context import ServiceContext
from passport.storage import ApiKeyRecord

PREFIX = "pp_"
ROLES = (Role.MANUFACTURER, Role.LEGITIMATE_INTEREST, Role.AUTHORITY, Role.ADMIN)
KEY_SCOPES = ("read", "write")  # read: GET only; write: also the methods that change data
TOUCH_EVERY = dt.timedelta(minutes=1)  # last-used time is coarse: one write a minute per key at most


@dataclass(frozen=True)
class Caller:
    """Who is calling: anonymous (no key) or an organisation acting in a role."""

    role: Role
    organisation: str | None = None
    key_id: str | None = None
    scopes: frozenset[str] = frozenset(KEY_SCOPES)

    @property
    def may_write(self) -> bool:
        return "write" in self.scopes

    @property
    def anonymous(self) -> bool:
        return self.role is Role.ANONYMOUS


ANONYMOUS = Caller(Role.ANONYMOUS, scopes=frozenset({"read"}))


def key_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_api_key(
    context: ServiceContext,
    organisation: str,
    role: str,
    label: str = "",
    expires_at: dt.datetime | None = None,
    scopes: Iterable[str] = KEY_SCOPES,
) -> tuple[ApiKeyRecord, str]:
    """A new key; returns the record and the key itself, which is never stored and cannot be shown again. ``scopes``
    narrow what the role may do: ``read`` (GET only) and/or ``write``; ``expires_at`` ends it."""
    wanted = tuple(sorted(set(scopes)))
    if not wanted or not set(wanted) <= set(KEY_SCOPES):
        raise InvalidInput(f"scopes: one or more of {', '.join(KEY_SCOPES)}")
    if expires_at is not None and (expires_at.tzinfo is None or expires_at <= context.clock()):
        raise InvalidInput("expiresAt: a time in the future, with a time zone")
    try:
        parsed = Role(role)
    except ValueError:
        parsed = Role.ANONYMOUS
    if parsed not in ROLES:
        raise InvalidInput(f"role {role!r}: one of {', '.join(r.value for r in ROLES)}")
    context.store.get_organisation(organisation)
    token = PREFIX + secrets.token_urlsafe(32)
    record = ApiKeyRecord(
        key_id=str(uuid7()), organisation=organisation, role=parsed.value, label=label[:200] or parsed.value,
        key_hash=key_hash(token), prefix=token[:10], created_at=truncate_ms(context.clock()), expires_at=expires_at,
        scopes=wanted,
    )
    context.store.add_api_key(record)
    return record, token


def authenticate(context: ServiceContext, token: str) -> Caller:
    """The caller a presented key stands for; Unauthorized (one message for every failure) otherwise."""
    failure = Unauthorized("missing, unknown, expired or revoked API key")
    if not token.startswith(PREFIX) or len(token) > 100:
        raise failure
    digest = key_hash(token)
    record = context.store.find_api_key(digest)
    # The lookup is by hash; comparing again in constant time keeps timing independent of how much matched.
    if record is None or not hmac.compare_digest(record.key_hash, digest):
        raise failure
    now = context.clock()
    if record.revoked_at is not None or (record.expires_at is not None and record.expires_at <= now):
        raise failure
    if record.last_used_at is None or now - record.last_used_at >= TOUCH_EVERY:
        context.store.touch_api_key(record.key_id, truncate_ms(now))
    return Caller(Role(record.role), record.organisation, record.key_id, frozenset(record.scopes or KEY_SCOPES))


def revoke_api_key(context: ServiceContext, key_id: str) -> None:
    context.store.revoke_api_key(key_id, truncate_ms(context.clock()))


__all__ = [
    "ANONYMOUS", "KEY_SCOPES", "PREFIX", "ROLES", "Caller", "authenticate", "create_api_key", "key_hash",
    "revoke_api_key",
]
