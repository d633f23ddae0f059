"""VC-JOSE enveloping (W3C VC-JOSE-COSE): a credential secured as a compact JWS, ``alg: EdDSA``, ``typ: vc+jwt``,
for verifiers of the JOSE camp. The payload is the credential without its Data Integrity proof."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from passport.signing import Signer

MEDIA_TYPE = "application/vc+jwt"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def envelope(credential: Mapping[str, Any], signer: Signer) -> str:
    """The compact JWS of ``credential`` (any ``proof`` member is left out: the JWS secures it instead)."""
    header = {"alg": "EdDSA", "typ": "vc+jwt", "cty": "vc", "kid": signer.verification_method}
    payload = {key: value for key, value in credential.items() if key != "proof"}
    signing_input = (
        b64url(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + b64url(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())
    )
    return signing_input + "." + b64url(signer.sign(signing_input.encode("ascii")))


def jwk(verification_method: str, public_key: bytes) -> dict[str, str]:
    """An Ed25519 public key as a JWK (RFC 8037), its ``kid`` the DID URL of the verification method."""
    return {"kty": "OKP", "crv": "Ed25519", "x": b64url(public_key), "kid": verification_method, "alg": "EdDSA",
            "use": "sig"}


__all__ = ["MEDIA_TYPE", "b64url", "envelope", "jwk"]
