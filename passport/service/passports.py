"""Issue, revise and read passports: validate, sign every view, append the version (DESIGN §1)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from passport.access import View
from passport.clock import rfc3339, truncate_ms, uuid7
from passport.credentials import SignedVersion, VersionSubject, sign_version
from passport.errors import Forbidden, InvalidInput, NotFound, Problem
from passport.models.passport import Passport
from passport.rules import RuleContext
from passport.service.context import ServiceContext
from passport.service.organisations import signer_for
from passport.storage import PassportRecord, VersionRecord
from passport.validation import check

IMMUTABLE = (("passportId",), ("general", "gtin"), ("general", "serialNumber"))


@dataclass(frozen=True)
class Issued:
    passport: PassportRecord
    version: VersionRecord
    warnings: list[Problem]

    @property
    def passport_id(self) -> str:
        return self.passport.passport_id


def normalise(passport: Passport) -> dict[str, Any]:
    """The wire form that is signed: every set value, nulls dropped."""
    return passport.model_dump(mode="json", by_alias=True, exclude_none=True)


def record_of(
    passport_id: str, version: int, document: Mapping[str, Any], organisation: str, created: dt.datetime,
    updated: dt.datetime, *, ceased: bool = False,
) -> PassportRecord:
    general = document["general"]
    return PassportRecord(
        passport_id=passport_id, gtin=general["gtin"], serial=general["serialNumber"], organisation=organisation,
        current_version=version, category=general["batteryCategory"],
        chemistry=document["composition"]["batteryChemistry"]["shortName"], status=general["batteryStatus"],
        ceased=ceased, created_at=created, updated_at=updated,
    )


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON Merge Patch."""
    if not isinstance(patch, Mapping):
        return patch
    result = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


class Passports:
    def __init__(self, context: ServiceContext) -> None:
        self.context = context

    def issue(self, organisation: str, document: bytes | Mapping[str, Any]) -> Issued:
        """Version 1 of a new passport, signed by ``organisation``'s active key."""
        self.context.store.get_organisation(organisation)
        checked = check(document, RuleContext(self.context.clock()))
        wire = normalise(checked.passport)
        passport_id = wire["passportId"].removeprefix("urn:uuid:") if "passportId" in wire else str(uuid7())
        wire["passportId"] = f"urn:uuid:{passport_id}"
        return self._append(organisation, passport_id, 1, wire, checked.warnings, None)

    def revise(
        self, passport_id: str, organisation: str, patch: Mapping[str, Any], expected_version: int
    ) -> Issued:
        """Version N+1 from a JSON Merge Patch of version N; VersionConflict when N is no longer current."""
        current = self.context.store.get_passport(passport_id)
        if current.organisation != organisation:
            raise Forbidden(f"passport {passport_id} is the responsibility of another organisation")
        previous = self.context.store.get_version(passport_id, expected_version)
        document = merge_patch(self.full_document(previous), patch)
        for path in IMMUTABLE:
            if _get(document, path) != _get(self.full_document(previous), path):
                raise InvalidInput(f"/{'/'.join(path)} cannot change: it identifies the passport and the battery")
        checked = check(document, RuleContext(self.context.clock()))
        wire = normalise(checked.passport)
        return self._append(organisation, passport_id, expected_version + 1, wire, checked.warnings, previous)

    def _append(
        self, organisation: str, passport_id: str, number: int, wire: dict[str, Any], warnings: list[Problem],
        previous: VersionRecord | None,
    ) -> Issued:
        now = truncate_ms(self.context.clock())
        subject = VersionSubject(
            passport_id, number, wire["general"]["gtin"], wire["general"]["serialNumber"],
            self.context.urls.did(organisation), rfc3339(now),
        )
        signed: SignedVersion = sign_version(
            self.context.urls, signer_for(self.context, organisation), subject, wire,
            previous.credentials if previous else None,
        )
        version = VersionRecord(
            passport_id, number, now, signed.full_hash, f"{subject.issuer}",
            signed.credentials, tuple(w.as_dict() for w in warnings),
        )
        created = self.context.store.get_passport(passport_id).created_at if previous else now
        record = record_of(passport_id, number, wire, organisation, created, now)
        self.context.store.add_version(record, version, previous.version if previous else None)
        return Issued(record, version, warnings)

    @staticmethod
    def full_document(version: VersionRecord) -> dict[str, Any]:
        return version.credential_json(View.FULL.value)["credentialSubject"]["passport"]  # type: ignore[no-any-return]

    def current_document(self, passport_id: str) -> dict[str, Any]:
        return self.full_document(self.context.store.get_version(passport_id))

    def credential(self, passport_id: str, view: View, version: int | None = None) -> bytes:
        return self.context.store.get_version(passport_id, version).credential(view.value)

    def find(self, gtin: str, serial: str) -> PassportRecord:
        return self.context.store.find_passport(gtin, serial)


def _get(document: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = document
    for part in path:
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def parse_passport_id(text: str) -> str:
    """A bare lower-case UUID from ``urn:uuid:…`` or a bare UUID; NotFound for anything else."""
    try:
        return str(uuid.UUID(text.removeprefix("urn:uuid:")))
    except ValueError:
        raise NotFound(f"{text!r} is not a passport id") from None


__all__ = ["IMMUTABLE", "Issued", "Passports", "merge_patch", "normalise", "parse_passport_id", "record_of"]
