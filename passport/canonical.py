"""RFC 8785 JSON Canonicalization Scheme (JCS): the canonical bytes that are hashed and signed, and their SHA-256.

A direct implementation, several times faster than the pure-Python ``rfc8785`` package on passport documents
(DESIGN §9), proved against the RFC 8785 and cyberphone test vectors in the test suite:

- object members sorted by the UTF-16 code units of their names;
- strings escaped as ECMAScript ``JSON.stringify`` does (only ``"``, ``\\``, and control characters);
- numbers as ECMAScript ``Number.prototype.toString`` writes IEEE 754 doubles (shortest round-trip digits,
  exponent only below 1e-6 or from 1e21); integers beyond 2^53 are refused, as they would not survive a double;
- NaN, infinities and lone surrogates are refused."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from passport.errors import InvalidInput

MAX_EXACT_INTEGER = 2**53

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f]')
_REPR = re.compile(r"^(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$")


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    return _ESCAPES.get(char) or f"\\u{ord(char):04x}"


def _string(value: str) -> str:
    return '"' + _NEEDS_ESCAPE.sub(_escape_char, value) + '"'


def _float(value: float) -> str:
    if not math.isfinite(value):
        raise InvalidInput("NaN and infinities cannot be canonicalised (RFC 8785)")
    if value == 0:
        return "0"  # also -0
    sign, magnitude = ("-", -value) if value < 0 else ("", value)
    match = _REPR.match(repr(magnitude))
    assert match is not None  # repr of a finite positive float always matches
    whole, fraction, exponent = match.group(1), match.group(2) or "", int(match.group(3) or 0)
    digits = (whole + fraction).lstrip("0")
    # value = 0.d1d2...dk x 10^n in the notation of ECMA-262 Number::toString
    point = len(whole) + exponent if whole != "0" else exponent - (len(fraction) - len(fraction.lstrip("0")))
    digits = digits.rstrip("0") or "0"
    k, n = len(digits), point
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        mantissa = digits[0] + ("." + digits[1:] if k > 1 else "")
        text = f"{mantissa}e{'+' if e > 0 else '-'}{abs(e)}"
    return sign + text


def _int(value: int) -> str:
    if abs(value) > MAX_EXACT_INTEGER:
        raise InvalidInput(f"integer {value} is beyond 2^53 and cannot be canonicalised exactly (RFC 8785)")
    return str(value)


def _write(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(_string(value))
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif value is None:
        out.append("null")
    elif isinstance(value, int):
        out.append(_int(value))
    elif isinstance(value, float):
        out.append(_float(value))
    elif isinstance(value, Mapping):
        _object(value, out)
    elif isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        # bytes are Sequences of ints too: refused (below) rather than silently written as a number array.
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        raise InvalidInput(f"{type(value).__name__} is not a JSON value")


def _utf16_key(key: Any) -> bytes:
    # Checked here, before sorting: a non-string name used to fail with AttributeError, and a name with a lone
    # surrogate with UnicodeEncodeError, instead of the InvalidInput that every other refused value raises.
    if not isinstance(key, str):
        raise InvalidInput("object member names must be strings")
    try:
        return key.encode("utf-16-be")
    except UnicodeEncodeError:
        raise InvalidInput("lone surrogate in a member name: not valid Unicode (RFC 8785)") from None


def _object(value: Mapping[str, Any], out: list[str]) -> None:
    out.append("{")
    keys = sorted(value, key=_utf16_key)
    for i, key in enumerate(keys):
        if i:
            out.append(",")
        out.append(_string(key))
        out.append(":")
        _write(value[key], out)
    out.append("}")


def canonicalize(value: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of a JSON value."""
    try:
        return orjson.dumps(_prepared(value), option=_ORJSON_OPTIONS)
    except (_Fallback, TypeError, orjson.JSONEncodeError):
        return _canonicalize_slow(value)


