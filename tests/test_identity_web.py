"""Published identity over HTTP: organisation DID documents (Multikey, expires and revoked), the service's DID
document, the JWKS, and VC-JOSE enveloped credentials checked with a standard JOSE library (PyJWT)."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest

from passport.jose import envelope
from passport.multikey import public_key_from_multikey
from passport.service.context import ServiceContext
from passport.service.organisations import create_organisation, revoke_key, rotate_key, signer_for
from passport.service.passports import Passports
from passport.web.app import create_app
from tests.conftest import FakeClock

pytestmark = pytest.mark.anyio

DID = "did:web:testserver:orgs:acme"
DID_CONTEXT = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]


@dataclass
class Service:
    context: ServiceContext
    http: httpx.AsyncClient

    async def json(self, path: str, media_type: str) -> Any:
        response = await self.http.get(path)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == media_type
        return response.json()


@pytest.fixture
async def service(context_factory: Callable[..., ServiceContext]) -> AsyncIterator[Service]:
    context = context_factory()
    create_organisation(context, "acme", "ACME Batteries GmbH")
    create_organisation(context, "beta", "Beta Cells AB")
    app = create_app(context.settings, context)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        yield Service(context, http)


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- DID documents --------------------------------------------------------------------------------------------------


async def test_organisation_did_document(service: Service) -> None:
    document = await service.json("/orgs/acme/did.json", "application/did+json")
    assert document["@context"] == DID_CONTEXT
    assert document["id"] == DID
    (method,) = document["verificationMethod"]
    assert method["id"] == f"{DID}#key-1"
    assert method["type"] == "Multikey"
    assert method["controller"] == DID
    assert method["publicKeyMultibase"].startswith("z6Mk")
    assert "expires" not in method
    assert "revoked" not in method
    assert document["assertionMethod"] == [method["id"]]
    assert method["publicKeyMultibase"] == signer_for(service.context, "acme").public_multikey()


async def test_rotation_and_revocation_show_in_the_did_document(service: Service, clock: FakeClock) -> None:
    retired_at = clock.advance(hours=1)
    rotate_key(service.context, "acme")
    clock.advance(hours=1)
    revoked_at = dt.datetime(2026, 11, 25, 10, 30, tzinfo=dt.UTC)
    revoke_key(service.context, "acme", "key-1", at=revoked_at)

    methods = (await service.json("/orgs/acme/did.json", "application/did+json"))["verificationMethod"]
    assert [m["id"] for m in methods] == [f"{DID}#key-1", f"{DID}#key-2"]
    one, two = methods
    assert one["expires"] == retired_at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert one["revoked"] == "2026-11-25T10:30:00.000Z"
    assert "expires" not in two
    assert "revoked" not in two
    assert one["publicKeyMultibase"] != two["publicKeyMultibase"]


async def test_unknown_organisation_is_a_problem(service: Service) -> None:
    response = await service.http.get("/orgs/nobody/did.json")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "/problems/not-found"
    assert problem["status"] == 404
    assert problem["instance"] == "/orgs/nobody/did.json"


async def test_service_did_document(service: Service) -> None:
    document = await service.json("/.well-known/did.json", "application/did+json")
    assert document["id"] == "did:web:testserver"
    assert [m["id"] for m in document["verificationMethod"]] == [f"{DID}#key-1", "did:web:testserver:orgs:beta#key-1"]
    assert all(m["type"] == "Multikey" for m in document["verificationMethod"])
    assert document["service"] == [
        {
            "id": "did:web:testserver#acme",
            "type": "LinkedDomains",
            "serviceEndpoint": "http://testserver/orgs/acme/did.json",
        },
        {
            "id": "did:web:testserver#beta",
            "type": "LinkedDomains",
            "serviceEndpoint": "http://testserver/orgs/beta/did.json",
        },
    ]


# --- JWKS -----------------------------------------------------------------------------------------------------------


async def test_jwks_lists_ed25519_keys_and_leaves_out_revoked_ones(service: Service, clock: FakeClock) -> None:
    jwks = await service.json("/.well-known/jwks.json", "application/jwk-set+json")
    assert [k["kid"] for k in jwks["keys"]] == [f"{DID}#key-1", "did:web:testserver:orgs:beta#key-1"]
    for key in jwks["keys"]:
        assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("OKP", "Ed25519", "EdDSA", "sig")
        assert set(key) == {"kty", "crv", "x", "kid", "alg", "use"}  # no private member ("d")
    acme = jwks["keys"][0]
    assert b64url_decode(acme["x"]) == public_key_from_multikey(signer_for(service.context, "acme").public_multikey())

    clock.advance(hours=1)
    rotate_key(service.context, "acme")  # key-1 retired: still listed, it verifies what it signed
    revoke_key(service.context, "beta", "key-1")  # revoked: left out, beta rotates to key-2
    kids = [k["kid"] for k in (await service.json("/.well-known/jwks.json", "application/jwk-set+json"))["keys"]]
    assert kids == [f"{DID}#key-1", f"{DID}#key-2", "did:web:testserver:orgs:beta#key-2"]


# --- VC-JOSE --------------------------------------------------------------------------------------------------------


async def issued_credential(service: Service, example: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    issued = Passports(service.context).issue("acme", example("passport-ev"))
    credential: dict[str, Any] = json.loads(issued.version.credential("public"))
    return credential


async def test_vc_jose_envelope_verifies_with_pyjwt(service: Service, example: Callable[[str], dict[str, Any]]) -> None:
    credential = await issued_credential(service, example)
    token = envelope(credential, signer_for(service.context, "acme"))

    header = jwt.get_unverified_header(token)
    assert header["alg"] == "EdDSA"
    assert header["typ"] == "vc+jwt"
    assert header["kid"] == f"{DID}#key-1"
    jwks = jwt.PyJWKSet.from_dict(await service.json("/.well-known/jwks.json", "application/jwk-set+json"))
    key = next(k for k in jwks.keys if k.key_id == header["kid"])
    payload = jwt.decode(token, key=key, algorithms=["EdDSA"])
    assert payload == {name: value for name, value in credential.items() if name != "proof"}


async def test_vc_jose_envelope_fails_when_changed_or_checked_with_another_key(
    service: Service, example: Callable[[str], dict[str, Any]]
) -> None:
    credential = await issued_credential(service, example)
    token = envelope(credential, signer_for(service.context, "acme"))
    jwks = jwt.PyJWKSet.from_dict(await service.json("/.well-known/jwks.json", "application/jwk-set+json"))
    acme, beta = jwks[f"{DID}#key-1"], jwks["did:web:testserver:orgs:beta#key-1"]

    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, key=beta, algorithms=["EdDSA"])

    head, payload, signature = token.split(".")
    changed = json.loads(b64url_decode(payload))
    changed["credentialSubject"]["passport"]["general"]["serialNumber"] = "VD75-2026-000143"
    forged_payload = base64.urlsafe_b64encode(json.dumps(changed).encode()).rstrip(b"=").decode()
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(f"{head}.{forged_payload}.{signature}", key=acme, algorithms=["EdDSA"])
    with pytest.raises(jwt.InvalidAlgorithmError):
        jwt.decode(token, key=acme, algorithms=["ES256"])
