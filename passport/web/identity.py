"""Published identity: each organisation's DID document, the service's DID document, a JWKS of the signing keys,
and the JSON-LD context of the credentials. Verifiers fetch these; nothing here needs authentication."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from passport.errors import NotFound
from passport.jose import jwk
from passport.multikey import public_key_from_multikey
from passport.service.organisations import did_document, service_did_document
from passport.web.deps import Context

router = APIRouter(tags=["identity"])
DID_JSON = "application/did+json"
CACHE = {"Cache-Control": "public, max-age=300"}


@router.get("/orgs/{slug}/did.json", summary="DID document of an organisation",
            responses={200: {"content": {DID_JSON: {}}}, 404: {"description": "No such organisation"}})
def organisation_did(slug: str, context: Context) -> JSONResponse:
    """``did:web:{host}:orgs:{slug}``: every key the organisation ever had, as Multikey verification methods,
    with ``expires`` for retired keys and ``revoked`` for revoked ones."""
    keys = context.store.list_keys(slug)
    if not keys:
        raise NotFound(f"no organisation {slug!r}")
    return JSONResponse(did_document(context.urls, slug, keys), media_type=DID_JSON, headers=CACHE)


@router.get("/.well-known/did.json", summary="DID document of the service",
            responses={200: {"content": {DID_JSON: {}}}})
def service_did(context: Context) -> JSONResponse:
    return JSONResponse(service_did_document(context.urls, context.store.list_keys()), media_type=DID_JSON,
                        headers=CACHE)


@router.get("/.well-known/jwks.json", summary="Signing keys as a JSON Web Key Set",
            responses={200: {"content": {"application/jwk-set+json": {}}}})
def jwks(context: Context) -> JSONResponse:
    """Active and retired keys of every organisation (revoked keys are left out: JOSE verifiers cannot weigh a
    revocation time), for verifying VC-JOSE credentials."""
    keys: list[dict[str, Any]] = [
        jwk(f"{context.urls.did(key.organisation)}#{key.key_id}", public_key_from_multikey(key.public_key_multibase))
        for key in context.store.list_keys() if key.revoked_at is None
    ]
    return JSONResponse({"keys": keys}, media_type="application/jwk-set+json", headers=CACHE)


@router.get("/contexts/battery-passport/v1", summary="JSON-LD context of the battery passport credentials",
            responses={200: {"content": {"application/ld+json": {}}}})
def credential_context(context: Context) -> JSONResponse:
    """Maps the credential's terms to a vocabulary under this service; the passport fields themselves are kept as
    JSON literals (``@json``), since their meaning is given by the published JSON Schemas."""
    vocab = f"{context.urls.base}/vocab#"
    body = {
        "@context": {
            "@protected": True,
            "BatteryPassportCredential": f"{vocab}BatteryPassportCredential",
            "BatteryPassport": f"{vocab}BatteryPassport",
            "passportId": {"@id": f"{vocab}passportId", "@type": "@id"},
            "version": {"@id": f"{vocab}version", "@type": "http://www.w3.org/2001/XMLSchema#integer"},
            "view": f"{vocab}view",
            "previousVersionHash": f"{vocab}previousVersionHash",
            "passport": {"@id": f"{vocab}passport", "@type": "@json"},
        }
    }
    return JSONResponse(body, media_type="application/ld+json", headers={"Cache-Control": "public, max-age=86400"})
