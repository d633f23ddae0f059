"""eddsa-jcs-2022 Data Integrity proofs against the W3C vc-di-eddsa test vector, Ed25519 against RFC 8032, the
`passport verify` command on the vector, and the life of a key (revoked, retired, wrong)."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from typer.testing import CliRunner

from passport.canonical import canonicalize
from passport.cli import app, commands  # noqa: F401  (commands registers the sub-commands)
from passport.clock import rfc3339
from passport.credentials import verify_credential
from passport.errors import InvalidInput, VerificationError
from passport.multikey import multibase_encode, private_key_from_multikey, public_key_from_multikey
from passport.service.resolvers import DocumentResolver
from passport.signing import (
    Ed25519Signer,
    KeyResolver,
    PublicKeyInfo,
    add_proof,
    did_key_resolver,
    proof_config,
    raw_public_key,
    verify_proof,
)

W3C_DIR = ("vectors", "w3c-vc-di-eddsa", "eddsa-jcs-2022")
Path_ = tuple[str | int, ...]

# Every string of the W3C signed credential, data and proof: one character changed anywhere must fail.
SIGNED_STRINGS: list[Path_] = [
    ("@context", 0),
    ("@context", 1),
    ("id",),
    ("type", 0),
    ("type", 1),
    ("name",),
    ("description",),
    ("issuer",),
    ("validFrom",),
    ("credentialSubject", "id"),
    ("credentialSubject", "alumniOf"),
    ("proof", "type"),
    ("proof", "cryptosuite"),
    ("proof", "created"),
    ("proof", "verificationMethod"),
    ("proof", "proofPurpose"),
    ("proof", "@context", 0),
    ("proof", "@context", 1),
    ("proof", "proofValue"),
]
REASONS = {"malformed", "unsupported-proof", "unknown-key", "issuer-key-mismatch", "signature-invalid"}


@pytest.fixture(scope="module")
def vector(reference_dir: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((reference_dir / "vectors" / "w3c_eddsa_jcs_2022.json").read_text("utf-8"))
    return loaded


@pytest.fixture(scope="module")
def vector_dir(reference_dir: Path) -> Path:
    return reference_dir.joinpath(*W3C_DIR)


def vector_signer(vector: dict[str, Any]) -> Ed25519Signer:
    seed = private_key_from_multikey(vector["keyPair"]["privateKeyMultibase"])
    return Ed25519Signer(vector["proofOptions"]["verificationMethod"], Ed25519PrivateKey.from_private_bytes(seed))


def get(document: Any, path: Path_) -> Any:
    for part in path:
        document = document[part]
    return document


def put(document: Any, path: Path_, value: Any) -> None:
    get(document, path[:-1])[path[-1]] = value


def one_character_changes(text: str) -> Iterator[str]:
    """For every position, two changes: a letter swap and a neighbour of the same kind (digit, letter)."""
    for i, char in enumerate(text):
        neighbour = (
            str((int(char) + 1) % 10)
            if char.isdigit()
            else chr((ord(char.lower()) - ord("a") + 1) % 26 + ord("a"))
            if char.isascii() and char.isalpha()
            else "x"
        )
        for replacement in {"A" if char != "A" else "B", neighbour}:
            if replacement != char:
                yield text[:i] + replacement + text[i + 1 :]


# --- the W3C vector ---------------------------------------------------------------------------------------------


@pytest.mark.reference
def test_w3c_signed_credential_verifies(vector: dict[str, Any]) -> None:
    key = verify_proof(vector["signedCredential"], did_key_resolver)
    assert key.public_key == public_key_from_multikey(vector["keyPair"]["publicKeyMultibase"])
    assert verify_credential(vector["signedCredential"], did_key_resolver) == key


@pytest.mark.reference
def test_w3c_vector_files_agree_and_verify(vector: dict[str, Any], vector_dir: Path) -> None:
    def text(name: str) -> str:
        return (vector_dir / name).read_text("utf-8").strip()

    assert json.loads(text("signedJCS.json")) == vector["signedCredential"]
    assert json.loads(text("unsigned.json")) == vector["unsignedCredential"]
    assert json.loads(text("keyPair.json")) == vector["keyPair"]
    assert json.loads(text("proofConfigJCS.json")) == vector["proofOptions"]
    verify_proof(json.loads(text("signedJCS.json")), did_key_resolver)
    assert canonicalize(vector["unsignedCredential"]).decode() == text("canonDocJCS.txt")
    assert hashlib.sha256(canonicalize(vector["unsignedCredential"])).hexdigest() == text("docHashJCS.txt")
    assert canonicalize(vector["proofOptions"]).decode() == text("proofCanonJCS.txt")
    assert hashlib.sha256(canonicalize(vector["proofOptions"])).hexdigest() == text("proofHashJCS.txt")
    assert text("combinedHashJCS.txt") == vector["combinedHashHex"]
    assert text("sigHexJCS.txt") == vector["signatureHex"]
    assert text("sigBTC58JCS.txt") == vector["proofValue"]


@pytest.mark.reference
def test_signing_the_unsigned_credential_reproduces_the_vector(vector: dict[str, Any]) -> None:
    signer = vector_signer(vector)
    assert signer.public_multikey() == vector["keyPair"]["publicKeyMultibase"]
    signed = add_proof(vector["unsignedCredential"], signer, vector["proofOptions"]["created"])
    assert signed["proof"]["proofValue"] == vector["proofValue"]
    assert signed == vector["signedCredential"]
    assert canonicalize(signed) == canonicalize(vector["signedCredential"])


@pytest.mark.reference
def test_intermediate_values_match_the_vector(vector: dict[str, Any]) -> None:
    unsigned, options = vector["unsignedCredential"], vector["proofOptions"]
    config = proof_config(unsigned, options["verificationMethod"], options["created"])
    assert config == options
    document_bytes, config_bytes = canonicalize(unsigned), canonicalize(config)
    assert document_bytes.decode() == vector["canonicalDocument"]
    assert hashlib.sha256(document_bytes).hexdigest() == vector["documentHashHex"]
    assert config_bytes.decode() == vector["canonicalProofConfig"]
    assert hashlib.sha256(config_bytes).hexdigest() == vector["proofConfigHashHex"]
    combined = hashlib.sha256(config_bytes).digest() + hashlib.sha256(document_bytes).digest()
    assert combined.hex() == vector["combinedHashHex"]
    signature = vector_signer(vector).sign(combined)
    assert signature.hex() == vector["signatureHex"]
    assert multibase_encode(signature) == vector["proofValue"]


@pytest.mark.reference
@pytest.mark.parametrize("path", SIGNED_STRINGS, ids=["/".join(map(str, p)) for p in SIGNED_STRINGS])
def test_any_one_character_change_fails(vector: dict[str, Any], path: Path_) -> None:
    original: str = get(vector["signedCredential"], path)
    reasons: set[str] = set()
    changes = 0
    for changed in one_character_changes(original):
        tampered = copy.deepcopy(vector["signedCredential"])
        put(tampered, path, changed)
        with pytest.raises(VerificationError) as caught:
            verify_credential(tampered, did_key_resolver)
        reasons.add(caught.value.reason)
        changes += 1
    assert changes >= len(original)
    assert reasons <= REASONS


@pytest.mark.reference
def test_any_one_character_change_to_a_member_name_fails(vector: dict[str, Any]) -> None:
    def names(document: Any, prefix: Path_ = ()) -> Iterator[Path_]:
        if isinstance(document, dict):
            for key, value in document.items():
                yield (*prefix, key)
                yield from names(value, (*prefix, key))

    checked = 0
    for path in names(vector["signedCredential"]):
        for changed in one_character_changes(str(path[-1])):
            tampered = copy.deepcopy(vector["signedCredential"])
            parent = get(tampered, path[:-1])
            parent[changed] = parent.pop(path[-1])
            with pytest.raises(VerificationError):
                verify_credential(tampered, did_key_resolver)
            checked += 1
    assert checked > 100


@pytest.mark.reference
def test_a_signature_by_another_key_fails(vector: dict[str, Any]) -> None:
    other = Ed25519Signer(vector["proofOptions"]["verificationMethod"], Ed25519PrivateKey.generate())
    forged = add_proof(vector["unsignedCredential"], other, vector["proofOptions"]["created"])
    with pytest.raises(VerificationError) as caught:
        verify_proof(forged, did_key_resolver)
    assert caught.value.reason == "signature-invalid"


# --- RFC 8032 -----------------------------------------------------------------------------------------------------


@pytest.mark.reference
def test_rfc8032_vectors_sign_and_verify(reference_dir: Path) -> None:
    cases = json.loads((reference_dir / "vectors" / "ed25519_rfc8032.json").read_text("utf-8"))["cases"]
    assert len(cases) >= 3
    for case in cases:
        key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(case["secret_key_hex"]))
        signer = Ed25519Signer("did:example:rfc8032#key", key)
        public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(case["public_key_hex"]))
        assert raw_public_key(key.public_key()).hex() == case["public_key_hex"], case["name"]
        message = bytes.fromhex(case["message_hex"])
        signature = signer.sign(message)
        assert signature.hex() == case["signature_hex"], case["name"]
        public.verify(signature, message)
        flipped = bytes([signature[0] ^ 1]) + signature[1:]
        with pytest.raises(InvalidSignature):
            public.verify(flipped, message)
        with pytest.raises(InvalidSignature):
            public.verify(signature, message + b"\0")


# --- passport verify on the vector --------------------------------------------------------------------------------


@pytest.fixture
def signed_file(vector_dir: Path, tmp_path: Path) -> Path:
    path = tmp_path / "signed.json"
    path.write_bytes((vector_dir / "signedJCS.json").read_bytes())
    return path


@pytest.mark.reference
@pytest.mark.parametrize("options", [[], ["--offline"]])
def test_cli_verifies_the_vector(signed_file: Path, options: list[str]) -> None:
    result = CliRunner().invoke(app, ["verify", str(signed_file), *options])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("OK ")
    assert "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2" in result.stdout


@pytest.mark.reference
@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        ("The School of Examples", "The School of Exampley", "signature-invalid"),
        ("2023-01-01T00:00:00Z", "2023-01-01T00:00:01Z", "signature-invalid"),
        ("2023-02-24T23:36:38Z", "2023-02-24T23:36:39Z", "signature-invalid"),
        ("d3GAVFuUfjoJdcnTMuVor51aX", "d3GAVFuUfjoJdcnTMuVor51aY", "signature-invalid"),
        ('"assertionMethod"', '"assertionMethoc"', "unsupported-proof"),
    ],
)
def test_cli_rejects_a_one_character_change(signed_file: Path, old: str, new: str, reason: str) -> None:
    text = signed_file.read_text("utf-8")
    assert text.count(old) >= 1
    signed_file.write_text(text.replace(old, new), "utf-8")
    result = CliRunner().invoke(app, ["verify", str(signed_file)])
    assert result.exit_code == 1
    assert result.stdout.startswith(f"INVALID {reason}"), result.stdout
    assert "Traceback" not in result.output


@pytest.mark.reference
def test_cli_with_a_pinned_key(signed_file: Path, vector: dict[str, Any]) -> None:
    right = CliRunner().invoke(app, ["verify", str(signed_file), "--key", vector["keyPair"]["publicKeyMultibase"]])
    assert right.exit_code == 0, right.output
    other = Ed25519Signer("x", Ed25519PrivateKey.generate()).public_multikey()
    wrong = CliRunner().invoke(app, ["verify", str(signed_file), "--key", other])
    assert wrong.exit_code == 1
    assert wrong.stdout.startswith("INVALID signature-invalid")


# --- the life of a key --------------------------------------------------------------------------------------------

ISSUER = "did:web:example.com:orgs:acme"
METHOD = f"{ISSUER}#key-1"
T = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def credential() -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": ISSUER,
        "validFrom": "2026-11-25T10:00:00Z",
        "credentialSubject": {"id": "urn:example:battery", "stateOfCharge": 50},
    }


def signed_at(key: Ed25519PrivateKey, moment: dt.datetime, method: str = METHOD) -> dict[str, Any]:
    return add_proof(credential(), Ed25519Signer(method, key), rfc3339(moment))


def resolver_for(key: Ed25519PrivateKey, **life: dt.datetime) -> KeyResolver:
    def resolve(method_id: str) -> PublicKeyInfo:
        return PublicKeyInfo(method_id, method_id.partition("#")[0], raw_public_key(key.public_key()), **life)

    return resolve


@pytest.mark.parametrize(
    ("offset", "reason"),
    [(-3600, None), (-0.001, None), (0, "key-revoked"), (0.001, "key-revoked"), (86400, "key-revoked")],
)
def test_revoked_key_fails_from_the_revocation_time_on(
    key: Ed25519PrivateKey, offset: float, reason: str | None
) -> None:
    secured = signed_at(key, T + dt.timedelta(seconds=offset))
    resolve = resolver_for(key, revoked=T)
    if reason is None:
        verify_credential(secured, resolve)
    else:
        with pytest.raises(VerificationError) as caught:
            verify_credential(secured, resolve)
        assert caught.value.reason == reason
        assert "revoked" in caught.value.detail


@pytest.mark.parametrize(("offset", "reason"), [(-60, None), (-0.001, None), (60, "key-expired")])
def test_retired_key_fails_after_it_expired(key: Ed25519PrivateKey, offset: float, reason: str | None) -> None:
    secured = signed_at(key, T + dt.timedelta(seconds=offset))
    resolve = resolver_for(key, expires=T)
    if reason is None:
        verify_credential(secured, resolve)
    else:
        with pytest.raises(VerificationError) as caught:
            verify_credential(secured, resolve)
        assert caught.value.reason == reason


def test_revocation_wins_over_expiry(key: Ed25519PrivateKey) -> None:
    secured = signed_at(key, T + dt.timedelta(hours=2))
    with pytest.raises(VerificationError) as caught:
        verify_credential(secured, resolver_for(key, revoked=T, expires=T + dt.timedelta(hours=1)))
    assert caught.value.reason == "key-revoked"


def test_a_key_of_another_controller_is_an_issuer_key_mismatch(key: Ed25519PrivateKey) -> None:
    secured = signed_at(key, T, method="did:web:example.com:orgs:mallory#key-1")
    with pytest.raises(VerificationError) as caught:
        verify_credential(secured, resolver_for(key))
    assert caught.value.reason == "issuer-key-mismatch"


def test_the_wrong_key_under_the_right_name_is_signature_invalid(key: Ed25519PrivateKey) -> None:
    secured = signed_at(Ed25519PrivateKey.generate(), T)
    with pytest.raises(VerificationError) as caught:
        verify_credential(secured, resolver_for(key))
    assert caught.value.reason == "signature-invalid"


def test_an_unknown_key_is_reported(key: Ed25519PrivateKey) -> None:
    with pytest.raises(VerificationError) as caught:
        verify_credential(signed_at(key, T), did_key_resolver)
    assert caught.value.reason == "unknown-key"


def test_a_proof_is_refused_on_an_already_signed_document(key: Ed25519PrivateKey) -> None:
    with pytest.raises(InvalidInput):
        add_proof(signed_at(key, T), Ed25519Signer(METHOD, key), rfc3339(T))


def test_signer_repr_shows_no_key_material(key: Ed25519PrivateKey) -> None:
    signer = Ed25519Signer(METHOD, key)
    assert repr(signer) == f"Ed25519Signer({METHOD!r})"
    assert key.private_bytes_raw().hex() not in repr(signer)


def test_a_context_extended_after_signing_still_verifies(key: Ed25519PrivateKey) -> None:
    # vc-di-eddsa §3.3.2 step 4: the proof's @context must be a prefix of the document's, and the document is
    # hashed with the proof's @context.
    secured = signed_at(key, T)
    extended = {**secured, "@context": [*secured["@context"], "https://example.com/extra/v1"]}
    verify_credential(extended, resolver_for(key))
    reordered = {**secured, "@context": ["https://example.com/extra/v1", *secured["@context"]]}
    with pytest.raises(VerificationError) as caught:
        verify_credential(reordered, resolver_for(key))
    assert caught.value.reason == "malformed"


def test_a_did_document_cannot_lend_its_key_to_another_controller(key: Ed25519PrivateKey) -> None:
    # mallory's DID document names acme as the controller of mallory's own key: it must not sign for acme.
    mallory = "did:web:example.com:orgs:mallory"
    document = {
        "id": mallory,
        "verificationMethod": [
            {
                "id": f"{mallory}#key-1",
                "type": "Multikey",
                "controller": ISSUER,
                "publicKeyMultibase": Ed25519Signer(METHOD, key).public_multikey(),
            }
        ],
        "assertionMethod": [f"{mallory}#key-1"],
    }
    forged = signed_at(key, T, method=f"{mallory}#key-1")  # its issuer is acme
    with pytest.raises(VerificationError) as caught:
        verify_credential(forged, DocumentResolver([document]))
    assert caught.value.reason == "issuer-key-mismatch"


def test_a_malformed_key_time_in_a_did_document_is_malformed(key: Ed25519PrivateKey) -> None:
    document = {
        "id": ISSUER,
        "verificationMethod": [
            {
                "id": METHOD,
                "type": "Multikey",
                "controller": ISSUER,
                "publicKeyMultibase": Ed25519Signer(METHOD, key).public_multikey(),
                "revoked": "last tuesday",
            }
        ],
        "assertionMethod": [METHOD],
    }
    with pytest.raises(VerificationError) as caught:
        verify_credential(signed_at(key, T), DocumentResolver([document]))
    assert caught.value.reason == "malformed"
