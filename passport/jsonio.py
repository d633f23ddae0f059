"""Strict JSON reading: what the wire may carry and nothing else.

Refused with :class:`InvalidInput`: invalid UTF-8, malformed JSON, duplicate keys (which parsers resolve
differently, so a signature could cover another reading than the one stored), NaN and infinities (also number
literals such as ``1e400`` that overflow a double), lone surrogates (``"\\ud800"``: no Unicode text, so no UTF-8 and
no RFC 8785 form; I-JSON refuses them), the NUL character (``"\\u0000"``: PostgreSQL can hold it in neither text nor
jsonb, and no field of a passport or a request means it), nesting deeper than :data:`MAX_DEPTH`, and integers beyond
what RFC 8785 carries exactly."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import orjson

from passport.errors import InvalidInput
from passport.models.base import MAX_SAFE_INTEGER

MAX_DEPTH = 32
_MISS: Any = object()  # the fast path declines: the strict parser decides


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        duplicate = next(key for key, _ in pairs if key in seen or seen.add(key))  # type: ignore[func-returns-value]
        shown = repr(duplicate) if len(duplicate) <= 60 else repr(duplicate[:60]) + "…"
        raise InvalidInput(f"duplicate key {shown} in a JSON object")
    return result


def _no_constants(name: str) -> Any:
    raise InvalidInput(f"{name} is not allowed in JSON")


def _finite_float(text: str) -> float:
    """A number literal with a fraction or an exponent, as a double; ``1e400`` is no double (Python reads it as
    infinity, which no JSON text can carry back): refused here, where the input is, rather than wherever the
    infinity would surface later."""
    value = float(text)
    if not math.isfinite(value):
        raise InvalidInput(f"number {text[:30]} is beyond the range of a double")
    return value


def _bounded_int(text: str) -> int | float:
    """An integer literal within ±(2^53 - 1) is an integer. Beyond, it is accepted only as the number RFC 8785 writes
    for a double (from 2^53 up to 1e21 JCS writes doubles without a fraction): then it reads back as that double, so
    a credential the service signed verifies again; any other large integer would change meaning, and is refused."""
    if len(text) > 40:
        raise InvalidInput(f"number {text[:30]}… is too long")
    value = int(text)
    if abs(value) <= MAX_SAFE_INTEGER:
        return value
    as_double = float(value)
    if abs(as_double) < 1e21 and _jcs_integer_text(as_double) == text:
        return as_double
    raise InvalidInput(f"integer {text[:30]} is larger than 2^53 - 1 and cannot be carried exactly")


def _jcs_integer_text(number: float) -> str:
    """How RFC 8785 (ECMAScript) writes a double from 2^53 to 1e21: its shortest digits, then zeros."""
    mantissa, _, exponent = repr(abs(number)).partition("e")
    sign = "-" if number < 0 else ""
    if not exponent:
        return sign + mantissa.removesuffix(".0")
    digits = mantissa.replace(".", "")
    return sign + digits + "0" * (int(exponent) + 1 - len(digits))


def _depth(value: Any, limit: int = MAX_DEPTH) -> int:
    """The nesting depth of a parsed value (a scalar is 1, ``{"a": 1}`` is 2), counted up to ``limit + 1``: only
    containers are walked (the scalars of a container add one level, whatever they are)."""
    if type(value) is dict:
        children: Any = value.values()
    elif type(value) is list:
        children = value
    else:
        return 1
    deepest = 1
    for child in children:
        if deepest == 1:
            deepest = 2  # a container with at least one member is at least two deep
        if type(child) is dict or type(child) is list:
            if limit <= 1:
                return limit + 1  # this child's own members are deeper than the limit (or it is empty: 2 + 0)
            below = 1 + _depth(child, limit - 1)
            if below > deepest:
                deepest = below
                if deepest > limit:
                    return deepest
    return deepest


def _strings(value: Any) -> Iterator[str]:
    """Every string of a parsed value, member names too (the depth is already bounded by :data:`MAX_DEPTH`)."""
    if type(value) is str:
        yield value
    elif type(value) is dict:
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif type(value) is list:
        for item in value:
            yield from _strings(item)


def _no_lone_surrogates(value: Any) -> None:
    """Every string (member names too) is Unicode text: a ``\\uD800``-``\\uDFFF`` escape not paired with its other
    half reads as a lone surrogate, which no UTF-8 encoder writes (it surfaced as a 500 wherever the value was
    written out again)."""
    for text in _strings(value):
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidInput("a lone surrogate (\\ud800 to \\udfff unpaired) is not valid Unicode") from None


def _no_nul(value: Any) -> None:
    """No string (member names too) holds U+0000: PostgreSQL stores it in neither text nor jsonb (psycopg refuses
    the value, a 500 wherever it reached the database, perhaps after a key file or a first row was written), SQLite
    would keep it and hand it to readers that end strings there, and no passport field or request member means it.
    Refused here, where the input is, on both engines alike."""
    for text in _strings(value):
        if "\x00" in text:
            raise InvalidInput("the NUL character (\\u0000) is not allowed in JSON strings or member names")


def loads(data: bytes | str) -> Any:
    """Parse one JSON text strictly: at C speed when :func:`_fast` can vouch for the text, else by
    :func:`strict_loads` (the same reading, the same refusals; tests/test_jsonio_fast.py holds them to it)."""
    if isinstance(data, bytes):
        value = _fast(data)
        if value is not _MISS:
            return value
    return strict_loads(data)


# --- fast path -------------------------------------------------------------------------------------------------

# bytes.translate tables: keep only the structure (brackets, as one kind, and quotes); mark digits
_STRUCTURE = bytes.maketrans(b"{}", b"[]")
_NOT_STRUCTURE = bytes(c for c in range(256) if c not in b'[]{}"')
_DIGITS = bytes(ord("0") if chr(c).isdigit() and c < 128 else ord("x") for c in range(256))
# an integer literal beyond ±(2^53 - 1) has at least 16 digits; so have some doubles, which the strict path reads too
_LONG_NUMBER = b"0" * 16


def _shallow(raw: bytes) -> bool:
    """The text nests less than :data:`MAX_DEPTH` deep. Its structure is its brackets outside strings (without
    escapes, a string is whatever lies between two quotes); each pass removes the innermost empty pairs, so the number
    of passes is the nesting depth of containers (a container's scalars add one level more)."""
    structure = b"".join(raw.translate(_STRUCTURE, _NOT_STRUCTURE).split(b'"')[::2])
    for _ in range(MAX_DEPTH - 1):
        if not structure:
            return True
        structure = structure.replace(b"[]", b"")
    return not structure


def _fast(raw: bytes) -> Any:
    """The common case at C speed: orjson parses (it refuses invalid UTF-8, control characters, NaN, infinities and
    lone surrogates as RFC 8259 does) and the strict rules are checked on the bytes; ``_MISS`` whenever the strict
    reading must decide (then it gives its own precise error or its own reading): any escape (``\\``: NUL and
    surrogates are escapes), a run of 16 digits, deep nesting, a bare number.

    Duplicate member names are what orjson cannot report (it keeps the last). They are ruled out by counting: in a
    text without escapes no string holds a quote, so once white space is removed every member name, and nothing
    else, is a string directly followed by ``:``: the text has as many names as ``":``; orjson writes the parsed
    value back with one ``":`` per member it kept, so the counts are equal only if no name was repeated."""
    if b"\\" in raw:
        return _MISS
    if _LONG_NUMBER in raw.translate(_DIGITS):
        return _MISS
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _MISS
    if type(value) is dict or type(value) is list:
        names = raw.translate(None, b" \t\n\r").count(b'":')
        if not _shallow(raw) or orjson.dumps(value).count(b'":') != names:
            return _MISS
    elif type(value) is int or type(value) is float:
        return _MISS  # a bare number: the strict reading's own range rules
    return value


def strict_loads(data: bytes | str) -> Any:
    """Parse one JSON text strictly (the reference reading)."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInput(f"the body is not valid UTF-8 (byte {exc.start})") from None
    else:
        text = data
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constants, parse_int=_bounded_int,
                           parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise InvalidInput(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    if _depth(value) > MAX_DEPTH:
        raise InvalidInput(f"JSON nested deeper than {MAX_DEPTH} levels")
    if "\\ud" in text or "\\uD" in text:  # only an escape can make a surrogate: UTF-8 input cannot hold one
        _no_lone_surrogates(value)
    if "\\u0000" in text:  # only an escape can make a NUL: the parser refuses a raw one (a control character)
        _no_nul(value)
    return value


def dumps_for_validation(value: Any) -> bytes:
    """Serialise an already parsed object for Pydantic's JSON validator (strict mode reads dates from JSON text)."""
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"not representable as JSON: {exc}") from None


__all__ = ["MAX_DEPTH", "dumps_for_validation", "loads", "strict_loads"]
