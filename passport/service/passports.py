"""Issue, revise and read passports: validate, sign every view, append the version (DESIGN §1)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from passport.access import View
from passport.clock import rfc3339, truncate_ms, uuid7
from passport.credentials import VersionSubject, sign_version
from passport.errors import Forbidden, InvalidInput, NotFound, Problem, TransitionNotAllowed
from passport.materials import composition_lines, recycled_lines
from passport.models.passport import Passport
from passport.rules import RuleContext
from passport.service.context import ServiceContext
from passport.service.models import BatteryModels, deep_merge, item_part
from passport.service.organisations import signer_for
from passport.signing import Ed25519Signer
from passport.storage import PassportRecord, VersionRecord
from passport.validation import check

IMMUTABLE = (("passportId",), ("general", "gtin"), ("general", "serialNumber"))
# Changed only by lifecycle events and the repurpose action, never by a plain revision.
LIFECYCLE = (("general", "batteryStatus"), ("general", "predecessorPassports"), ("general", "successorPassports"),
             ("custody",))

Append = tuple[PassportRecord, VersionRecord, int | None]


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
    updated: dt.datetime, *, ceased: bool = False, model_id: str | None = None, model_version: int | None = None,
    holder: str | None = None, recovered: tuple[tuple[str, float | None, float], ...] = (),
    recycler: str | None = None,
) -> PassportRecord:
    general = document["general"]
    return PassportRecord(
        passport_id=passport_id, gtin=general["gtin"], serial=general["serialNumber"], organisation=organisation,
        current_version=version, category=general["batteryCategory"],
        chemistry=document["composition"]["batteryChemistry"]["shortName"], status=general["batteryStatus"],
        ceased=ceased, created_at=created, updated_at=updated, model_id=model_id, model_version=model_version,
        holder=holder, materials=composition_lines(document), recycled=recycled_lines(document),
        recovered=recovered, recycler=recycler,
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


def get_path(document: Mapping[str, Any], path: tuple[str, ...]) -> Any:
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


def check_writable(
    record: PassportRecord, document: Mapping[str, Any], organisation: str, *, holder_may: bool = False
) -> None:
    """``organisation`` may write the passport now: it is responsible for it (or, with ``holder_may``, holds the
    battery), and the passport is not frozen."""
    if record.organisation != organisation and not (holder_may and record.holder == organisation):
        raise Forbidden(f"passport {record.passport_id} is the responsibility of another organisation")
    if record.ceased:
        raise TransitionNotAllowed(f"passport {record.passport_id} has ceased (battery recycled): it is frozen")
    if get_path(document, ("general", "successorPassports")):
        raise TransitionNotAllowed(
            f"passport {record.passport_id} was succeeded by a second-life passport: it is frozen")


def full_document(version: VersionRecord) -> dict[str, Any]:
    return version.credential_json(View.FULL.value)["credentialSubject"]["passport"]  # type: ignore[no-any-return]


class Passports:
    def __init__(self, context: ServiceContext, *, reuse_signers: bool = False) -> None:
        self.context = context
        # With ``reuse_signers`` (bulk import: hundreds of versions by one organisation per batch), an organisation's
        # existence and active key are looked up once until :meth:`forget_signers` (each batch's commit), so that a
        # key rotated meanwhile signs from the next batch on; they were two queries for every line.
        self._signers: dict[str, Ed25519Signer] | None = {} if reuse_signers else None

    def forget_signers(self) -> None:
        if self._signers is not None:
            self._signers.clear()

    def _signer(self, organisation: str) -> Ed25519Signer:
        if self._signers is None:
            return signer_for(self.context, organisation)
        signer = self._signers.get(organisation)
        if signer is None:
            signer = self._signers[organisation] = signer_for(self.context, organisation)
        return signer

    # --- writing -----------------------------------------------------------------------------------------------

    def prepare_issue(
        self, organisation: str, document: bytes | Mapping[str, Any], model_id: str | None = None, *,
        second_life: bool = False,
    ) -> tuple[Append, list[Problem]]:
        """Validate and sign version 1 without storing it (bulk import stores many in one transaction)."""
        if self._signers is None or organisation not in self._signers:
            self.context.store.get_organisation(organisation)  # NotFound for an unknown organisation
        model_version: int | None = None
        if model_id is not None:
            item = _parsed(document)
            document, model_version = BatteryModels(self.context).compose(model_id, organisation, item)
        checked = check(document, RuleContext(self.context.clock()))
        wire = normalise(checked.passport)
        if not second_life and (wire["general"]["batteryStatus"] != "original"
                                or wire["general"].get("successorPassports")):
            raise TransitionNotAllowed(
                "a passport starts 'original'; second-life passports are created by the repurpose action")
        if "custody" in wire:
            raise TransitionNotAllowed("custody is recorded by custody events, not in the passport document")
        passport_id = wire["passportId"].removeprefix("urn:uuid:") if "passportId" in wire else str(uuid7())
        wire["passportId"] = f"urn:uuid:{passport_id}"
        append = self.sign(organisation, passport_id, 1, wire, checked.warnings, None,
                           model_id=model_id, model_version=model_version)
        return append, checked.warnings

    def issue(
        self, organisation: str, document: bytes | Mapping[str, Any], model_id: str | None = None
    ) -> Issued:
        """Version 1 of a new passport, signed by ``organisation``'s active key."""
        append, warnings = self.prepare_issue(organisation, document, model_id)
        self.context.store.add_version(*append)
        return Issued(append[0], append[1], warnings)

    def revise(
        self, passport_id: str, organisation: str, patch: Mapping[str, Any], expected_version: int
    ) -> Issued:
        """Version N+1 from a JSON Merge Patch of version N; VersionConflict when N is no longer current."""
        record = self.writable(passport_id, organisation)
        previous = self.context.store.get_version(passport_id, expected_version)
        before = full_document(previous)
        document = merge_patch(before, patch)
        for path in IMMUTABLE:
            if get_path(document, path) != get_path(before, path):
                raise InvalidInput(f"/{'/'.join(path)} cannot change: it identifies the passport and the battery")
        for path in LIFECYCLE:
            if get_path(document, path) != get_path(before, path):
                raise TransitionNotAllowed(
                    f"/{'/'.join(path)} changes only through lifecycle events or the repurpose action")
        return self.commit(record, document, previous)

    def commit(
        self, record: PassportRecord, document: Mapping[str, Any], previous: VersionRecord, *,
        organisation: str | None = None, ceased: bool = False, **record_changes: Any,
    ) -> Issued:
        """Validate ``document`` as the next version of ``record`` and store it."""
        append, warnings = self.prepare_next(record, document, previous, organisation=organisation, ceased=ceased,
                                             **record_changes)
        self.context.store.add_version(*append)
        return Issued(append[0], append[1], warnings)

    def prepare_next(
        self, record: PassportRecord, document: Mapping[str, Any], previous: VersionRecord, *,
        organisation: str | None = None, signer: str | None = None, responsible: str | None = None,
        ceased: bool = False, **record_changes: Any,
    ) -> tuple[Append, list[Problem]]:
        """The next version, signed by ``signer`` (default: ``organisation``, else the responsible operator); the
        responsible operator becomes ``responsible`` (default: likewise)."""
        checked = check(dict(document), RuleContext(self.context.clock()))
        wire = normalise(checked.passport)
        changes = {"model_id": record.model_id, "model_version": record.model_version, "holder": record.holder}
        changes.update(record_changes)
        append = self.sign(signer or organisation or record.organisation, record.passport_id, previous.version + 1,
                           wire, checked.warnings, previous, created=record.created_at, ceased=ceased,
                           responsible=responsible or organisation or record.organisation, **changes)
        return append, checked.warnings

    def sign(
        self, organisation: str, passport_id: str, number: int, wire: dict[str, Any], warnings: list[Problem],
        previous: VersionRecord | None, *, created: dt.datetime | None = None, ceased: bool = False,
        responsible: str | None = None, **record_fields: Any,
    ) -> Append:
        """Sign version ``number`` with ``organisation``'s key; the record names ``responsible`` (default: the same
        organisation) as the responsible operator."""
        now = truncate_ms(self.context.clock())
        subject = VersionSubject(passport_id, number, wire["general"]["gtin"], wire["general"]["serialNumber"],
                                 self.context.urls.did(organisation), rfc3339(now), ceased)
        signed = sign_version(self.context.urls, self._signer(organisation), subject, wire,
                              previous.credentials if previous else None)
        version = VersionRecord(passport_id, number, now, signed.full_hash, subject.issuer, signed.credentials,
                                tuple(w.as_dict() for w in warnings))
        record = record_of(passport_id, number, wire, responsible or organisation, created or now, now,
                           ceased=ceased, **record_fields)
        return record, version, previous.version if previous else None

    def writable(self, passport_id: str, organisation: str) -> PassportRecord:
        """The passport, if ``organisation`` may write it now: responsible for it, and the passport not frozen."""
        record = self.context.store.get_passport(passport_id)
        check_writable(record, self.current_document(passport_id), organisation)
        return record

    def reissue_with_model(self, passport_id: str, model_document: Mapping[str, Any], model_version: int) -> Issued:
        """A new version carrying the corrected model data (the re-issue job)."""
        record = self.context.store.get_passport(passport_id)
        previous = self.context.store.get_version(passport_id, record.current_version)
        document = deep_merge(model_document, item_part(full_document(previous)))
        return self.commit(record, document, previous, model_version=model_version)

    # --- reading -----------------------------------------------------------------------------------------------

    def current_document(self, passport_id: str) -> dict[str, Any]:
        return full_document(self.context.store.get_version(passport_id))

    def credential(self, passport_id: str, view: View, version: int | None = None) -> bytes:
        return self.context.store.get_version(passport_id, version).credential(view.value)

    def find(self, gtin: str, serial: str) -> PassportRecord:
        return self.context.store.find_passport(gtin, serial)


def _parsed(document: bytes | Mapping[str, Any]) -> Mapping[str, Any]:
    from passport import jsonio

    value = jsonio.loads(document) if isinstance(document, bytes) else document
    if not isinstance(value, Mapping):
        raise InvalidInput("a passport document is a JSON object")
    return value


__all__ = [
    "IMMUTABLE",
    "LIFECYCLE",
    "Append",
    "Issued",
    "Passports",
    "check_writable",
    "full_document",
    "get_path",
    "merge_patch",
    "normalise",
    "parse_passport_id",
    "record_of",
]
