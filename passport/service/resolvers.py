"""Key resolvers: where a verifier finds the public key named by a proof's verification method.

- DID documents held in memory (those embedded in an export, or the service's own): fully offline;
- the store of this service (its organisations' key history);
- did:web over HTTP(S) (http only for loopback hosts);
- did:key (the W3C test vectors);
- a pinned key (``passport verify --key``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import httpx

from passport.errors import InvalidInput, VerificationError
from passport.models.base import parse_datetime
from passport.multikey import public_key_from_multikey
from passport.service.organisations import did_document
from passport.signing import KeyResolver, PublicKeyInfo, did_key_resolver
from passport.storage import Store
from passport.urls import Urls, did_web_url

MAX_DID_DOCUMENT = 1_000_000


def _time(method_id: str, name: str, value: Any) -> dt.datetime | None:
    if value is None:
        return None
    try:
        if isinstance(value, str):
            return parse_datetime(value)
    except ValueError:
        pass  # was left to escape as a bare ValueError: a traceback from `passport verify` instead of INVALID
    raise VerificationError("malformed", f"{method_id}: {name} is not an RFC 3339 time")


def key_from_document(document: Mapping[str, Any], method_id: str) -> PublicKeyInfo:
    """The verification method ``method_id`` of a DID document, if it may make assertions."""
    assertion = document.get("assertionMethod") or []
    did = str(document.get("id"))
    for method in document.get("verificationMethod") or []:
        if isinstance(method, Mapping) and method.get("id") == method_id:
            if method_id not in assertion:
                raise VerificationError("unknown-key", f"{method_id} is not an assertion method of its DID")
            # The controller must be the DID whose document lists the method. It was taken from the method as
            # written, so another organisation's DID document could name the victim as "controller" of its own
            # key, and verify_proof's issuer check would then accept that key for the victim's credentials.
            if method.get("controller") != did or method_id.partition("#")[0] != did:
                raise VerificationError(
                    "issuer-key-mismatch", f"{method_id} is not controlled by {did}, whose document lists it")
            try:
                raw = public_key_from_multikey(str(method.get("publicKeyMultibase", "")))
            except InvalidInput as exc:
                raise VerificationError("malformed", f"{method_id}: {exc}") from None
            return PublicKeyInfo(method_id, did, raw, _time(method_id, "revoked", method.get("revoked")),
                                 _time(method_id, "expires", method.get("expires")))
    raise VerificationError("unknown-key", f"{method_id} is not in the DID document of its controller")


class DocumentResolver:
    """Resolves against DID documents held in memory."""

    def __init__(self, documents: Iterable[Mapping[str, Any]] = ()) -> None:
        self.documents: dict[str, Mapping[str, Any]] = {str(d["id"]): d for d in documents}
        # keys found, per method id: an export names the same few keys in every credential (a lookup decoded the
        # multibase key and parsed its times each time)
        self._found: dict[str, PublicKeyInfo] = {}

    def add(self, document: Mapping[str, Any]) -> None:
        did = str(document["id"])
        self.documents[did] = document
        self._found = {method: key for method, key in self._found.items() if method.partition("#")[0] != did}

    def __call__(self, method_id: str) -> PublicKeyInfo:
        found = self._found.get(method_id)
        if found is not None:
            return found
        did = method_id.partition("#")[0]
        if did not in self.documents:
            raise VerificationError("unknown-key", f"no DID document for {did}")
        found = self._found[method_id] = key_from_document(self.documents[did], method_id)
        return found


def store_resolver(store: Store, urls: Urls) -> DocumentResolver:
    """The DID documents of every organisation of this service, from its store."""
    keys = store.list_keys()
    organisations = sorted({key.organisation for key in keys})
    return DocumentResolver(
        did_document(urls, slug, [k for k in keys if k.organisation == slug]) for slug in organisations
    )


def http_resolver(timeout: float = 10.0) -> KeyResolver:
    """did:web over the network (and did:key), with a cache per DID."""
    cache = DocumentResolver()

    def resolve(method_id: str) -> PublicKeyInfo:
        did = method_id.partition("#")[0]
        if did.startswith("did:key:"):
            return did_key_resolver(method_id)
        if did not in cache.documents:
            cache.add(fetch_did_document(did, timeout))
        return cache(method_id)

    return resolve


def fetch_did_document(did: str, timeout: float = 10.0) -> Mapping[str, Any]:
    try:
        url = did_web_url(did)
        response = httpx.get(url, timeout=timeout, follow_redirects=False)
    except (ValueError, httpx.HTTPError) as exc:
        raise VerificationError("unknown-key", f"cannot resolve {did}: {exc}") from None
    if response.status_code != 200 or len(response.content) > MAX_DID_DOCUMENT:
        raise VerificationError("unknown-key", f"cannot resolve {did}: HTTP {response.status_code} from {url}")
    try:
        document = response.json()
    except ValueError:
        raise VerificationError("unknown-key", f"{url} is not a DID document") from None
    if not isinstance(document, dict) or document.get("id") != did:
        raise VerificationError("unknown-key", f"{url} is not the DID document of {did}")
    return document


def pinned_resolver(multikey: str) -> KeyResolver:
    """Trust exactly this public key for every proof (``passport verify --key z6Mk…``)."""
    try:
        raw = public_key_from_multikey(multikey)
    except InvalidInput as exc:
        raise InvalidInput(f"--key: {exc.detail}") from None

    def resolve(method_id: str) -> PublicKeyInfo:
        return PublicKeyInfo(method_id, method_id.partition("#")[0], raw)

    return resolve


def chain(*resolvers: KeyResolver) -> KeyResolver:
    """Try each resolver in turn; the first that knows the key answers."""

    def resolve(method_id: str) -> PublicKeyInfo:
        failure: VerificationError | None = None
        for resolver in resolvers:
            try:
                return resolver(method_id)
            except VerificationError as exc:
                if exc.reason != "unknown-key":
                    raise
                failure = exc
        raise failure or VerificationError("unknown-key", f"cannot resolve {method_id}")

    return resolve


__all__ = [
    "DocumentResolver",
    "chain",
    "fetch_did_document",
    "http_resolver",
    "key_from_document",
    "pinned_resolver",
    "store_resolver",
]
