"""Verifying a dump offline (the format is described in dump_format): lines parsed and fed to the trailer's
digest, every proof checked against the DID documents the dump embeds (or a fallback resolver), every view's chain
of every passport followed, and the trailer's counts and digest compared. The verifier is fed line by line, so that
restore writes the very lines it verified, and passport.service.verification reuses it on the store's contents."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from passport import jsonio
from passport.access import VIEW_ORDER, View
from passport.canonical import canonicalize, sha256
from passport.credentials import check_successor, issuer_of, subject_of, unsigned, verify_credential
from passport.errors import InvalidInput, VerificationError
from passport.service.dump_format import FORMAT, LINE_TYPES
from passport.service.resolvers import DocumentResolver
from passport.signing import KeyResolver
from passport.urls import organisation_of_did


def read_lines(lines: Iterable[bytes], digest: Any = None) -> Iterator[dict[str, Any]]:
    """Parsed lines; ``digest`` (a hashlib object), when given, is fed every line before the trailer."""
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            record = jsonio.loads(raw)
        except InvalidInput as exc:
            raise VerificationError("malformed", f"line {number}: {exc.detail}") from None
        if not isinstance(record, dict) or record.get("type") not in LINE_TYPES:
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
    _last_hash: dict[str, str] = field(default_factory=dict)
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
                "malformed", f"line {record.get('_line')}: unexpected content ({type(exc).__name__})"
            ) from None

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
            self._current, self._last, self._last_hash, self._highest = passport, {}, {}, 0
            self.report.passports += 1
        if not isinstance(number, int):
            raise VerificationError("malformed", f"line {record['_line']}: no version number")
        if number <= self._highest:
            raise VerificationError(
                "versions-reordered", f"{passport}: version {number} follows version {self._highest}"
            )
        self._highest = number
        credentials = record.get("credentials")
        if not isinstance(credentials, Mapping) or set(credentials) != {v.value for v in VIEW_ORDER}:
            raise VerificationError("malformed", f"line {record['_line']}: a version needs all four views")
        for view in VIEW_ORDER:
            self._credential(record, view.value, credentials[view.value])
        if record.get("createdAt") != credentials[View.FULL.value].get("validFrom"):
            # The version's time is its signature's (validFrom, signed); unchecked, a changed createdAt was
            # restored as is, and a malformed one failed the restore with a bare ValueError.
            raise VerificationError("malformed", f"line {record['_line']}: createdAt differs from the signed validFrom")
        self.report.versions += 1

    def _credential(self, record: Mapping[str, Any], view: str, credential: Mapping[str, Any]) -> None:
        subject = subject_of(credential)
        if (subject.get("passportId"), subject.get("version"), subject.get("view")) != (
            record.get("passportId"),
            record.get("version"),
            view,
        ):
            raise VerificationError("malformed", f"line {record['_line']}: credential does not match its line")
        if not issuer_of(credential).startswith("did:"):
            raise VerificationError("issuer-key-mismatch", f"line {record['_line']}: the issuer is not a DID")
        # the JCS bytes of the credential without its proof are hashed once: for its signature, and as what the
        # next version's previousVersionHash must name
        unsigned_hash = sha256(canonicalize(unsigned(credential)))
        verify_credential(credential, self.resolve, unsigned_hash=unsigned_hash)
        try:
            check_successor(self._last.get(view), credential, self._last_hash.get(view))
        except VerificationError as exc:
            if exc.reason != "version-missing":
                raise
            self._gap = self._gap or exc
        self._last[view] = credential
        self._last_hash[view] = "sha256:" + unsigned_hash.hex()
        self.report.credentials += 1

    def finish(self) -> DumpReport:
        trailer = self._trailer
        if trailer is None:
            raise VerificationError("malformed", "the export has no trailer: it is truncated")
        if (trailer.get("passports"), trailer.get("versions")) != (self.report.passports, self.report.versions):
            raise VerificationError(
                "version-missing",
                f"the trailer counts {trailer.get('passports')} passports and "
                f"{trailer.get('versions')} versions, the export holds {self.report.passports} and "
                f"{self.report.versions}",
            )
        if self.digest is not None and trailer.get("sha256") != self.digest.hexdigest():
            raise VerificationError(
                "export-digest-mismatch",
                "the lines of the export do not match the SHA-256 in its trailer: it was changed after it was written",
            )
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
            "malformed", f"line {record['_line']}: the key history of {did} differs from its DID document"
        )


def verify_dump(lines: Iterable[bytes], fallback: KeyResolver | None = None) -> DumpReport:
    verifier = DumpVerifier(fallback, hashlib.sha256())
    for record in read_lines(lines, verifier.digest):
        verifier.feed(record)
    return verifier.finish()


__all__ = ["DumpReport", "DumpVerifier", "read_lines", "verify_dump"]
