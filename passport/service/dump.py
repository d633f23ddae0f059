"""Exports (NDJSON): every version's credentials, plus the organisations with their DID documents and public key
history, so that verifying a dump needs no network. Private keys and API keys are never exported.

Lines, in order: one ``header``; one ``organisation`` per organisation; one ``version`` per passport version
(passports contiguous, versions ascending); one ``trailer`` with the counts."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from passport import jsonio
from passport.access import VIEW_ORDER, View
from passport.canonical import canonicalize
from passport.clock import rfc3339
from passport.credentials import check_successor, subject_of, verify_credential
from passport.errors import InvalidInput, VerificationError
from passport.models.base import parse_datetime
from passport.service.context import ServiceContext
from passport.service.organisations import did_document
from passport.service.passports import record_of
from passport.service.resolvers import DocumentResolver
from passport.signing import KeyResolver
from passport.storage import KeyRecord, Organisation, PassportRecord, VersionRecord
from passport.urls import organisation_of_did

FORMAT = "passport-export"
FORMAT_VERSION = 1
BATCH = 500


def _line(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


def export(context: ServiceContext, out: IO[bytes], passport_id: str | None = None) -> tuple[int, int]:
    """Write the dump (of one passport, or of everything); return (passports, versions) written."""
    store, urls = context.store, context.urls
    out.write(_line({"type": "header", "format": FORMAT, "formatVersion": FORMAT_VERSION,
                     "exportedAt": rfc3339(context.clock()), "service": urls.base}))
    keys = store.list_keys()
    for organisation in store.list_organisations():
        own = [k for k in keys if k.organisation == organisation.slug]
        out.write(_line(_organisation_line(context, organisation, own)))
    versions = [store.get_version(passport_id, v.version) for v in store.list_versions(passport_id)] if (
        passport_id) else store.iter_versions()
    passports, count = set(), 0
    for version in versions:
        out.write(_line(_version_line(version)))
        passports.add(version.passport_id)
        count += 1
    out.write(_line({"type": "trailer", "passports": len(passports), "versions": count}))
    return len(passports), count


def _organisation_line(context: ServiceContext, organisation: Organisation, keys: list[KeyRecord]) -> dict[str, Any]:
    return {
        "type": "organisation", "slug": organisation.slug, "name": organisation.name,
        "createdAt": rfc3339(organisation.created_at), "did": context.urls.did(organisation.slug),
        "didDocument": did_document(context.urls, organisation.slug, keys),
        "keys": [{"keyId": k.key_id, "publicKeyMultibase": k.public_key_multibase, "createdAt": rfc3339(k.created_at),
                  "retiredAt": rfc3339(k.retired_at) if k.retired_at else None,
                  "revokedAt": rfc3339(k.revoked_at) if k.revoked_at else None} for k in keys],
    }


def _version_line(version: VersionRecord) -> dict[str, Any]:
    return {
        "type": "version", "passportId": f"urn:uuid:{version.passport_id}", "version": version.version,
        "createdAt": rfc3339(version.created_at), "warnings": list(version.warnings),
        "credentials": {view: version.credential_json(view) for view in (v.value for v in VIEW_ORDER)},
    }


# --- reading and verifying ------------------------------------------------------------------------------------


def read_lines(lines: Iterable[bytes]) -> Iterator[dict[str, Any]]:
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            record = jsonio.loads(raw)
        except InvalidInput as exc:
            raise VerificationError("malformed", f"line {number}: {exc.detail}") from None
        if not isinstance(record, dict) or record.get("type") not in ("header", "organisation", "version", "trailer"):
            raise VerificationError("malformed", f"line {number}: not a line of a passport export")
        record["_line"] = number
        yield record


@dataclass
class DumpReport:
    organisations: int = 0
    passports: int = 0
    versions: int = 0
    credentials: int = 0


@dataclass
class DumpVerifier:
    """Verifies a dump line by line: every proof against the embedded DID documents (or ``fallback``), and every
    view's chain of every passport."""

    fallback: KeyResolver | None = None
    report: DumpReport = field(default_factory=DumpReport)
    documents: DocumentResolver = field(default_factory=DocumentResolver)
    _last: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    _current: str | None = None
    _finished: set[str] = field(default_factory=set)
    _trailer: Mapping[str, Any] | None = None

    def resolve(self, method_id: str) -> Any:
        try:
            return self.documents(method_id)
        except VerificationError as exc:
            if exc.reason != "unknown-key" or self.fallback is None:
                raise
            return self.fallback(method_id)

    def feed(self, record: Mapping[str, Any]) -> None:
        kind = record["type"]
        if self._trailer is not None:
            raise VerificationError("malformed", f"line {record['_line']}: content after the trailer")
        if kind == "header" and record.get("format") != FORMAT:
            raise VerificationError("malformed", "not a passport export (header format)")
        if kind == "organisation":
            self.documents.add(record["didDocument"])
            self.report.organisations += 1
        elif kind == "version":
            self._version(record)
        elif kind == "trailer":
            self._trailer = record

    def _version(self, record: Mapping[str, Any]) -> None:
        passport = str(record.get("passportId"))
        if passport != self._current:
            if passport in self._finished:
                raise VerificationError("versions-reordered", f"{passport}: its versions are not contiguous")
            if self._current is not None:
                self._finished.add(self._current)
            self._current, self._last = passport, {}
            self.report.passports += 1
        credentials = record.get("credentials")
        if not isinstance(credentials, Mapping) or set(credentials) != {v.value for v in VIEW_ORDER}:
            raise VerificationError("malformed", f"line {record['_line']}: a version needs all four views")
        for view in VIEW_ORDER:
            credential = credentials[view.value]
            subject = subject_of(credential)
            if (subject.get("passportId"), subject.get("version"), subject.get("view")) != (
                    passport, record.get("version"), view.value):
                raise VerificationError("malformed", f"line {record['_line']}: credential does not match its line")
            verify_credential(credential, self.resolve)
            check_successor(self._last.get(view.value), credential)
            self._last[view.value] = credential
            self.report.credentials += 1
        self.report.versions += 1

    def finish(self) -> DumpReport:
        trailer = self._trailer
        if trailer is None:
            raise VerificationError("malformed", "the export has no trailer: it is truncated")
        if (trailer.get("passports"), trailer.get("versions")) != (self.report.passports, self.report.versions):
            raise VerificationError(
                "version-missing", f"the trailer counts {trailer.get('passports')} passports and "
                f"{trailer.get('versions')} versions, the export holds {self.report.passports} and "
                f"{self.report.versions}")
        return self.report


