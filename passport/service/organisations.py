"""Organisations (economic operators, recyclers, authorities), their signing keys and DID documents."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from passport.clock import rfc3339, truncate_ms
from passport.errors import ConfigurationError, Conflict, InvalidInput, NotFound
from passport.multikey import public_multikey
from passport.service.context import ServiceContext
from passport.signing import Ed25519Signer
from passport.storage import KeyRecord, Organisation
from passport.urls import Urls

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
DID_CONTEXT = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]


def create_organisation(context: ServiceContext, slug: str, name: str) -> Organisation:
    """Register an organisation and give it its first signing key (``key-1``): both or neither. The key file is
    written first and removed again if the organisation and key rows cannot be written (one transaction), so a
    failed attempt leaves no organisation that cannot sign and no key of an unknown organisation, and can be
    retried as it was."""
    if not SLUG.match(slug):
        raise InvalidInput(f"organisation slug {slug!r}: use 2-63 lower-case letters, digits and hyphens")
    if not name.strip() or len(name) > 200:
        raise InvalidInput("organisation name: 1-200 characters")
    if any(o.slug == slug for o in context.store.list_organisations()):
        # before touching the keystore: its key-1 exists, and "key exists" would hide the real reason
        raise Conflict(f"organisation {slug!r} already exists")
    organisation = Organisation(slug, name.strip(), truncate_ms(context.clock()))
    key = _generate_key(context, slug, "key-1")
    try:
        return context.store.register_organisation(organisation, key)
    except Exception:
        # Exception, not BaseException: an interruption might come after the commit, and removing the key of a
        # registered organisation would be far worse than leaving a file that a retry reports
        context.keystore.discard(slug, key.key_id)
        raise


def _generate_key(context: ServiceContext, slug: str, key_id: str) -> KeyRecord:
    if context.keystore.has(slug, key_id):
        raise Conflict(f"a private key {key_id} of {slug} already exists in {context.keystore.root}")
    raw = context.keystore.generate(slug, key_id)
    return KeyRecord(slug, key_id, public_multikey(raw), truncate_ms(context.clock()))


def _new_key(context: ServiceContext, slug: str, key_id: str) -> KeyRecord:
    record = _generate_key(context, slug, key_id)
    try:
        context.store.add_key(record)
    except Exception:  # an unregistered key file would block this key id for good (see create_organisation)
        context.keystore.discard(slug, key_id)
        raise
    return record


def active_key(keys: Sequence[KeyRecord], slug: str) -> KeyRecord:
    active = [key for key in keys if key.active]
    if not active:
        raise ConfigurationError(f"organisation {slug!r} has no active signing key (run: passport keys rotate)")
    return active[-1]


def signer_for(context: ServiceContext, slug: str) -> Ed25519Signer:
    key = active_key(context.store.list_keys(slug), slug)
    method = f"{context.urls.did(slug)}#{key.key_id}"
    signer = context.keystore.signer(slug, key.key_id, method)
    if context.keystore.public_multikey(slug, key.key_id) != key.public_key_multibase:
        raise ConfigurationError(f"the private key file of {slug}/{key.key_id} does not match its public key")
    return signer


def rotate_key(context: ServiceContext, slug: str) -> KeyRecord:
    """A new active key; the old one is retired: it no longer signs but still verifies what it signed."""
    keys = context.store.list_keys(slug)
    if not keys:
        context.store.get_organisation(slug)  # NotFound for an unknown organisation
    number = 1 + max((int(k.key_id.removeprefix("key-")) for k in keys if k.key_id.startswith("key-")), default=0)
    now = truncate_ms(context.clock())
    # the new key first: if it cannot be written, the old one stays active (retiring first left none that could sign)
    new = _new_key(context, slug, f"key-{number}")
    for key in keys:
        if key.active:
            context.store.retire_key(slug, key.key_id, now)
    return new


def revoke_key(context: ServiceContext, slug: str, key_id: str, at: Any = None) -> KeyRecord:
    """Revoke a key from ``at`` (default now): signatures it made from then on fail verification ("key revoked").
    Revoking the active key rotates first, so the organisation can go on signing."""
    keys = {key.key_id: key for key in context.store.list_keys(slug)}
    if key_id not in keys:
        raise NotFound(f"no key {key_id!r} of {slug!r}")
    moment = truncate_ms(at or context.clock())
    if keys[key_id].active:
        rotate_key(context, slug)
    context.store.revoke_key(slug, key_id, moment)
    return next(k for k in context.store.list_keys(slug) if k.key_id == key_id)


def verification_method(urls: Urls, key: KeyRecord) -> dict[str, Any]:
    did = urls.did(key.organisation)
    method: dict[str, Any] = {
        "id": f"{did}#{key.key_id}",
        "type": "Multikey",
        "controller": did,
        "publicKeyMultibase": key.public_key_multibase,
    }
    # W3C Controlled Identifiers: a retired key "expires", a compromised one is "revoked", each from a time on.
    if key.retired_at is not None:
        method["expires"] = rfc3339(key.retired_at)
    if key.revoked_at is not None:
        method["revoked"] = rfc3339(key.revoked_at)
    return method


def did_document(urls: Urls, slug: str, keys: Sequence[KeyRecord]) -> dict[str, Any]:
    """The organisation's DID document: every key it ever had, so old signatures stay verifiable."""
    did = urls.did(slug)
    methods = [verification_method(urls, key) for key in keys]
    return {
        "@context": DID_CONTEXT,
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": [method["id"] for method in methods],
    }


def service_did_document(urls: Urls, keys: Sequence[KeyRecord]) -> dict[str, Any]:
    """``/.well-known/did.json``: the service's DID, pointing to each organisation's DID document and listing
    their keys."""
    organisations = sorted({key.organisation for key in keys})
    return {
        "@context": DID_CONTEXT,
        "id": urls.service_did(),
        "verificationMethod": [verification_method(urls, key) for key in keys],
        "service": [
            {"id": f"{urls.service_did()}#{slug}", "type": "LinkedDomains", "serviceEndpoint": urls.did_document(slug)}
            for slug in organisations
        ],
    }


__all__ = [
    "active_key",
    "create_organisation",
    "did_document",
    "revoke_key",
    "rotate_key",
    "service_did_document",
    "signer_for",
    "verification_method",
]
