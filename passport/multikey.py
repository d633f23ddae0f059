"""Multibase (base58btc, prefix ``z``) and Multikey encodings of Ed25519 keys and signatures (W3C Controlled
Identifiers ``Multikey``; multicodec ``ed25519-pub`` 0xed01, ``ed25519-priv`` 0x8026)."""

from __future__ import annotations

from passport.errors import InvalidInput

_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX = {char: i for i, char in enumerate(_ALPHABET)}
ED25519_PUB = b"\xed\x01"
ED25519_PRIV = b"\x80\x26"


def b58encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    chars = []
    while number:
        number, rest = divmod(number, 58)
        chars.append(_ALPHABET[rest])
    leading = len(data) - len(data.lstrip(b"\0"))
    return "1" * leading + "".join(reversed(chars))


def b58decode(text: str) -> bytes:
    number = 0
    for char in text:
        if char not in _INDEX:
            raise InvalidInput(f"not base58btc: {char!r}")
        number = number * 58 + _INDEX[char]
    leading = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * leading + body


def multibase_encode(data: bytes) -> str:
    return "z" + b58encode(data)


def multibase_decode(text: str) -> bytes:
    if not text.startswith("z"):
        raise InvalidInput("only base58btc multibase values (prefix 'z') are supported")
    return b58decode(text[1:])


def public_multikey(raw: bytes) -> str:
    """``z6Mk…``: the Multikey form of a 32-byte Ed25519 public key."""
    return multibase_encode(ED25519_PUB + raw)


def public_key_from_multikey(text: str) -> bytes:
    data = multibase_decode(text)
    if not data.startswith(ED25519_PUB) or len(data) != 34:
        raise InvalidInput("not an Ed25519 Multikey public key")
    return data[2:]


def private_key_from_multikey(text: str) -> bytes:
    data = multibase_decode(text)
    if not data.startswith(ED25519_PRIV) or len(data) != 34:
        raise InvalidInput("not an Ed25519 Multikey private key")
    return data[2:]


__all__ = [
    "b58decode",
    "b58encode",
    "multibase_decode",
    "multibase_encode",
    "private_key_from_multikey",
    "public_key_from_multikey",
    "public_multikey",
]
