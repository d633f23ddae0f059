"""Records of scoped access: grants, access requests, access-log and audit entries, and the SQL scope of what a
legitimate-interest caller may aggregate."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class GrantRecord:
    grant_id: str
    grantee: str  # organisation slug
    grantor: str
    scope_kind: str  # passport, model, manufacturer
    scope_value: str  # passport id, model id or organisation slug
    purpose: str
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None = None
    request_id: str | None = None

    def active(self, now: dt.datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now


@dataclass(frozen=True)
class AccessRequestRecord:
    request_id: str
    requester: str
    approver: str  # the responsible economic operator who decides
    scope_kind: str
    scope_value: str
    purpose: str
    justification: str
    status: str  # pending, approved, refused
    created_at: dt.datetime
    decided_at: dt.datetime | None = None
    grant_id: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class AccessEntry:
    """One read of non-public data (or one aggregate over many passports)."""

    entry_id: str
    at: dt.datetime
    reader: str
    role: str
    api_key_id: str | None
    passport_id: str | None
    manufacturer: str | None  # responsible operator of the passport(s) read
    view: str
    basis: str  # responsible-operator, custody, owner, authority, or the grant's purpose
    channel: str  # api, search, csv, credential, versions, console, inventory, report
    grant_id: str | None = None
    passports: int = 1


@dataclass(frozen=True)
class AuditEntry:
    entry_id: str
    at: dt.datetime
    actor: str | None
    role: str | None
    api_key_id: str | None
    action: str
    subject: str
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AccessScope:
    """Passports a legitimate-interest caller may see beyond the public view: those it is responsible for or holds,
    those covered by its grants (by passport, model or manufacturer), and those it owns."""

    organisation: str
    passport_ids: frozenset[str] = frozenset()
    model_ids: frozenset[str] = frozenset()
    manufacturers: frozenset[str] = frozenset()


__all__ = ["AccessEntry", "AccessRequestRecord", "AccessScope", "AuditEntry", "GrantRecord"]


@dataclass
class RestoredExtras:
    """What an export carries besides signed history, restored in the same transaction: battery models, purposes,
    grants, access requests, owners, audit entries. (The access log is not exported: it records reads of this
    installation.)"""

    models: list[tuple[Any, list[Any]]] = field(default_factory=list)  # (ModelRecord, [ModelVersion])
    purposes: list[dict[str, Any]] = field(default_factory=list)
    grants: list[GrantRecord] = field(default_factory=list)
    requests: list[AccessRequestRecord] = field(default_factory=list)
    owners: list[dict[str, Any]] = field(default_factory=list)  # passport_id, owner, by, registered_at
    audit: list[AuditEntry] = field(default_factory=list)
