"""Who may see what (Art. 77(2)): a legitimate-interest organisation reads a passport's restricted and individual
data only when it is the battery's responsible operator or holder, has a grant covering the passport (by passport,
battery model or manufacturer, for a purpose, until an expiry, revocable), or owns the battery. Otherwise it gets
the public view, and the API says so. Authorities read their view without grants. Every read of non-public data is
logged here, and ``audit`` records the changes to access made by ``passport.service.access_management`` (purposes,
grants, requests, owners)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from passport.access import Role, View, view_for
from passport.clock import ordered_uuid7, truncate_ms
from passport.errors import Forbidden
from passport.service.apikeys import Caller
from passport.service.context import ServiceContext
from passport.storage import ModelRecord, PassportRecord
from passport.storage.access_records import AccessEntry, AccessScope, AuditEntry, GrantRecord

SCOPES = ("passport", "model", "manufacturer")
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


# The policy reads which purposes an organisation is approved for, so this lives here rather than with the purpose
# approvals in access_management (which imports it): the other way round would be an import cycle.
def approved_purposes(context: ServiceContext, organisation: str) -> set[str]:
    return {p["purpose"] for p in context.store.list_purposes(organisation) if p["status"] == "approved"}


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


__all__ = [
    "NO_ACCESS_NOTE",
    "SCOPES",
    "AccessPolicy",
    "AggregateKey",
    "Decision",
    "aggregate_counts",
    "approved_purposes",
    "audit",
    "log_aggregate",
    "log_model_reads",
    "log_reads",
]
