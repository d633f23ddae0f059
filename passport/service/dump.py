"""Exports (NDJSON): every version's credentials, plus the organisations with their DID documents and public key
history, so that verifying a dump needs no network. Private keys and API keys are never exported.

Lines, in order: one ``header``; one ``organisation`` per organisation; one ``version`` per passport version
(passports contiguous, versions ascending); then what a full export carries besides signed history: ``model``
(battery models with their versions), ``purpose``, ``grant``, ``access-request``, ``owner`` and ``audit`` lines;
one ``trailer`` with the counts and the SHA-256 of every line before it. Credentials are protected by their
signatures; the digest also covers what no signature does (organisation names, creation times, warnings, the
access records), so that a dump with one changed byte anywhere is rejected. The access log is not exported: it
records the reads of one installation, and is pruned by its own retention."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any, TypeVar

from passport import jsonio
from passport.access import VIEW_ORDER, View
from passport.canonical import canonicalize, sha256
from passport.clock import rfc3339
from passport.credentials import (
    check_successor,
    credential_hash,
    issuer_of,
    subject_of,
    unsigned,
    verify_credential,
)
from passport.errors import InvalidInput, VerificationError
from passport.materials import recovery_lines
from passport.models.base import parse_datetime
from passport.service.access_json import audit_json
from passport.service.context import ServiceContext
from passport.service.organisations import did_document
from passport.service.passports import record_of
from passport.service.resolvers import DocumentResolver
from passport.signing import KeyResolver
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
FORMAT = "passport-export"
FORMAT_VERSION = 1
EXTRA_TYPES = ("model", "purpose", "grant", "access-request", "owner", "audit")
LINE_TYPES = ("header", "organisation", "version", *EXTRA_TYPES, "trailer")


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

    write(
        {
            "type": "header",
            "format": FORMAT,
            "formatVersion": FORMAT_VERSION,
            "exportedAt": rfc3339(context.clock()),
            "service": urls.base,
        }
    )
    keys = store.list_keys()
    for organisation in store.list_organisations():
        own = [k for k in keys if k.organisation == organisation.slug]
        write(_organisation_line(context, organisation, own))
    versions = (
        [store.get_version(passport_id, v.version) for v in store.list_versions(passport_id)]
        if (passport_id)
        else store.iter_versions()
    )
    models = store.model_links()
    passports, count = set(), 0
    for version in versions:
        write(_version_line(version, models.get(version.passport_id)))
        passports.add(version.passport_id)
        count += 1
    for line in _extra_lines(context, passports if passport_id else None, models):
        write(line)
    out.write(_line({"type": "trailer", "passports": len(passports), "versions": count, "sha256": digest.hexdigest()}))
    return len(passports), count


def _organisation_line(context: ServiceContext, organisation: Organisation, keys: list[KeyRecord]) -> dict[str, Any]:
    return {
        "type": "organisation",
        "slug": organisation.slug,
        "name": organisation.name,
        "createdAt": rfc3339(organisation.created_at),
        "did": context.urls.did(organisation.slug),
        "didDocument": did_document(context.urls, organisation.slug, keys),
        "keys": [
            {
                "keyId": k.key_id,
                "publicKeyMultibase": k.public_key_multibase,
                "createdAt": rfc3339(k.created_at),
                "retiredAt": rfc3339(k.retired_at) if k.retired_at else None,
                "revokedAt": rfc3339(k.revoked_at) if k.revoked_at else None,
            }
            for k in keys
        ],
    }


def _version_line(version: VersionRecord, model: tuple[str, int] | None) -> dict[str, Any]:
    line: dict[str, Any] = {
        "type": "version",
        "passportId": f"urn:uuid:{version.passport_id}",
        "version": version.version,
        "createdAt": rfc3339(version.created_at),
        "warnings": list(version.warnings),
        "credentials": {view: version.credential_json(view) for view in (v.value for v in VIEW_ORDER)},
    }
    if model is not None:
        line["modelId"], line["modelVersion"] = model  # the passport's current model (not signed: the digest's)
    return line


def _when(moment: Any) -> str | None:
    return rfc3339(moment) if moment is not None else None


def _extra_lines(
    context: ServiceContext, only: set[str] | None, models: Mapping[str, tuple[str, int]]
) -> Iterator[dict[str, Any]]:
    """Models, purposes, grants, requests, owners and the audit log; of one passport's export, only what concerns
    it (its model, its grants and requests by passport, its owner, its audit entries)."""
    store = context.store
    wanted_models = {models[p][0] for p in only if p in models} if only is not None else None
    for model in store.list_models():
        if wanted_models is None or model.model_id in wanted_models:
            yield _model_line(store.get_model_version, model)
    if only is None:
        for purpose in sorted(store.list_purposes(), key=lambda p: (p["organisation"], p["purpose"])):
            yield {
                "type": "purpose",
                "organisation": purpose["organisation"],
                "purpose": purpose["purpose"],
                "status": purpose["status"],
                "requestedAt": _when(purpose["requested_at"]),
                "decidedAt": _when(purpose["decided_at"]),
            }
    subjects = {f"passport:{p}" for p in only} if only is not None else set()
    for grant in sorted(store.list_grants(), key=lambda g: (g.created_at, g.grant_id)):
        if only is None or (grant.scope_kind == "passport" and grant.scope_value in only):
            subjects.add(f"grant:{grant.grant_id}")
            yield {
                "type": "grant",
                "id": grant.grant_id,
                "grantee": grant.grantee,
                "grantor": grant.grantor,
                "scopeKind": grant.scope_kind,
                "scopeValue": grant.scope_value,
                "purpose": grant.purpose,
                "createdAt": rfc3339(grant.created_at),
                "expiresAt": rfc3339(grant.expires_at),
                "revokedAt": _when(grant.revoked_at),
                "requestId": grant.request_id,
            }
    for request in sorted(store.list_requests(), key=lambda r: (r.created_at, r.request_id)):
        if only is None or (request.scope_kind == "passport" and request.scope_value in only):
            subjects.add(f"request:{request.request_id}")
            yield {
                "type": "access-request",
                "id": request.request_id,
                "requester": request.requester,
                "approver": request.approver,
                "scopeKind": request.scope_kind,
                "scopeValue": request.scope_value,
                "purpose": request.purpose,
                "justification": request.justification,
                "status": request.status,
                "createdAt": rfc3339(request.created_at),
                "decidedAt": _when(request.decided_at),
                "grantId": request.grant_id,
                "reason": request.reason,
            }
    for owner in sorted(store.list_owners(), key=lambda o: str(o["passport_id"])):
        if only is None or owner["passport_id"] in only:
            yield {
                "type": "owner",
                "passportId": owner["passport_id"],
                "owner": owner["owner"],
                "by": owner["by"],
                "registeredAt": rfc3339(owner["registered_at"]),
            }
    for entry in reversed(store.list_audit(limit=2**62)):  # newest first: oldest first in the file
        if only is None or entry.subject in subjects:
            yield {"type": "audit", **audit_json(entry)}  # the API's form of an audit entry


def _model_line(version_of: Callable[[str, int], ModelVersion], model: ModelRecord) -> dict[str, Any]:
    versions = [version_of(model.model_id, number) for number in range(1, model.current_version + 1)]
    return {
        "type": "model",
        "id": model.model_id,
        "organisation": model.organisation,
        "gtin": model.gtin,
        "modelIdentifier": model.model_identifier,
        "currentVersion": model.current_version,
        "createdAt": rfc3339(model.created_at),
        "updatedAt": rfc3339(model.updated_at),
        "versions": [
            {"version": v.version, "createdAt": rfc3339(v.created_at), "document": v.document} for v in versions
        ],
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


__all__ = ["FORMAT", "DumpReport", "DumpVerifier", "export", "read_lines", "restore", "verify_dump"]
