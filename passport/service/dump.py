"""Exports (NDJSON): every version's credentials, plus the organisations with their DID documents and public key
history, so that verifying a dump needs no network. Private keys and API keys are never exported.

Lines, in order: one ``header``; one ``organisation`` per organisation; one ``version`` per passport version
(passports contiguous, versions ascending); one ``trailer`` with the counts and the SHA-256 of every line before
it. Credentials are protected by their signatures; the digest also covers what no signature does (organisation
names, creation times, warnings), so that a dump with one changed byte anywhere is rejected."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any, TypeVar

from passport import jsonio
from passport.access import VIEW_ORDER, View
from passport.canonical import canonicalize
from passport.clock import rfc3339
from passport.credentials import check_successor, credential_hash, issuer_of, subject_of, verify_credential
from passport.errors import InvalidInput, VerificationError
from passport.models.base import parse_datetime
from passport.service.context import ServiceContext
from passport.service.organisations import did_document
from passport.service.passports import record_of
from passport.service.resolvers import DocumentResolver
from passport.signing import KeyResolver
from passport.storage import KeyRecord, Organisation, PassportRecord, VersionRecord
from passport.urls import organisation_of_did

T = TypeVar("T")
FORMAT = "passport-export"
FORMAT_VERSION = 1


def _line(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


def export(context: ServiceContext, out: IO[bytes], passport_id: str | None = None) -> tuple[int, int]:
    """Write the dump (of one passport, or of everything); return (passports, versions) written."""
    store, urls = context.store, context.urls
    digest = hashlib.sha256()

    def write(value: Mapping[str, Any]) -> None:
        line = _line(value)
        digest.update(line)
        out.write(line)

    write({"type": "header", "format": FORMAT, "formatVersion": FORMAT_VERSION,
           "exportedAt": rfc3339(context.clock()), "service": urls.base})
    keys = store.list_keys()
    for organisation in store.list_organisations():
        own = [k for k in keys if k.organisation == organisation.slug]
        write(_organisation_line(context, organisation, own))
    versions = [store.get_version(passport_id, v.version) for v in store.list_versions(passport_id)] if (
        passport_id) else store.iter_versions()
    passports, count = set(), 0
    for version in versions:
        write(_version_line(version))
        passports.add(version.passport_id)
        count += 1
    out.write(_line({"type": "trailer", "passports": len(passports), "versions": count,
                     "sha256": digest.hexdigest()}))
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


def read_lines(lines: Iterable[bytes], digest: Any = None) -> Iterator[dict[str, Any]]:
    """Parsed lines; ``digest`` (a hashlib object), when given, is fed every line before the trailer."""
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            record = jsonio.loads(raw)
        except InvalidInput as exc:
            raise VerificationError("malformed", f"line {number}: {exc.detail}") from None
        if not isinstance(record, dict) or record.get("type") not in ("header", "organisation", "version", "trailer"):
            raise VerificationError("malformed", f"line {number}: not a line of a passport export")
        if digest is not None and record["type"] != "trailer":
            digest.update(raw.rstrip(b"\r\n") + b"\n")
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
    digest: Any = None  # hashlib sha256 of the lines read so far (read_lines feeds it); None: not a file
    report: DumpReport = field(default_factory=DumpReport)
    documents: DocumentResolver = field(default_factory=DocumentResolver)
    _last: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    _current: str | None = None
    _highest: int = 0
    _gap: VerificationError | None = None
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
        try:
            self._feed(record)
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            # A line of the right type but the wrong shape: it used to escape as a traceback from `passport verify`.
            raise VerificationError(
                "malformed", f"line {record.get('_line')}: unexpected content ({type(exc).__name__})") from None

    def _feed(self, record: Mapping[str, Any]) -> None:
        kind = record["type"]
        if self._trailer is not None:
            raise VerificationError("malformed", f"line {record['_line']}: content after the trailer")
        if kind == "header" and record.get("format") != FORMAT:
            raise VerificationError("malformed", "not a passport export (header format)")
        if kind == "organisation":
            _check_organisation(record)
            self.documents.add(record["didDocument"])
            self.report.organisations += 1
        elif kind == "version":
            self._version(record)
        elif kind == "trailer":
            self._end_passport()
            self._trailer = record

    def _end_passport(self) -> None:
        # A gap in a passport's versions is only known to be a *removed* version once its lines are over: the
        # "missing" version may come later, out of order (versions-reordered, raised when it does).
        if self._gap is not None:
            raise self._gap
        if self._current is not None:
            self._finished.add(self._current)

    def _version(self, record: Mapping[str, Any]) -> None:
        passport, number = str(record.get("passportId")), record.get("version")
        if passport != self._current:
            if passport in self._finished:
                raise VerificationError("versions-reordered", f"{passport}: its versions are not contiguous")
            self._end_passport()
            self._current, self._last, self._highest = passport, {}, 0
            self.report.passports += 1
        if not isinstance(number, int):
            raise VerificationError("malformed", f"line {record['_line']}: no version number")
        if number <= self._highest:
            raise VerificationError(
                "versions-reordered", f"{passport}: version {number} follows version {self._highest}")
        self._highest = number
        credentials = record.get("credentials")
        if not isinstance(credentials, Mapping) or set(credentials) != {v.value for v in VIEW_ORDER}:
            raise VerificationError("malformed", f"line {record['_line']}: a version needs all four views")
        for view in VIEW_ORDER:
            self._credential(record, view.value, credentials[view.value])
        if record.get("createdAt") != credentials[View.FULL.value].get("validFrom"):
            # The version's time is its signature's (validFrom, signed); unchecked, a changed createdAt was
            # restored as is, and a malformed one failed the restore with a bare ValueError.
            raise VerificationError(
                "malformed", f"line {record['_line']}: createdAt differs from the signed validFrom")
        self.report.versions += 1

    def _credential(self, record: Mapping[str, Any], view: str, credential: Mapping[str, Any]) -> None:
        subject = subject_of(credential)
        if (subject.get("passportId"), subject.get("version"), subject.get("view")) != (
                record.get("passportId"), record.get("version"), view):
            raise VerificationError("malformed", f"line {record['_line']}: credential does not match its line")
        if not issuer_of(credential).startswith("did:"):
            raise VerificationError("issuer-key-mismatch", f"line {record['_line']}: the issuer is not a DID")
        verify_credential(credential, self.resolve)
        try:
            check_successor(self._last.get(view), credential)
        except VerificationError as exc:
            if exc.reason != "version-missing":
                raise
            self._gap = self._gap or exc
        self._last[view] = credential
        self.report.credentials += 1

    def finish(self) -> DumpReport:
        trailer = self._trailer
        if trailer is None:
            raise VerificationError("malformed", "the export has no trailer: it is truncated")
        if (trailer.get("passports"), trailer.get("versions")) != (self.report.passports, self.report.versions):
            raise VerificationError(
                "version-missing", f"the trailer counts {trailer.get('passports')} passports and "
                f"{trailer.get('versions')} versions, the export holds {self.report.passports} and "
                f"{self.report.versions}")
        if self.digest is not None and trailer.get("sha256") != self.digest.hexdigest():
            raise VerificationError(
                "export-digest-mismatch", "the lines of the export do not match the SHA-256 in its trailer: it was "
                "changed after it was written")
        return self.report


def _check_organisation(record: Mapping[str, Any]) -> None:
    """The embedded DID document (what verification uses) must say what the key history (what restore stores)
    says; they were not compared, so a restore could store a key history that was never verified."""
    did, document = record["did"], record["didDocument"]
    if organisation_of_did(did) != record["slug"] or document.get("id") != did:
        raise VerificationError("malformed", f"line {record['_line']}: organisation, DID and DID document differ")
    methods = {method["id"]: method for method in document.get("verificationMethod") or []}
    stated = {
        f"{did}#{key['keyId']}": (key["publicKeyMultibase"], key.get("retiredAt"), key.get("revokedAt"))
        for key in record["keys"]
    }
    published = {
        method_id: (method.get("publicKeyMultibase"), method.get("expires"), method.get("revoked"))
        for method_id, method in methods.items()
    }
    if stated != published:
        raise VerificationError(
            "malformed", f"line {record['_line']}: the key history of {did} differs from its DID document")


def verify_dump(lines: Iterable[bytes], fallback: KeyResolver | None = None) -> DumpReport:
    verifier = DumpVerifier(fallback, hashlib.sha256())
    for record in read_lines(lines, verifier.digest):
        verifier.feed(record)
    return verifier.finish()


# --- restoring ------------------------------------------------------------------------------------------------


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
        first_version: dict[str, Any] | None = None
        for record in records:
            verifier.feed(record)
            if record["type"] == "organisation":
                organisations.append(_restoring(_restore_organisation, record))
            elif record["type"] == "version":
                first_version = record
                break

        def versions() -> Iterator[tuple[PassportRecord, VersionRecord, int | None]]:
            created: dict[str, Any] = {}
            if first_version is not None:
                yield _restoring(_restore_version, first_version, created)
            for record in records:
                verifier.feed(record)
                if record["type"] == "version":
                    yield _restoring(_restore_version, record, created)
            verifier.finish()

        context.store.restore(organisations, versions())
    return verifier.report


def _restoring(convert: Callable[..., T], record: Mapping[str, Any], *args: Any) -> T:
    """A verified line as store records; what does not convert is a malformed line, never a bare exception."""
    try:
        return convert(record, *args)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise VerificationError(
            "malformed", f"line {record.get('_line')}: cannot be restored ({type(exc).__name__})") from None


def _restore_organisation(record: Mapping[str, Any]) -> tuple[Organisation, list[KeyRecord]]:
    slug = str(record["slug"])
    keys = [
        KeyRecord(slug, key["keyId"], key["publicKeyMultibase"], parse_datetime(key["createdAt"]),
                  parse_datetime(key["retiredAt"]) if key.get("retiredAt") else None,
                  parse_datetime(key["revokedAt"]) if key.get("revokedAt") else None)
        for key in record["keys"]
    ]
    return Organisation(slug, str(record["name"]), parse_datetime(record["createdAt"])), keys


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
    version = VersionRecord(passport_id, number, moment, credential_hash(full), str(full["issuer"]), credentials,
                            tuple(record.get("warnings") or ()))
    # ceased is signed (credentialSubject.passportStatus); it was dropped, so a ceased passport came back live.
    ceased = full["credentialSubject"].get("passportStatus") == "ceased"
    passport = record_of(passport_id, number, full["credentialSubject"]["passport"], organisation,
                         created[passport_id], moment, ceased=ceased)
    return passport, version, (number - 1) or None


__all__ = ["FORMAT", "DumpReport", "DumpVerifier", "export", "read_lines", "restore", "verify_dump"]
