"""Ed25519 signing and W3C Data Integrity ``eddsa-jcs-2022`` proofs (vc-di-eddsa §3.3), created and verified.

Signers sign bytes; the proof is computed over ``SHA-256(JCS(proof config)) || SHA-256(JCS(document))``.
Verification returns nothing and raises :class:`~passport.errors.VerificationError` with a reason slug:

``malformed``, ``unsupported-proof``, ``unknown-key``, ``issuer-key-mismatch``, ``key-revoked``, ``key-expired``,
``signature-invalid``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from passport.canonical import canonical_object, canonicalize, sha256
from passport.errors import InvalidInput, VerificationError
from passport.models.base import parse_datetime
from passport.multikey import multibase_decode, multibase_encode, public_key_from_multikey, public_multikey

CRYPTOSUITE = "eddsa-jcs-2022"
PROOF_TYPE = "DataIntegrityProof"
ASSERTION = "assertionMethod"


class Signer(Protocol):
    """Anything that signs bytes with an Ed25519 key it holds: the file keystore, or a KMS/HSM adapter."""

    @property
    def verification_method(self) -> str:
        """The DID URL of the public key, e.g. ``did:web:example.com:orgs:acme#key-1``."""
        ...

    def sign(self, data: bytes) -> bytes: ...


@dataclass(frozen=True)
class Ed25519Signer:
    """A signer holding the private key in memory (loaded from the keystore)."""

    verification_method: str
    private_key: Ed25519PrivateKey

    def sign(self, data: bytes) -> bytes:
        return self.private_key.sign(data)

    def public_multikey(self) -> str:
        return public_multikey(raw_public_key(self.private_key.public_key()))

    def __repr__(self) -> str:  # never print key material
        return f"Ed25519Signer({self.verification_method!r})"


def raw_public_key(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True)
class PublicKeyInfo:
    """What a verifier knows about a verification method: the key, its controller and its life."""

    verification_method: str
    controller: str
    public_key: bytes
    revoked: dt.datetime | None = None
    expires: dt.datetime | None = None


KeyResolver = Callable[[str], PublicKeyInfo]
"""Turns a verification method id into the key information, or raises VerificationError('unknown-key')."""


def _hash_data(document: Mapping[str, Any], proof_config: Mapping[str, Any]) -> bytes:
    return sha256(canonicalize(proof_config)) + sha256(canonicalize(document))


def proof_config(document: Mapping[str, Any], verification_method: str, created: str) -> dict[str, Any]:
    config: dict[str, Any] = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": created,
        "verificationMethod": verification_method,
        "proofPurpose": ASSERTION,
    }
    if "@context" in document:
        config["@context"] = document["@context"]
    return config


def add_proof(document: Mapping[str, Any], signer: Signer, created: str) -> dict[str, Any]:
    """The document with an ``eddsa-jcs-2022`` DataIntegrityProof made by ``signer`` at ``created``."""
    if "proof" in document:
        raise InvalidInput("the document already carries a proof")
    config = proof_config(document, signer.verification_method, created)
    signature = signer.sign(_hash_data(document, config))
    return {**document, "proof": {**config, "proofValue": multibase_encode(signature)}}


def sign_canonical(document: Mapping[str, Any], signer: Signer, created: str) -> tuple[bytes, bytes]:
    """The canonical bytes of ``document`` without and with the proof :func:`add_proof` gives it: the same bytes
    as ``canonicalize(document)`` and ``canonicalize(add_proof(document, signer, created))``, with the document
    canonicalised once (the signed bytes are the unsigned members plus the proof member, in JCS order)."""
    if "proof" in document:
        raise InvalidInput("the document already carries a proof")
    members = {key: canonicalize(value) for key, value in document.items()}
    unsigned = canonical_object(members)
    config = proof_config(document, signer.verification_method, created)
    signature = signer.sign(sha256(canonicalize(config)) + sha256(unsigned))
    members["proof"] = canonicalize({**config, "proofValue": multibase_encode(signature)})
    return unsigned, canonical_object(members)


def _proof_of(secured: Mapping[str, Any]) -> Mapping[str, Any]:
    proof = secured.get("proof")
    if not isinstance(proof, Mapping):
        raise VerificationError("malformed", "the document carries no proof object")
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        raise VerificationError("unsupported-proof", f"expected a {PROOF_TYPE} with cryptosuite {CRYPTOSUITE}")
    if proof.get("proofPurpose") != ASSERTION:
        raise VerificationError("unsupported-proof", "the proof purpose must be assertionMethod")
    for member in ("created", "verificationMethod", "proofValue"):
        if not isinstance(proof.get(member), str):
            raise VerificationError("malformed", f"the proof has no {member}")
    return proof


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _check_context(secured: Mapping[str, Any], proof: Mapping[str, Any]) -> None:
    # vc-di-eddsa: the document's @context must start with every value of the proof's @context, in order.
    wanted = proof.get("@context")
    if wanted is None:
        return
    have = secured.get("@context")
    if have is None or _as_list(have)[: len(_as_list(wanted))] != _as_list(wanted):
        raise VerificationError("malformed", "the proof's @context does not match the document's")


