"""Storage: a ``Store`` protocol with domain verbs, and ``open_store(url)`` for SQLite or PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Protocol

from passport.storage.records import (
    CREDENTIAL_VIEWS,
    KeyRecord,
    Organisation,
    PassportRecord,
    VersionRecord,
)


class Store(Protocol):
    """Everything the service asks of storage. Version rows are append-only; every write is one transaction."""

    def create_organisation(self, organisation: Organisation) -> Organisation: ...
    def get_organisation(self, slug: str) -> Organisation: ...
    def list_organisations(self) -> list[Organisation]: ...

    def add_key(self, key: KeyRecord) -> None: ...
    def list_keys(self, organisation: str | None = None) -> list[KeyRecord]: ...
    def retire_key(self, organisation: str, key_id: str, at: dt.datetime) -> None: ...
    def revoke_key(self, organisation: str, key_id: str, at: dt.datetime) -> None: ...

    def add_version(self, passport: PassportRecord, version: VersionRecord, expected_previous: int | None) -> None:
        """Append ``version`` and make ``passport`` the current state, if the current version is still
        ``expected_previous`` (``None``: the passport must not exist yet). Raises VersionConflict otherwise, and
        Conflict when another passport already has the same GTIN and serial."""
        ...

    def add_versions(self, items: Sequence[tuple[PassportRecord, VersionRecord, int | None]]) -> None:
        """Several ``add_version`` in one transaction: all of them or none."""
        ...

    def get_passport(self, passport_id: str) -> PassportRecord: ...
    def find_passport(self, gtin: str, serial: str) -> PassportRecord: ...
    def get_version(self, passport_id: str, version: int | None = None) -> VersionRecord: ...
    def list_versions(self, passport_id: str) -> list[VersionRecord]: ...
    def iter_versions(self) -> Iterator[VersionRecord]: ...
    def count_passports(self) -> int: ...
    def is_empty(self) -> bool: ...
    def close(self) -> None: ...


def open_store(url: str, *, migrate: bool = True) -> Store:
    """A store on ``url`` (``sqlite:///path.db`` or ``postgresql://…``), its schema brought up to date."""
    from passport.storage.sql import SqlStore

    return SqlStore(url, migrate=migrate)


__all__ = [
    "CREDENTIAL_VIEWS",
    "KeyRecord",
    "Organisation",
    "PassportRecord",
    "Store",
    "VersionRecord",
    "open_store",
]