# --- the fast path ----------------------------------------------------------------------------------------------
#
# orjson writes exactly the JCS bytes for the plain JSON types, with three exceptions that are taken care of here,
# proved by the test suite against the slow path below and the RFC 8785 / cyberphone vectors:
# - a double with an integral value is written "100.0" (JCS: "100"): passed as an int below 2^53, else pre-written;
# - a double in [1e-6, 1e-5) is written "1e-6" (JCS: "0.000001"): pre-written as an orjson.Fragment;
# - member names are sorted by code point (JCS: UTF-16 code unit), which differs only beyond ASCII: not taken.
# Everything else unusual (non-ASCII member names, integers beyond 2^53 - 1, NaN, lone surrogates, subclasses of
# the JSON types, other Mappings and Sequences, non-JSON values) goes to the slow path, which decides exactly as
# before (and raises InvalidInput where it must). On passport documents the fast path is 5-10x faster.

_ORJSON_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER


class _Fallback(Exception):
    """The value needs the slow path."""


_FALLBACK = _Fallback()
_TWO_53 = float(MAX_EXACT_INTEGER)


def _number(value: float, fragments: bool = True) -> Any:
    if value - value != 0:  # NaN or an infinity: the slow path refuses it
        raise _FALLBACK
    if value.is_integer():
        if -_TWO_53 < value < _TWO_53:
            return int(value)  # written alike by both paths
    elif not 1e-6 <= abs(value) < 1e-5:
        return value
    if not fragments:
        raise _FALLBACK
    return orjson.Fragment(_float(value))


class Prepared(dict[str, Any]):
    """A JSON object as :func:`prepare` gives it: already in the form the fast path writes, so canonicalising a value
    that contains it does not walk it again (one document, canonicalised within several credentials)."""


def prepare(value: Any) -> Any:
    """``value`` (a JSON object) readied once for canonicalisation inside other values: a :class:`Prepared` with the
    same canonical bytes, or ``value`` itself when the fast path cannot take it as a whole. Objects derived from a
    Prepared by keeping some of its members (a projection) may be wrapped in Prepared again."""
    if type(value) is not dict:
        return value
    try:
        return Prepared(_prepared(value, fragments=False))
    except _Fallback:
        return value


def _prepared(value: Any, fragments: bool = True) -> Any:
    """``value`` with its doubles as orjson must see them; _Fallback when the slow path is needed (or a double needs
    to be pre-written and ``fragments`` is false: a Prepared holds only what the slow path also reads)."""
    kind = type(value)
    if kind is Prepared:
        return value
    if kind is dict:
        out = {}
        for key, item in value.items():
            if type(key) is not str or not key.isascii():
                raise _FALLBACK
            item_kind = type(item)
            if item_kind is str or item_kind is int or item_kind is bool or item is None:
                out[key] = item
            elif item_kind is float:
                out[key] = _number(item, fragments)
            else:
                out[key] = _prepared(item, fragments)
        return out
    if kind is list or kind is tuple:
        items = []
        for item in value:
            item_kind = type(item)
            if item_kind is str or item_kind is int or item_kind is bool or item is None:
                items.append(item)
            elif item_kind is float:
                items.append(_number(item, fragments))
            else:
                items.append(_prepared(item, fragments))
        return items
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is float:
        return _number(value, fragments)
    raise _FALLBACK


def _canonicalize_slow(value: Any) -> bytes:
    """The reference implementation: every JSON value, every refusal."""
    out: list[str] = []
    _write(value, out)
    try:
        return "".join(out).encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput("lone surrogate in a string: not valid Unicode (RFC 8785)") from None


def canonical_object(members: Mapping[str, bytes]) -> bytes:
    """The canonical bytes of an object whose members' values are already canonical bytes: what ``canonicalize``
    gives for the object, without canonicalising the values again (a credential with and without its proof)."""
    keys = sorted(members, key=_utf16_key)
    try:
        return b"{" + b",".join(_string(key).encode("utf-8") + b":" + members[key] for key in keys) + b"}"
    except UnicodeEncodeError:  # pragma: no cover - _utf16_key has refused lone surrogates already
        raise InvalidInput("lone surrogate in a member name: not valid Unicode (RFC 8785)") from None


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def digest(value: Any) -> str:
    """``sha256:<hex>`` of the canonical bytes: the form of ``previousVersionHash``."""
    return "sha256:" + hashlib.sha256(canonicalize(value)).hexdigest()


__all__ = ["MAX_EXACT_INTEGER", "Prepared", "canonical_object", "canonicalize", "digest", "prepare", "sha256"]
