"""The file keystore: one directory per organisation under ``keys/``, one PKCS#8 PEM file per key (mode 0600),
encrypted with the configured passphrase when there is one (always in production). Key material never leaves this
module except as a :class:`~passport.signing.Ed25519Signer`, whose ``repr`` shows no secret."""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from passport.errors import ConfigurationError, NotFound
from passport.multikey import public_multikey
from passport.signing import Ed25519Signer, raw_public_key

_SAFE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


class FileKeystore:
    """Private keys on disk. ``passphrase`` None stores them unencrypted (development only)."""

    def __init__(self, root: Path, passphrase: bytes | None) -> None:
        self.root = root
        self._passphrase = passphrase
        # Opened keys by (organisation, key id), with the file's identity when it was read: opening is a file read and,
        # with a passphrase, a deliberately slow key derivation, which every signature used to pay. A key file never
        # changes (O_EXCL on creation); one replaced all the same (a restored keystore) is read again.
        self._opened: dict[tuple[str, str], tuple[tuple[int, int, int], Ed25519PrivateKey, str]] = {}

    def __repr__(self) -> str:
        return f"FileKeystore({str(self.root)!r}, encrypted={self._passphrase is not None})"

    def path(self, organisation: str, key_id: str) -> Path:
        if not _SAFE.match(organisation) or not _SAFE.match(key_id):
            raise NotFound(f"no key {key_id!r} of {organisation!r}")
        return self.root / organisation / f"{key_id}.pem"

    def generate(self, organisation: str, key_id: str) -> bytes:
        """Create and store a new key; return its raw public key."""
        key = Ed25519PrivateKey.generate()
        encryption = BestAvailableEncryption(self._passphrase) if self._passphrase else NoEncryption()
        pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, encryption)
        path = self.path(organisation, key_id)
        # 0700 for the keystore root too: with parents=True, mkdir gave the directories it created on the way the
        # default mode (0755 under the usual umask), so only the organisation's directory was private.
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.parent.mkdir(exist_ok=True, mode=0o700)
        # O_EXCL: never overwrite a key; 0600 from the first byte, not chmod afterwards.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(pem)
        except BaseException:
            # a partly written key would block every retry (O_EXCL) and could never sign: the file is ours, remove it
            self.discard(organisation, key_id)
            raise
        return raw_public_key(key.public_key())

    def discard(self, organisation: str, key_id: str) -> None:
        """Remove a key file this process just generated and that was never registered (its organisation or key
        row failed to be written), and the organisation's directory if that leaves it empty. Never for a key that
        signed anything: retired and revoked keys stay, so that what they signed still verifies."""
        path = self.path(organisation, key_id)
        self._opened.pop((organisation, key_id), None)
        path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # other keys of the organisation, or already gone
            path.parent.rmdir()

    def signer(self, organisation: str, key_id: str, verification_method: str) -> Ed25519Signer:
        return Ed25519Signer(verification_method, self._open(organisation, key_id)[0])

    def public_multikey(self, organisation: str, key_id: str) -> str:
        """The public key of a stored private key, as a Multikey (computed once per opened key)."""
        return self._open(organisation, key_id)[1]

    def _open(self, organisation: str, key_id: str) -> tuple[Ed25519PrivateKey, str]:
        path = self.path(organisation, key_id)
        try:
            stat = path.stat()
        except FileNotFoundError:
            raise NotFound(f"private key {key_id!r} of {organisation!r} is not in {self.root}") from None
        identity = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
        cached = self._opened.get((organisation, key_id))
        if cached is not None and cached[0] == identity:
            return cached[1], cached[2]
        key = self._load(path, organisation, key_id)
        public = public_multikey(raw_public_key(key.public_key()))
        self._opened[(organisation, key_id)] = (identity, key, public)
        return key, public

    def _load(self, path: Path, organisation: str, key_id: str) -> Ed25519PrivateKey:
        try:
            pem = path.read_bytes()
        except FileNotFoundError:
            raise NotFound(f"private key {key_id!r} of {organisation!r} is not in {self.root}") from None
        try:
            key = load_pem_private_key(pem, password=self._passphrase)
        except (TypeError, ValueError):
            # Never echo the library message: it may quote key material or the passphrase's absence in detail.
            raise ConfigurationError(
                f"cannot open private key {key_id!r} of {organisation!r}: wrong or missing PASSPORT_KEY_PASSPHRASE"
            ) from None
        if not isinstance(key, Ed25519PrivateKey):
            raise ConfigurationError(f"key {key_id!r} of {organisation!r} is not an Ed25519 key")
        return key

    def has(self, organisation: str, key_id: str) -> bool:
        return self.path(organisation, key_id).is_file()


__all__ = ["FileKeystore"]