def verify_dump(lines: Iterable[bytes], fallback: KeyResolver | None = None) -> DumpReport:
    verifier = DumpVerifier(fallback)
    for record in read_lines(lines):
        verifier.feed(record)
    return verifier.finish()


# --- restoring ------------------------------------------------------------------------------------------------


def restore(context: ServiceContext, path: Any) -> DumpReport:
    """Restore a dump into an empty database. Everything is verified first; if anything fails, nothing is
    written. Credentials are stored byte for byte as they were exported (their canonical form)."""
    with open(path, "rb") as handle:
        report = verify_dump(handle)
    if not context.store.is_empty():
        raise InvalidInput("restore needs an empty database")
    with open(path, "rb") as handle:
        batch: list[tuple[PassportRecord, VersionRecord, int | None]] = []
        created: dict[str, Any] = {}
        for record in read_lines(handle):
            if record["type"] == "organisation":
                _restore_organisation(context, record)
            elif record["type"] == "version":
                batch.append(_restore_version(record, created))
                if len(batch) >= BATCH:
                    context.store.add_versions(batch)
                    batch = []
        if batch:
            context.store.add_versions(batch)
    return report


def _restore_organisation(context: ServiceContext, record: Mapping[str, Any]) -> None:
    slug = str(record["slug"])
    context.store.create_organisation(Organisation(slug, str(record["name"]), parse_datetime(record["createdAt"])))
    for key in record["keys"]:
        context.store.add_key(KeyRecord(
            slug, key["keyId"], key["publicKeyMultibase"], parse_datetime(key["createdAt"]),
            parse_datetime(key["retiredAt"]) if key.get("retiredAt") else None,
            parse_datetime(key["revokedAt"]) if key.get("revokedAt") else None))


def _restore_version(
    record: Mapping[str, Any], created: dict[str, Any]
) -> tuple[PassportRecord, VersionRecord, int | None]:
    credentials = {view: canonicalize(record["credentials"][view]) for view in (v.value for v in VIEW_ORDER)}
    full = record["credentials"][View.FULL.value]
    passport_id = str(record["passportId"]).removeprefix("urn:uuid:")
    number, moment = int(record["version"]), parse_datetime(record["createdAt"])
    created.setdefault(passport_id, moment)
    organisation = organisation_of_did(str(full["issuer"]))
    if organisation is None:
        raise VerificationError("malformed", f"{passport_id}: issuer {full['issuer']} is not an organisation DID")
    from passport.credentials import credential_hash

    version = VersionRecord(passport_id, number, moment, credential_hash(full), str(full["issuer"]), credentials,
                            tuple(record.get("warnings") or ()))
    passport = record_of(passport_id, number, full["credentialSubject"]["passport"], organisation,
                         created[passport_id], moment)
    return passport, version, (number - 1) or None


__all__ = ["FORMAT", "DumpReport", "DumpVerifier", "export", "read_lines", "restore", "verify_dump"]
