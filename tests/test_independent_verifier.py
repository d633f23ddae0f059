"""Every credential the product issues verifies with an eddsa-jcs-2022 verifier written from the specifications
(tests/independent_verifier.py, which imports nothing of the product), using only the public key of the DID
document the service serves over HTTP."""

from __future__ import annotations

import ast
import copy
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from passport.access import VIEW_ORDER
from passport.service.context import ServiceContext
from passport.service.organisations import create_organisation, rotate_key
from passport.service.passports import Passports
from passport.web.app import create_app
from tests import independent_verifier as independent
from tests.conftest import FakeClock

pytestmark = pytest.mark.anyio

VERIFIER = Path(independent.__file__)
EXAMPLES = ("passport-ev", "passport-lmt", "passport-industrial")


@dataclass
class Service:
    context: ServiceContext
    http: httpx.AsyncClient

    async def did_document(self, did: str) -> dict[str, Any]:
        response = await self.http.get(independent.did_web_path(did))
        assert response.status_code == 200
        document: dict[str, Any] = response.json()
        assert document["id"] == did
        return document


@pytest.fixture
async def service(context_factory: Callable[..., ServiceContext]) -> AsyncIterator[Service]:
    context = context_factory()
    create_organisation(context, "acme", "ACME Batteries GmbH")
    app = create_app(context.settings, context)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        yield Service(context, http)


def state_of_charge(value: float) -> dict[str, Any]:
    return {"condition": {"stateOfCharge": {"value": value, "lastUpdate": "2026-11-25T09:00:00Z"}}}


def issue_history(context: ServiceContext, example: Callable[[str], dict[str, Any]], clock: FakeClock) -> list[str]:
    """The three examples issued; the EV one revised twice, with a key rotation in between."""
    passports = Passports(context)
    ids = [passports.issue("acme", example(name)).passport_id for name in EXAMPLES]
    clock.advance(seconds=60)
    passports.revise(ids[0], "acme", state_of_charge(55.0), expected_version=1)
    clock.advance(seconds=60)
    rotate_key(context, "acme")
    clock.advance(seconds=60)
    passports.revise(ids[0], "acme", state_of_charge(61.5), expected_version=2)
    return ids


def chains(context: ServiceContext, passport_id: str) -> dict[str, list[dict[str, Any]]]:
    versions = context.store.list_versions(passport_id)
    return {view.value: [json.loads(v.credential(view.value)) for v in versions] for view in VIEW_ORDER}


async def test_every_issued_credential_verifies_independently(
    service: Service, example: Callable[[str], dict[str, Any]], clock: FakeClock
) -> None:
    ids = issue_history(service.context, example, clock)
    verified, methods = 0, set()
    for passport_id in ids:
        for view, credentials in chains(service.context, passport_id).items():
            did_document = await service.did_document(credentials[0]["issuer"])
            independent.verify_chain(credentials, did_document)
            for credential in credentials:
                assert credential["credentialSubject"]["view"] == view
                methods.add(credential["proof"]["verificationMethod"])
                verified += 1
    assert verified == (3 + 1 + 1) * len(VIEW_ORDER)
    assert methods == {"did:web:testserver:orgs:acme#key-1", "did:web:testserver:orgs:acme#key-2"}


async def test_stored_bytes_are_the_independent_canonical_form(
    service: Service, example: Callable[[str], dict[str, Any]], clock: FakeClock
) -> None:
    for passport_id in issue_history(service.context, example, clock):
        for version in service.context.store.list_versions(passport_id):
            for view in VIEW_ORDER:
                stored = version.credential(view.value)
                assert independent.jcs_bytes(json.loads(stored)) == stored


async def test_the_independent_verifier_rejects_tampering(
    service: Service, example: Callable[[str], dict[str, Any]]
) -> None:
    issued = Passports(service.context).issue("acme", example("passport-lmt"))
    credential = json.loads(issued.version.credential("public"))
    did_document = await service.did_document(credential["issuer"])
    independent.verify(credential, did_document)

    changed = copy.deepcopy(credential)
    changed["credentialSubject"]["passport"]["general"]["serialNumber"] += "X"
    with pytest.raises(independent.Invalid, match="signature"):
        independent.verify(changed, did_document)

    other_key = copy.deepcopy(did_document)
    other_key["verificationMethod"][0]["publicKeyMultibase"] = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
    with pytest.raises(independent.Invalid, match="signature"):
        independent.verify(credential, other_key)


async def test_an_unknown_organisation_serves_no_did_document(service: Service) -> None:
    response = await service.http.get(independent.did_web_path("did:web:testserver:orgs:nobody"))
    assert response.status_code == 404


@pytest.mark.reference
async def test_the_independent_verifier_accepts_the_w3c_vector(reference_dir: Path) -> None:
    vector = json.loads((reference_dir / "vectors" / "w3c_eddsa_jcs_2022.json").read_text("utf-8"))
    signed = vector["signedCredential"]
    did = signed["proof"]["verificationMethod"].split("#")[0]
    independent.verify(signed, independent.did_key_document(did))
    assert independent.jcs(vector["unsignedCredential"]) == vector["canonicalDocument"]
    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["alumniOf"] = "The School of Examplez"
    with pytest.raises(independent.Invalid):
        independent.verify(tampered, independent.did_key_document(did))


@pytest.mark.reference
async def test_the_independent_jcs_passes_the_rfc8785_cases(reference_dir: Path) -> None:
    cases = json.loads((reference_dir / "vectors" / "jcs_rfc8785_cases.json").read_text("utf-8"))
    for case in cases["files"] + cases["extra_cases"]:
        assert independent.jcs_bytes(json.loads(case["input_text"])) == case["expected_output_utf8"].encode()


# --- independence ---------------------------------------------------------------------------------------------


def imported_modules(source: str) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "relative imports could reach the product"
            modules.add(str(node.module))
    return modules


async def test_the_verifier_imports_nothing_of_the_product() -> None:
    source = VERIFIER.read_text("utf-8")
    modules = imported_modules(source)
    roots = {module.split(".")[0] for module in modules}
    assert "cryptography" in roots
    assert not roots & {"passport", "tests", "importlib", "builtins"}
    assert "__import__" not in source
    assert roots <= {
        "__future__",
        "hashlib",
        "math",
        "re",
        "urllib",
        "collections",
        "fractions",
        "typing",
        "cryptography",
    }


async def test_the_verifier_loads_without_the_product() -> None:
    probe = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('verifier', {str(VERIFIER)!r})\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "assert module.jcs({'b': 1, 'a': [1.5, 'x']}) == '{\"a\":[1.5,\"x\"],\"b\":1}'\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] == 'passport'))\n"
    )
    result = subprocess.run([sys.executable, "-I", "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
