"""How access beyond the public view is granted and withdrawn (Art. 77(2)): an administrator approves an
organisation for a purpose; the responsible operator grants it access to a passport, a battery model or all its
batteries, for that purpose and until an expiry, directly or by approving an access request; a battery's owner grants
an aggregator access to its battery; the responsible operator or the holder registers the owner. Every change is
audited. What a grant then lets a caller read is decided by ``passport.service.access_control``."""

from __future__ import annotations

import datetime as dt

from passport.access import Role
from passport.clock import truncate_ms, uuid7
from passport.errors import Conflict, Forbidden, InvalidInput
from passport.service.access_control import SCOPES, approved_purposes, audit
from passport.service.apikeys import Caller
from passport.service.context import ServiceContext
from passport.storage.access_records import AccessRequestRecord, GrantRecord

PURPOSES = ("recycler", "repairer", "remanufacturer", "second-life-operator", "aggregator")
MAX_GRANT = dt.timedelta(days=5 * 365)  # never longer than five calendar years (the limit is latest_expiry)


def _purpose(value: str) -> str:
    if value not in PURPOSES:
        raise InvalidInput(f"purpose: one of {', '.join(PURPOSES)}")
    return value


def request_purpose(context: ServiceContext, caller: Caller, purpose: str) -> str:
    """Ask to be approved for a purpose; its status afterwards. Asking again for an approved purpose changes nothing
    (it used to set it back to requested, which withdrew the approval and the access granted for it)."""
    organisation = _organisation_of(caller)
    statuses = {p["purpose"]: p["status"] for p in context.store.list_purposes(organisation)}
    if statuses.get(_purpose(purpose)) == "approved":
        return "approved"
    context.store.set_purpose(organisation, purpose, "requested", truncate_ms(context.clock()))
    audit(context, caller, "purpose.requested", f"org:{organisation}", purpose=purpose)
    return "requested"


def decide_purpose(context: ServiceContext, caller: Caller, organisation: str, purpose: str, approve: bool) -> None:
    if caller.role is not Role.ADMIN:
        raise Forbidden("purposes are approved by an administrator")
    context.store.get_organisation(organisation)
    status = "approved" if approve else "refused"
    context.store.set_purpose(organisation, _purpose(purpose), status, truncate_ms(context.clock()))
    audit(context, caller, f"purpose.{status}", f"org:{organisation}", purpose=purpose)


def _organisation_of(caller: Caller) -> str:
    if caller.organisation is None or caller.anonymous:
        raise Forbidden("this needs an organisation's API key")
    return caller.organisation


def responsible_for(context: ServiceContext, kind: str, value: str) -> str:
    """The organisation that decides about access to a scope: the responsible operator."""
    if kind == "passport":
        return context.store.get_passport(value).organisation
    if kind == "model":
        return context.store.get_model(value).organisation
    if kind == "manufacturer":
        context.store.get_organisation(value)
        return value
    raise InvalidInput(f"scope: one of {', '.join(SCOPES)}")


def latest_expiry(now: dt.datetime) -> dt.datetime:
    """Five calendar years after ``now`` (29 February: the 28th), the latest a grant may expire. (``5 * 366`` days
    let a grant run up to four days longer.)"""
    try:
        return now.replace(year=now.year + 5)
    except ValueError:
        return now.replace(year=now.year + 5, day=28)


def _expiry(context: ServiceContext, expires_at: dt.datetime) -> dt.datetime:
    now = context.clock()
    if expires_at.tzinfo is None:
        raise InvalidInput("expiresAt needs a time zone")
    if not now < expires_at <= latest_expiry(now):
        raise InvalidInput("expiresAt: in the future, at most five years ahead")
    return truncate_ms(expires_at)


def grant(
    context: ServiceContext,
    caller: Caller,
    grantee: str,
    kind: str,
    value: str,
    purpose: str,
    expires_at: dt.datetime,
    request_id: str | None = None,
) -> GrantRecord:
    """A grant by the responsible operator (any scope of its own), or by a battery's owner (that passport, to an
    aggregator)."""
    grantor = _organisation_of(caller)
    context.store.get_organisation(grantee)
    # Who may grant comes first (403): someone who may not should not learn which purposes the grantee has (409).
    responsible = responsible_for(context, kind, value)
    owner = context.store.owner_of(value) if kind == "passport" else None
    if grantor != responsible and not (grantor == owner and _purpose(purpose) == "aggregator"):
        raise Forbidden(
            "only the responsible operator grants access (a battery's owner: to an aggregator, for its battery)"
        )
    if _purpose(purpose) not in approved_purposes(context, grantee):
        raise Conflict(f"{grantee} is not approved for the purpose {purpose!r}")
    record = GrantRecord(
        str(uuid7()),
        grantee,
        grantor,
        kind,
        value,
        purpose,
        truncate_ms(context.clock()),
        _expiry(context, expires_at),
        request_id=request_id,
    )
    context.store.add_grant(record)
    audit(
        context,
        caller,
        "grant.created",
        f"grant:{record.grant_id}",
        grantee=grantee,
        scope=kind,
        value=value,
        purpose=purpose,
        expiresAt=record.expires_at.isoformat(),
    )
    return record


