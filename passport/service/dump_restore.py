"""Restoring a dump into an empty database (the format is described in dump_format): each line verified by
dump_verify's DumpVerifier as it is read, converted to store records, and everything written in the store's one
transaction, which commits only once the trailer has been checked."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from passport.access import VIEW_ORDER, View
from passport.canonical import canonicalize
from passport.credentials import credential_hash
from passport.errors import VerificationError
from passport.materials import recovery_lines
from passport.models.base import parse_datetime
from passport.service.context import ServiceContext
from passport.service.dump_format import EXTRA_TYPES
from passport.service.dump_verify import DumpReport, DumpVerifier, read_lines
from passport.service.passports import record_of
from passport.storage import (
    AccessRequestRecord,
    AuditEntry,
    GrantRecord,
    KeyRecord,
    ModelRecord,
    ModelVersion,
    Organisation,
    PassportRecord,
    RestoredExtras,
    VersionRecord,
)
from passport.urls import organisation_of_did

T = TypeVar("T")


def restore(context: ServiceContext, path: Any) -> DumpReport:
    """Restore a dump into an empty database: everything verified, and everything written in one transaction, so
    that if anything fails, nothing is written. Credentials are stored byte for byte as they were exported (their
    canonical form).

    It used to verify the file, then read it a second time to write it in batches of their own transactions, with
    each organisation and key in its own: a dump that verified but could not be stored (two passports with one
    GTIN and serial, a repeated organisation) left part of it written, and a file changed between the two reads
    was written unverified. Now the lines written are the lines verified, in the same pass, inside the store's
    transaction; the trailer is checked before it commits."""
    with open(path, "rb") as handle:
        verifier = DumpVerifier(digest=hashlib.sha256())
        records = read_lines(handle, verifier.digest)
        organisations: list[tuple[Organisation, list[KeyRecord]]] = []
        extras = RestoredExtras()
        first_version: dict[str, Any] | None = None
        for record in records:
            verifier.feed(record)
            if record["type"] == "organisation":
                organisations.append(_restoring(_restore_organisation, record))
            elif record["type"] == "version":
                first_version = record
                break
            elif record["type"] in EXTRA_TYPES:
                _restoring(_collect_extra, record, extras)

        def versions() -> Iterator[tuple[PassportRecord, VersionRecord, int | None]]:
            state: dict[str, _PassportState] = {}
            if first_version is not None:
                yield _restoring(_restore_version, first_version, state)
            for record in records:
                verifier.feed(record)
                if record["type"] == "version":
                    yield _restoring(_restore_version, record, state)
                elif record["type"] in EXTRA_TYPES:
                    _restoring(_collect_extra, record, extras)
            verifier.finish()

        context.store.restore(organisations, versions(), extras=lambda: extras)
    return verifier.report


def _restoring(convert: Callable[..., T], record: Mapping[str, Any], *args: Any) -> T:
    """A verified line as store records; what does not convert is a malformed line, never a bare exception."""
    try:
        return convert(record, *args)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise VerificationError(
            "malformed", f"line {record.get('_line')}: cannot be restored ({type(exc).__name__})"
        ) from None


def _restore_organisation(record: Mapping[str, Any]) -> tuple[Organisation, list[KeyRecord]]:
    slug = str(record["slug"])
    keys = [
        KeyRecord(
            slug,
            key["keyId"],
            key["publicKeyMultibase"],
            parse_datetime(key["createdAt"]),
            parse_datetime(key["retiredAt"]) if key.get("retiredAt") else None,
            parse_datetime(key["revokedAt"]) if key.get("revokedAt") else None,
        )
        for key in record["keys"]
    ]
    return Organisation(slug, str(record["name"]), parse_datetime(record["createdAt"])), keys


@dataclass
class _PassportState:
    created: Any
    custody_events: int = 0


def _slug_of(did: Any) -> str | None:
    return organisation_of_did(did) if isinstance(did, str) else None


def _restore_version(
    record: Mapping[str, Any], state: dict[str, _PassportState]
) -> tuple[PassportRecord, VersionRecord, int | None]:
    credentials = {view: canonicalize(record["credentials"][view]) for view in (v.value for v in VIEW_ORDER)}
    full = record["credentials"][View.FULL.value]
    passport_id = str(record["passportId"]).removeprefix("urn:uuid:")
    number, moment = int(record["version"]), parse_datetime(record["createdAt"])
    known = state.setdefault(passport_id, _PassportState(moment))
    issuer = organisation_of_did(str(full["issuer"]))
    if issuer is None:
        raise VerificationError("malformed", f"{passport_id}: issuer {full['issuer']} is not an organisation DID")
    document = full["credentialSubject"]["passport"]
    # Custody is signed in the document: who is responsible (the signer of a custody event may be the holder), who
    # holds the battery, and what a recycler recovered (the recoveries of the version that recorded them).
    custody = document.get("custody") or {}
    events = custody.get("events") or []
    responsible = _slug_of(custody.get("responsibleOperator")) or issuer
    recovered: tuple[tuple[str, float | None, float], ...] = ()
    recycler = None
    if len(events) > known.custody_events and events[-1].get("type") == "recycled":
        recycler = _slug_of(events[-1].get("by"))
        recovered = recovery_lines(
            document, ((m["material"], float(m["mass"])) for m in events[-1].get("recoveredMaterials") or [])
        )
    known.custody_events = len(events)
    version = VersionRecord(
        passport_id,
        number,
        moment,
        credential_hash(full),
        str(full["issuer"]),
        credentials,
        tuple(record.get("warnings") or ()),
    )
    # ceased is signed (credentialSubject.passportStatus); it was dropped, so a ceased passport came back live.
    ceased = full["credentialSubject"].get("passportStatus") == "ceased"
    model_id = record.get("modelId")
    passport = record_of(
        passport_id,
        number,
        document,
        responsible,
        known.created,
        moment,
        ceased=ceased,
        model_id=str(model_id) if model_id is not None else None,
        model_version=int(record["modelVersion"]) if model_id is not None else None,
        holder=_slug_of(custody.get("holder")),
        recovered=recovered if recycler else (),
        recycler=recycler,
    )
    return passport, version, (number - 1) or None


def _time(value: Any) -> Any:
    return parse_datetime(value) if value is not None else None


def _collect_extra(record: Mapping[str, Any], extras: RestoredExtras) -> None:
    kind = record["type"]
    if kind == "model":
        model = ModelRecord(
            str(record["id"]),
            str(record["organisation"]),
            str(record["gtin"]),
            str(record["modelIdentifier"]),
            int(record["currentVersion"]),
            parse_datetime(record["createdAt"]),
            parse_datetime(record["updatedAt"]),
        )
        versions = [
            ModelVersion(model.model_id, int(v["version"]), dict(v["document"]), parse_datetime(v["createdAt"]))
            for v in record["versions"]
        ]
        extras.models.append((model, versions))
    elif kind == "purpose":
        extras.purposes.append(
            {
                "organisation": str(record["organisation"]),
                "purpose": str(record["purpose"]),
                "status": str(record["status"]),
                "requested_at": _time(record["requestedAt"]),
                "decided_at": _time(record["decidedAt"]),
            }
        )
    elif kind == "grant":
        extras.grants.append(
            GrantRecord(
                str(record["id"]),
                str(record["grantee"]),
                str(record["grantor"]),
                str(record["scopeKind"]),
                str(record["scopeValue"]),
                str(record["purpose"]),
                parse_datetime(record["createdAt"]),
                parse_datetime(record["expiresAt"]),
                _time(record["revokedAt"]),
                record["requestId"],
            )
        )
    elif kind == "access-request":
        extras.requests.append(
            AccessRequestRecord(
                str(record["id"]),
                str(record["requester"]),
                str(record["approver"]),
                str(record["scopeKind"]),
                str(record["scopeValue"]),
                str(record["purpose"]),
                str(record["justification"]),
                str(record["status"]),
                parse_datetime(record["createdAt"]),
                _time(record["decidedAt"]),
                record["grantId"],
                record["reason"],
            )
        )
    elif kind == "owner":
        extras.owners.append(
            {
                "passport_id": str(record["passportId"]),
                "owner": str(record["owner"]),
                "by": str(record["by"]),
                "registered_at": parse_datetime(record["registeredAt"]),
            }
        )
    elif kind == "audit":
        extras.audit.append(
            AuditEntry(
                str(record["id"]),
                parse_datetime(record["at"]),
                record["actor"],
                record["role"],
                record["apiKeyId"],
                str(record["action"]),
                str(record["subject"]),
                dict(record["details"]),
            )
        )


__all__ = ["restore"]
