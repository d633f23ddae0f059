"""The worked example of docs/signing.md is right: every value recomputed from the text with hashlib and
cryptography alone."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

TEXT = (Path(__file__).resolve().parents[1] / "docs" / "signing.md").read_text(encoding="utf-8")
ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58(data: bytes) -> str:
    number, out = int.from_bytes(data, "big"), ""
    while number:
        number, rest = divmod(number, 58)
        out = ALPHABET[rest] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def row(name: str) -> str:
    match = re.search(rf"^\| {re.escape(name)} \| `([^`]+)` \|$", TEXT, re.MULTILINE)
    assert match, name
    return match.group(1)


def test_worked_example_recomputes() -> None:
    document = row("JCS of the document").encode()
    config = row("JCS of the proof configuration").encode()
    hashes = re.findall(r"^\| SHA-256 of it \| `([0-9a-f]{64})` \|$", TEXT, re.MULTILINE)
    assert hashes == [hashlib.sha256(document).hexdigest(), hashlib.sha256(config).hexdigest()]
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    signature = key.sign(hashlib.sha256(config).digest() + hashlib.sha256(document).digest())
    assert "z" + b58(signature) == row("proofValue")
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert "z" + b58(b"\xed\x01" + public) in TEXT
