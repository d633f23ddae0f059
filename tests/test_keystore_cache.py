"""The keystore opens each private key once (a passphrase makes opening deliberately slow), and reads it again when
its file is replaced or removed: a cached key never outlives the file it came from."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from passport.errors import NotFound
from passport.keystore import FileKeystore


def test_keys_are_opened_once_and_reread_when_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = FileKeystore(tmp_path / "keys", b"a passphrase of some length")
    store.generate("acme", "key-1")
    loads: list[str] = []
    original = FileKeystore._load

    def counted(self: FileKeystore, path: Path, organisation: str, key_id: str) -> object:
        loads.append(key_id)
        return original(self, path, organisation, key_id)

    monkeypatch.setattr(FileKeystore, "_load", counted)
    first = store.signer("acme", "key-1", "did:web:x#key-1")
    for _ in range(5):
        assert store.signer("acme", "key-1", "did:web:x#key-1").sign(b"m") == first.sign(b"m")
    assert store.public_multikey("acme", "key-1") == first.public_multikey()
    assert loads == ["key-1"]

    # a different key written in its place (as a restored keystore might): read again, never the old one
    other = FileKeystore(tmp_path / "other", b"a passphrase of some length")
    other.generate("acme", "key-1")
    replacement = (tmp_path / "other" / "acme" / "key-1.pem").read_bytes()
    path = tmp_path / "keys" / "acme" / "key-1.pem"
    path.unlink()
    path.write_bytes(replacement)
    os.utime(path, ns=(1, 1))
    expected = other.public_multikey("acme", "key-1")
    loads.clear()
    assert store.public_multikey("acme", "key-1") == expected != first.public_multikey()
    assert loads == ["key-1"]
    path.unlink()
    with pytest.raises(NotFound):
        store.signer("acme", "key-1", "did:web:x#key-1")
