"""What the store holds, as plain immutable records (no SQLAlchemy types leak out of the storage package)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from passport import jsonio

CREDENTIAL_VIEWS: tuple[str, ...] = ("public", "legitimate_interest", "authority", "full")


@dataclass(frozen=True)
class Organisation:
    slug: str
    name: str
    created_at: dt.datetime


@dataclass(frozen=True)
class KeyRecord:
    """A signing key's public half and life: created, retired (rotation), revoked (compromise)."""

    organisation: str
    key_id: str
    public_key_multibase: str
    created_at: dt.datetime
    retired_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None

    @property
    def active(self) -> bool:
        return self.retired_at is None and self.revoked_at is None


@dataclass(frozen=True)
class PassportRecord:
    """The current state of a passport, maintained from its newest version for lookup and search."""

    passport_id: str  # bare UUID
    gtin: str
    serial: str
    organisation: str  # slug of the responsible economic operator
    current_version: int
    category: str
    chemistry: str
    status: str
    ceased: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    model_id: str | None = None
    model_version: int | None = None
    holder: str | None = None  # organisation slug of whoever physically holds the battery (custody)
    # Derived from the version being written, for inventories and reports (not loaded back on reads):
    materials: tuple[tuple[str, str, str, float], ...] = ()  # (inventory key, name, CAS, kg)
    recycled: tuple[tuple[str, float, float], ...] = ()  # (metal, pre-consumer %, post-consumer %)
    recovered: tuple[tuple[str, float | None, float], ...] = ()  # recycled now: (material, input kg, recovered kg)
    recycler: str | None = None


@dataclass(frozen=True)
class VersionRecord:
    """One signed version: the exact bytes of each view's credential."""

    passport_id: str
    version: int
    created_at: dt.datetime
    full_hash: str
    signed_by: str
    credentials: Mapping[str, bytes]
    warnings: tuple[Mapping[str, Any], ...] = field(default=())

    def credential(self, view: str) -> bytes:
        return self.credentials[view]

    def credential_json(self, view: str) -> dict[str, Any]:
        # the strict reader: an integer literal JCS wrote for a double of 2^53 or more reads back as that double, so
        # the credential canonicalises (and verifies) again; json.loads would give an int beyond 2^53
        return jsonio.loads(self.credentials[view])  # type: ignore[no-any-return]


__all__ = ["CREDENTIAL_VIEWS", "KeyRecord", "Organisation", "PassportRecord", "VersionRecord"]
