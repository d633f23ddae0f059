"""Administration: organisations, their API keys and signing keys (role admin), and verification for anyone."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool

from passport.access import Role
from passport.clock import rfc3339
from passport.errors import InvalidInput
from passport.service import organisations as orgs
from passport.service.apikeys import KEY_SCOPES, create_api_key, revoke_api_key
from passport.service.resolvers import chain, store_resolver
from passport.signing import did_key_resolver
from passport.storage import ApiKeyRecord, KeyRecord
from passport.web.auth import CallerDep, get_caller, require
from passport.web.bodies import read_json
from passport.web.deps import Context
from passport.web.openapi import free_body
from passport.web.responses import PROBLEMS
from passport.web.schemas import (
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyOut,
    OrganisationIn,
    OrganisationOut,
    SigningKeyOut,
    VerifyResult,
)

router = APIRouter(prefix="/api/v1", tags=["administration"])
Slug = Annotated[str, "organisation slug"]


def _organisation(context: Any, slug: str) -> dict[str, Any]:
    organisation = context.store.get_organisation(slug)
    return {"slug": organisation.slug, "name": organisation.name, "did": context.urls.did(slug),
            "createdAt": rfc3339(organisation.created_at)}


def _api_key(record: ApiKeyRecord) -> dict[str, Any]:
    return {"id": record.key_id, "organisation": record.organisation, "role": record.role, "label": record.label,
            "prefix": record.prefix, "createdAt": rfc3339(record.created_at),
            "revokedAt": rfc3339(record.revoked_at) if record.revoked_at else None,
            "lastUsedAt": rfc3339(record.last_used_at) if record.last_used_at else None,
            "expiresAt": rfc3339(record.expires_at) if record.expires_at else None,
            "scopes": list(record.scopes or KEY_SCOPES)}


def _signing_key(key: KeyRecord) -> dict[str, Any]:
    return {"keyId": key.key_id, "publicKeyMultibase": key.public_key_multibase,
            "state": "revoked" if key.revoked_at else "retired" if key.retired_at else "active",
            "createdAt": rfc3339(key.created_at), "retiredAt": rfc3339(key.retired_at) if key.retired_at else None,
            "revokedAt": rfc3339(key.revoked_at) if key.revoked_at else None}


@router.get("/orgs", response_model=list[OrganisationOut], summary="List organisations", responses=PROBLEMS)
def list_organisations(context: Context, caller: CallerDep) -> list[dict[str, Any]]:
    require(caller, Role.ADMIN)
    return [_organisation(context, o.slug) for o in context.store.list_organisations()]


@router.post("/orgs", response_model=OrganisationOut, status_code=201, summary="Register an organisation",
             responses=PROBLEMS)
def create_organisation(payload: OrganisationIn, context: Context, caller: CallerDep) -> dict[str, Any]:
    """Registers the organisation and creates its first signing key."""
    require(caller, Role.ADMIN)
    orgs.create_organisation(context, payload.slug, payload.name)
    return _organisation(context, payload.slug)


@router.get("/orgs/{slug}", response_model=OrganisationOut, summary="An organisation", responses=PROBLEMS)
def read_organisation(slug: Slug, context: Context, caller: CallerDep) -> dict[str, Any]:
    own = caller.organisation == slug and not caller.anonymous
    if not own:
        require(caller, Role.ADMIN)
    return _organisation(context, slug)


@router.get("/orgs/{slug}/apikeys", response_model=list[ApiKeyOut], summary="API keys of an organisation",
            responses=PROBLEMS)
def list_api_keys(slug: Slug, context: Context, caller: CallerDep) -> list[dict[str, Any]]:
    require(caller, Role.ADMIN)
    context.store.get_organisation(slug)
    return [_api_key(record) for record in context.store.list_api_keys(slug)]


@router.post("/orgs/{slug}/apikeys", response_model=ApiKeyCreated, status_code=201, summary="Create an API key",
             responses=PROBLEMS)
def create_key(slug: Slug, payload: ApiKeyIn, context: Context, caller: CallerDep) -> dict[str, Any]:
    """The key is in the response once and never again: only its SHA-256 is stored."""
    require(caller, Role.ADMIN)
    record, token = create_api_key(context, slug, payload.role, payload.label, payload.expiresAt, payload.scopes)
    return {**_api_key(record), "key": token}


@router.delete("/apikeys/{key_id}", status_code=204, summary="Revoke an API key", responses=PROBLEMS)
def delete_key(key_id: str, context: Context, caller: CallerDep) -> None:
    require(caller, Role.ADMIN)
    revoke_api_key(context, key_id)


@router.get("/orgs/{slug}/keys", response_model=list[SigningKeyOut], summary="Signing keys of an organisation",
            responses=PROBLEMS)
def signing_keys(slug: Slug, context: Context, caller: CallerDep) -> list[dict[str, Any]]:
    if caller.organisation != slug or caller.anonymous:
        require(caller, Role.ADMIN)
    context.store.get_organisation(slug)
    return [_signing_key(key) for key in context.store.list_keys(slug)]


@router.post("/orgs/{slug}/keys/rotate", response_model=SigningKeyOut, status_code=201,
             summary="Rotate the signing key", responses=PROBLEMS)
def rotate(slug: Slug, context: Context, caller: CallerDep) -> dict[str, Any]:
    """A new active key; the old one is retired and keeps verifying what it signed."""
    require(caller, Role.ADMIN)
    return _signing_key(orgs.rotate_key(context, slug))


# Anyone may verify; a key that is sent is still checked (a wrong or revoked key is a 401 on every route).
@router.post("/verify", response_model=VerifyResult, summary="Verify a credential", responses=PROBLEMS,
             dependencies=[Depends(get_caller)],
             openapi_extra=free_body({"type": "object", "description": "A credential with a Data Integrity proof"},
                                     "application/json", "application/vc"))
async def verify(request: Request, context: Context) -> dict[str, Any]:
    """Checks the ``eddsa-jcs-2022`` proof of any credential against the keys of this service's organisations
    (their whole history, with retirement and revocation) or a ``did:key``; a failure is a 422 problem whose
    ``reason`` says why. The service never fetches keys from other hosts."""
    document = await read_json(request, ("application/json", "application/vc", "application/vc+ld+json"))
    if not isinstance(document, dict):
        raise InvalidInput("a credential is a JSON object")
    from passport.credentials import issuer_of, verify_credential

    resolver = chain(store_resolver(context.store, context.urls), did_key_resolver)
    key = await run_in_threadpool(verify_credential, document, resolver)
    return {"verified": True, "verificationMethod": key.verification_method, "issuer": str(issuer_of(document))}
