"""Verifying what the service holds, or what someone hands in: one credential, one passport's chains, a dump, the
whole store."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from passport import jsonio
from passport.credentials import verify_credential
from passport.errors import InvalidInput, VerificationError
from passport.service.context import ServiceContext
from passport.service.dump_export import _organisation_line, _version_line
from passport.service.dump_verify import DumpReport, DumpVerifier, verify_dump
from passport.signing import KeyResolver, PublicKeyInfo
from passport.storage import VersionRecord


def _store_verifier(context: ServiceContext) -> DumpVerifier:
    verifier = DumpVerifier()
    keys = context.store.list_keys()
    for organisation in context.store.list_organisations():
        own = [k for k in keys if k.organisation == organisation.slug]
        verifier.feed({**_organisation_line(context, organisation, own), "_line": 0})
    return verifier


def _finish(verifier: DumpVerifier) -> DumpReport:
    report = verifier.report
    verifier.feed({"type": "trailer", "passports": report.passports, "versions": report.versions, "_line": 0})
    return verifier.finish()


def verify_passport(context: ServiceContext, passport_id: str) -> DumpReport:
    """Every view's chain of one passport, every proof against the organisations' key history."""
    verifier = _store_verifier(context)
    for version in context.store.list_versions(passport_id):
        verifier.feed(_stored_line(version))
    return _finish(verifier)


def verify_store(context: ServiceContext) -> DumpReport:
    verifier = _store_verifier(context)
    for version in context.store.iter_versions():
        verifier.feed(_stored_line(version))
    return _finish(verifier)


def _stored_line(version: VersionRecord) -> dict[str, Any]:
    """A stored version as an export line; stored bytes that are no longer UTF-8 or JSON are a verification failure
    like any other change (they escaped as a decoder's exception)."""
    try:
        return {**_version_line(version, None), "_line": version.version}
    except InvalidInput:  # the strict reader's refusal: not UTF-8, not JSON, or JSON the service never writes
        raise VerificationError(
            "malformed", f"{version.passport_id} version {version.version}: a stored credential is not JSON"
        ) from None


@dataclass(frozen=True)
class Verified:
    """What a verification established, for a one-line report."""

    kind: str  # "credential" or "export"
    summary: str
    key: PublicKeyInfo | None = None
    report: DumpReport | None = None


def verify_bytes(data: bytes, resolver: KeyResolver) -> Verified:
    """A single credential (a JSON object with a proof) or an NDJSON export, told apart by their content."""
    first = data.lstrip()[:1]
    if first == b"{" and b"\n{" not in data.strip():
        document = jsonio.loads(data)
        if isinstance(document, dict) and "proof" in document:
            key = verify_credential(document, resolver)
            subject = document.get("credentialSubject") or {}
            what = f"{subject.get('passportId', document.get('id'))} version {subject.get('version', '?')} " \
                   f"view {subject.get('view', '?')}"
            return Verified("credential", f"credential {what}, signed by {key.verification_method}", key)
        if isinstance(document, dict) and document.get("type") != "header":
            raise VerificationError("malformed", "not a credential (no proof) and not a passport export")
    report = verify_dump(_lines(data), resolver)
    return Verified(
        "export", f"export: {report.organisations} organisations, {report.passports} passports, "
        f"{report.versions} versions, {report.credentials} credentials", report=report)


def _lines(data: bytes) -> Iterable[bytes]:
    return data.splitlines()


def verify_document(document: Any, resolver: KeyResolver) -> PublicKeyInfo:
    if not isinstance(document, dict):
        raise InvalidInput("expected a credential (a JSON object)")
    return verify_credential(document, resolver)


__all__ = ["Verified", "verify_bytes", "verify_document", "verify_passport", "verify_store"]