def _check_key_life(key: PublicKeyInfo, created: dt.datetime) -> None:
    if key.revoked is not None and created >= key.revoked:
        raise VerificationError(
            "key-revoked",
            f"key revoked: {key.verification_method} was revoked at {key.revoked.isoformat()}, before the "
            f"signature ({created.isoformat()})",
        )
    if key.expires is not None and created >= key.expires:
        raise VerificationError(
            "key-expired",
            f"key {key.verification_method} was retired at {key.expires.isoformat()}, before the "
            f"signature ({created.isoformat()})",
        )


def verify_proof(
    secured: Mapping[str, Any], resolve: KeyResolver, *, issuer: str | None = None,
    document_hash: bytes | None = None,
) -> PublicKeyInfo:
    """Verify the ``eddsa-jcs-2022`` proof of ``secured``; return the key that signed it, or raise.

    With ``issuer``, the key must be controlled by it (a credential signed by another organisation's key does not
    verify as that organisation's). ``document_hash``: the SHA-256 of the JCS bytes of ``secured`` without its
    proof, when the caller has computed it already (a verifier of hash chains needs it too)."""
    proof = _proof_of(secured)
    _check_context(secured, proof)
    try:
        created = parse_datetime(proof["created"])
        signature = multibase_decode(proof["proofValue"])
    except (ValueError, InvalidInput) as exc:
        raise VerificationError("malformed", f"unreadable proof: {exc}") from None
    key = resolve(proof["verificationMethod"])
    if issuer is not None and key.controller != issuer:
        raise VerificationError(
            "issuer-key-mismatch", f"signed with {key.verification_method}, which is not a key of {issuer}"
        )
    _check_key_life(key, created)
    config = {k: v for k, v in proof.items() if k != "proofValue"}
    # The caller's hash is of the document as it stands; it is the hash to verify unless the proof carries another
    # @context (our proofs carry the document's own, so the hash is reused rather than the JCS redone).
    if document_hash is None or ("@context" in proof and proof["@context"] != secured.get("@context")):
        document = {k: v for k, v in secured.items() if k != "proof"}
        if "@context" in proof:
            # vc-di-eddsa §3.3.2 step 4.2: the document is hashed with the proof's @context (the document may extend
            # it after signing). This step was missing, so such a document failed with signature-invalid.
            document["@context"] = proof["@context"]
        document_hash = sha256(canonicalize(document))
    try:
        _public_key(key.public_key).verify(signature, sha256(canonicalize(config)) + document_hash)
    except (InvalidSignature, ValueError):
        raise VerificationError(
            "signature-invalid", "the signature does not match the document: it was modified or signed by another key"
        ) from None
    return key


@lru_cache(maxsize=1024)
def _public_key(raw: bytes) -> Ed25519PublicKey:
    """The key object of raw public key bytes: a verifier of many credentials meets the same few keys."""
    return Ed25519PublicKey.from_public_bytes(raw)


def did_key_resolver(verification_method: str) -> PublicKeyInfo:
    """Resolve ``did:key:z6Mk…#z6Mk…`` (the W3C test vectors use it): the key is in the identifier."""
    did, _, fragment = verification_method.partition("#")
    if not did.startswith("did:key:z"):
        raise VerificationError("unknown-key", f"{verification_method} is not a did:key")
    encoded = did.removeprefix("did:key:")
    if fragment and fragment != encoded:
        raise VerificationError("unknown-key", f"{verification_method}: fragment does not name the key")
    try:
        raw = public_key_from_multikey(encoded)
    except InvalidInput as exc:
        raise VerificationError("unknown-key", str(exc)) from None
    return PublicKeyInfo(verification_method, did, raw)


__all__ = [
    "ASSERTION",
    "CRYPTOSUITE",
    "PROOF_TYPE",
    "Ed25519Signer",
    "KeyResolver",
    "PublicKeyInfo",
    "Signer",
    "add_proof",
    "did_key_resolver",
    "proof_config",
    "raw_public_key",
    "sign_canonical",
    "verify_proof",
]
