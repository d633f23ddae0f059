"""Who may see what (Art. 77(2)): a legitimate-interest organisation reads a passport's restricted and individual
data only when it is the battery's responsible operator or holder, has a grant covering the passport (by passport,
battery model or manufacturer, for a purpose, until an expiry, revocable), or owns the battery. Otherwise it gets
the public view, and the API says so. Authorities read their view without grants. Every read of non-public data is
logged; grants, requests and owner registrations are audited."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from passport.access import Role, View, view_for
from passport.clock import ordered_uuid7, truncate_ms, uuid7
from passport.errors import Conflict, Forbidden, InvalidInput
from passport.service.apikeys import Caller
from passport.service.context import ServiceContext
from passport.storage import ModelRecord, PassportRecord
from passport.storage.access_records import AccessEntry, AccessRequestRecord, AccessScope, AuditEntry, GrantRecord

PURPOSES = ("recycler", "repairer", "remanufacturer", "second-life-operator", "aggregator")
SCOPES = ("passport", "model", "manufacturer")
MAX_GRANT = dt.timedelta(days=5 * 365)  # never longer than five calendar years (the limit is latest_expiry)
NO_ACCESS_NOTE = (
    "public view: your organisation has no grant, custody or ownership for this passport; ask its "
    "responsible operator with POST /api/v1/access-requests"
)


@dataclass(frozen=True)
class Decision:
    view: View
    basis: str | None = None  # why more than public: responsible-operator, custody, owner, authority, grant purpose
    grant_id: str | None = None

    @property
    def limited(self) -> bool:
        """A legitimate-interest caller fell back to the public view."""
        return self.basis is None and self.view is View.PUBLIC


@dataclass(frozen=True)
class AccessPolicy:
    caller: Caller
    grants: tuple[GrantRecord, ...] = ()
    owned: frozenset[str] = frozenset()

    @classmethod
    def load(cls, context: ServiceContext, caller: Caller) -> AccessPolicy:
        if caller.organisation is None or caller.role not in (Role.MANUFACTURER, Role.LEGITIMATE_INTEREST):
            return cls(caller)
        now = context.clock()
        # A grant counts while it is active and its grantee is still approved for its purpose: an administrator
        # withdrawing the purpose ends the access it was granted for.
        approved = approved_purposes(context, caller.organisation)
        active = tuple(
            g
            for g in context.store.list_grants(grantee=caller.organisation)
            if g.active(now) and g.purpose in approved
        )
        return cls(caller, active, context.store.owned_passports(caller.organisation))

    def decide(self, record: PassportRecord) -> Decision:
        role, organisation = self.caller.role, self.caller.organisation
        if role is Role.AUTHORITY:
            return Decision(View.AUTHORITY, "authority")
        if role not in (Role.MANUFACTURER, Role.LEGITIMATE_INTEREST) or organisation is None:
            return Decision(View.PUBLIC)
        basis, grant_id = self.basis(record.organisation, record.holder, record.passport_id, record.model_id)
        if basis is None:
            return Decision(View.PUBLIC)
        if basis == "responsible-operator":
            return Decision(
                view_for(role, responsible=True) if role is Role.MANUFACTURER else View.LEGITIMATE_INTEREST, basis
            )
        return Decision(View.LEGITIMATE_INTEREST, basis, grant_id)

    def basis(
        self, manufacturer: str, holder: str | None, passport_id: str, model_id: str | None
    ) -> tuple[str | None, str | None]:
        """(basis, grant id) on which the caller reads a passport beyond the public view, from the few facts that
        decide it; (None, None) when it has none. ``decide`` and the access log of aggregates both use it, so an
        inventory or report records the same basis a read of each passport would."""
        role, organisation = self.caller.role, self.caller.organisation
        if role is Role.AUTHORITY:
            return "authority", None
        if role not in (Role.MANUFACTURER, Role.LEGITIMATE_INTEREST) or organisation is None:
            return None, None
        if manufacturer == organisation:
            return "responsible-operator", None
        if holder == organisation:
            return "custody", None
        if passport_id in self.owned:
            return "owner", None
        for grant in self.grants:
            if _covers(grant, manufacturer, passport_id, model_id):
                return grant.purpose, grant.grant_id
        return None, None

    def decide_model(self, model: ModelRecord) -> Decision:
        """A battery model's data (composition, …) under the same audiences as a passport's: its manufacturer reads
        all of it, an authority its view, an organisation with a grant for the model or its manufacturer the
        legitimate-interest view; everyone else the public view."""
        role, organisation = self.caller.role, self.caller.organisation
        if role is Role.AUTHORITY:
            return Decision(View.AUTHORITY, "authority")
        if organisation is None or role not in (Role.MANUFACTURER, Role.LEGITIMATE_INTEREST):
            return Decision(View.PUBLIC)
        if model.organisation == organisation:
            return Decision(view_for(role, responsible=True), "responsible-operator")
        for grant in self.grants:
            covered = (("model", model.model_id), ("manufacturer", model.organisation))
            if (grant.scope_kind, grant.scope_value) in covered:
                return Decision(View.LEGITIMATE_INTEREST, grant.purpose, grant.grant_id)
        return Decision(View.PUBLIC)

    def scope(self) -> AccessScope | None:
        """What aggregates may count: None for authorities (every passport)."""
        if self.caller.role is Role.AUTHORITY:
            return None
        if self.caller.organisation is None:
            raise Forbidden("inventories and reports need an organisation")
        by_kind: dict[str, set[str]] = {kind: set() for kind in SCOPES}
        for grant in self.grants:
            by_kind[grant.scope_kind].add(grant.scope_value)
        return AccessScope(
            self.caller.organisation,
            frozenset(by_kind["passport"] | self.owned),
            frozenset(by_kind["model"]),
            frozenset(by_kind["manufacturer"]),
        )


def _covers(grant: GrantRecord, manufacturer: str, passport_id: str, model_id: str | None) -> bool:
    return (
        (grant.scope_kind == "passport" and grant.scope_value == passport_id)
        or (grant.scope_kind == "model" and grant.scope_value == model_id)
        or (grant.scope_kind == "manufacturer" and grant.scope_value == manufacturer)
    )


# --- logging ------------------------------------------------------------------------------------------------------

def _entry_id(now: dt.datetime) -> str:
    return str(ordered_uuid7(now))


def log_reads(
    context: ServiceContext, caller: Caller, reads: Iterable[tuple[PassportRecord, Decision]], channel: str
) -> None:
    """One access-log entry per passport read in a non-public view."""
    if caller.organisation is None:
        return
    now = truncate_ms(context.clock())
    entries = [
        AccessEntry(
            _entry_id(now),
            now,
            caller.organisation,
            caller.role.value,
            caller.key_id,
            record.passport_id,
            record.organisation,
            decision.view.value,
            decision.basis or "",
            channel,
            decision.grant_id,
        )
        for record, decision in reads
        if decision.view is not View.PUBLIC
    ]
    context.store.log_access(entries)


def log_model_reads(
    context: ServiceContext, caller: Caller, reads: Iterable[tuple[ModelRecord, Decision]]
) -> None:
    """One access-log entry per battery model read in a non-public view (channel ``model``, no passport)."""
    if caller.organisation is None:
        return
    now = truncate_ms(context.clock())
    context.store.log_access([
        AccessEntry(_entry_id(now), now, caller.organisation, caller.role.value, caller.key_id, None,
                    model.organisation, decision.view.value, decision.basis or "", "model", decision.grant_id)
        for model, decision in reads
        if decision.view is not View.PUBLIC and model.organisation != caller.organisation
    ])


AggregateKey = tuple[str, str, str | None]  # manufacturer (responsible operator), basis, grant id


def aggregate_counts(
    policy: AccessPolicy, passports: Iterable[tuple[str, str | None, str | None, str | None, int]]
) -> Counter[AggregateKey]:
    """How many passports an aggregate counted per manufacturer and basis, from (manufacturer, holder, passport id,
    model id, count) groups. The passport id may be None when no passport grant or ownership can cover it (the
    storage groups those passports together rather than list each)."""
    counts: Counter[AggregateKey] = Counter()
    for manufacturer, holder, passport_id, model_id, n in passports:
        basis, grant_id = policy.basis(manufacturer, holder, passport_id or "", model_id)
        # a passport in an aggregate's scope always has a basis; "scope" would only show a storage/policy mismatch
        counts[manufacturer, basis or "scope", grant_id] += n
    return counts


def log_aggregate(
    context: ServiceContext, caller: Caller, channel: str, view: View, counts: Mapping[AggregateKey, int]
) -> None:
    """One entry per manufacturer (responsible operator) and basis of the passports an inventory or report
    aggregated, with their number: the basis is the one a read of each passport would record (the grant's purpose
    and id, custody, owner, responsible-operator, authority), so a maker learns on what grounds its data was counted."""
    if caller.organisation is None:
        return
    now = truncate_ms(context.clock())
    context.store.log_access(
        [
            AccessEntry(
                _entry_id(now),
                now,
                caller.organisation,
                caller.role.value,
                caller.key_id,
                None,
                manufacturer,
                view.value,
                basis,
                channel,
                grant_id,
                count,
            )
            for (manufacturer, basis, grant_id), count in sorted(counts.items(), key=lambda item: item[0][:2])
            if count
        ]
    )


def audit(context: ServiceContext, caller: Caller | None, action: str, subject: str, **details: object) -> None:
    now = truncate_ms(context.clock())
    context.store.audit(
        AuditEntry(
            _entry_id(now),
            now,
            caller.organisation if caller else None,
            caller.role.value if caller else None,
            caller.key_id if caller else None,
            action,
            subject,
            details,
        )
    )


# --- purposes, grants, requests, owners -------------------------------------------------------------------------


def _purpose(value: str) -> str:
    if value not in PURPOSES:
        raise InvalidInput(f"purpose: one of {', '.join(PURPOSES)}")
    return value


def approved_purposes(context: ServiceContext, organisation: str) -> set[str]:
    return {p["purpose"] for p in context.store.list_purposes(organisation) if p["status"] == "approved"}


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
    "NO_ACCESS_NOTE",
    "PURPOSES",
    "SCOPES",
    "AccessPolicy",
    "AggregateKey",
    "Decision",
    "aggregate_counts",
    "approved_purposes",
    "audit",
    "decide_purpose",
    "decide_request",
    "grant",
    "latest_expiry",
    "log_aggregate",
    "log_model_reads",
    "log_reads",
    "request_access",
    "request_purpose",
    "revoke_grant",
    "set_owner",
]
