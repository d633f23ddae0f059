"""Writing an export (the format is described in dump_format): the header, the organisations with their DID
documents and key history, every passport version's credentials, the models and access records, and the trailer
with the counts and the digest of every line before it. Its line builders for organisations and versions are also
what passport.service.verification feeds the dump verifier to check the store itself."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from typing import IO, Any

from passport.access import VIEW_ORDER
from passport.clock import rfc3339
from passport.service.access_json import audit_json
from passport.service.context import ServiceContext
from passport.service.dump_format import FORMAT, FORMAT_VERSION
from passport.service.organisations import did_document
from passport.storage import KeyRecord, ModelRecord, ModelVersion, Organisation, VersionRecord


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


__all__ = ["export"]