def revoke_grant(context: ServiceContext, caller: Caller, grant_id: str) -> None:
    record = context.store.get_grant(grant_id)
    if caller.role is not Role.ADMIN and caller.organisation != record.grantor:
        raise Forbidden("only the grantor (or an administrator) revokes a grant")
    context.store.revoke_grant(grant_id, truncate_ms(context.clock()))
    audit(context, caller, "grant.revoked", f"grant:{grant_id}", grantee=record.grantee)


def request_access(
    context: ServiceContext, caller: Caller, kind: str, value: str, purpose: str, justification: str
) -> AccessRequestRecord:
    requester = _organisation_of(caller)
    if caller.role is not Role.LEGITIMATE_INTEREST and caller.role is not Role.MANUFACTURER:
        raise Forbidden("access requests are for organisations with a legitimate interest")
    if _purpose(purpose) not in approved_purposes(context, requester):
        raise Conflict(
            f"your organisation is not approved for the purpose {purpose!r}: ask an administrator first "
            "(POST /api/v1/orgs/{slug}/purposes)"
        )
    if not justification.strip() or len(justification) > 2000:
        raise InvalidInput("justification: 1 to 2000 characters")
    approver = responsible_for(context, kind, value)
    record = AccessRequestRecord(
        str(uuid7()),
        requester,
        approver,
        kind,
        value,
        purpose,
        justification.strip(),
        "pending",
        truncate_ms(context.clock()),
    )
    context.store.add_request(record)
    audit(
        context,
        caller,
        "access-request.created",
        f"request:{record.request_id}",
        scope=kind,
        value=value,
        purpose=purpose,
        approver=approver,
    )
    return record


def decide_request(
    context: ServiceContext,
    caller: Caller,
    request_id: str,
    approve: bool,
    expires_at: dt.datetime | None = None,
    reason: str | None = None,
) -> AccessRequestRecord:
    request = context.store.get_request(request_id)
    if caller.organisation != request.approver:
        raise Forbidden("only the responsible operator decides this request")
    now = truncate_ms(context.clock())
    created: GrantRecord | None = None
    if approve:
        if expires_at is None:
            raise InvalidInput("expiresAt is required to approve")
        if request.purpose not in approved_purposes(context, request.requester):
            raise Conflict(f"{request.requester} is no longer approved for the purpose {request.purpose!r}")
        created = GrantRecord(
            str(uuid7()),
            request.requester,
            request.approver,
            request.scope_kind,
            request.scope_value,
            request.purpose,
            now,
            _expiry(context, expires_at),
            request_id=request.request_id,
        )
    context.store.decide_request(request_id, "approved" if approve else "refused", now, created, reason)
    audit(
        context,
        caller,
        "access-request.approved" if approve else "access-request.refused",
        f"request:{request_id}",
        grant=created.grant_id if created else None,
        reason=reason,
    )
    if created is not None:
        audit(
            context,
            caller,
            "grant.created",
            f"grant:{created.grant_id}",
            grantee=created.grantee,
            scope=created.scope_kind,
            value=created.scope_value,
            purpose=created.purpose,
            expiresAt=created.expires_at.isoformat(),
            request=request_id,
        )
    return context.store.get_request(request_id)


def set_owner(context: ServiceContext, caller: Caller, passport_id: str, owner: str | None) -> None:
    """The manufacturer (responsible operator) or the holder registers the battery's owner (None: no owner). A new
    owner ends what the former one delegated: its grants for this battery are revoked (and audited)."""
    record = context.store.get_passport(passport_id)
    actor = _organisation_of(caller)
    if actor not in (record.organisation, record.holder):
        raise Forbidden("only the responsible operator or the holder registers the owner")
    if owner is not None:
        context.store.get_organisation(owner)
    previous = context.store.owner_of(passport_id)
    context.store.set_owner(passport_id, owner, actor, truncate_ms(context.clock()))
    audit(context, caller, "owner.set" if owner else "owner.cleared", f"passport:{passport_id}", owner=owner)
    if previous is not None and previous != owner and previous != record.organisation:
        # What the former owner delegated (to aggregators) was its to give only while it owned the battery.
        now = context.clock()
        for delegated in context.store.list_grants(grantor=previous):
            if delegated.scope_kind == "passport" and delegated.scope_value == passport_id and delegated.active(now):
                context.store.revoke_grant(delegated.grant_id, truncate_ms(now))
                audit(
                    context,
                    caller,
                    "grant.revoked",
                    f"grant:{delegated.grant_id}",
                    grantee=delegated.grantee,
                    reason="the battery's owner changed",
                )


__all__ = [
    "PURPOSES",
    "decide_purpose",
    "decide_request",
    "grant",
    "latest_expiry",
    "request_access",
    "request_purpose",
    "revoke_grant",
    "set_owner",
]
