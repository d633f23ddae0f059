"""Records of the HTTP API's storage: API keys, battery models, jobs, imports, search queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from passport.storage.access_records import AccessScope


@dataclass(frozen=True)
class ApiKeyRecord:
    key_id: str
    organisation: str
    role: str
    label: str
    key_hash: str
    prefix: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None
    last_used_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelRecord:
    model_id: str
    organisation: str
    gtin: str
    model_identifier: str
    current_version: int
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True)
class ModelVersion:
    model_id: str
    version: int
    document: Mapping[str, Any]
    created_at: dt.datetime


@dataclass(frozen=True)
class JobRecord:
    job_id: str
    organisation: str
    kind: str
    subject: str
    status: str  # pending, running, done, failed
    created_at: dt.datetime
    updated_at: dt.datetime
    report: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class ImportRecord:
    import_id: str
    organisation: str
    idempotency_key: str
    request_hash: str
    status: str  # running, done
    created_at: dt.datetime
    heartbeat_at: dt.datetime
    lines: int = 0
    succeeded: int = 0
    failed: int = 0


@dataclass(frozen=True)
class ImportResult:
    line: int
    passport_id: str | None = None
    version: int | None = None
    problem: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class SearchQuery:
    """Filters of a passport search (each optional) and the keyset position."""

    gtin: str | None = None
    serial: str | None = None
    organisation: str | None = None
    model_id: str | None = None
    category: str | None = None
    chemistry: str | None = None
    status: str | None = None
    holder: str | None = None
    updated_since: dt.datetime | None = None
    updated_before: dt.datetime | None = None
    include_ceased: bool = True
    after: str | None = None  # passport id of the last row of the previous page
    after_updated: dt.datetime | None = None  # and its update time, when ordered by it
    limit: int = 100
    passport_ids: tuple[str, ...] | None = field(default=None)
    scope: AccessScope | None = None  # only passports this caller may see beyond the public view

    @property
    def by_update(self) -> bool:
        """A search by update time is ordered by it (then id), so that its index answers at any size; others by id
        (issue time)."""
        return self.updated_since is not None or self.updated_before is not None


__all__ = ["ApiKeyRecord", "ImportRecord", "ImportResult", "JobRecord", "ModelRecord", "ModelVersion", "SearchQuery"]
