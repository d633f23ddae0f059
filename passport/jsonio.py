"""Strict JSON reading: what the wire may carry and nothing else.

Refused with :class:`InvalidInput`: invalid UTF-8, malformed JSON, duplicate keys (which parsers resolve
differently, so a signature could cover another reading than the one stored), NaN and infinities (also number
literals such as ``1e400`` that overflow a double), lone surrogates (``"\\ud800"``: no Unicode text, so no UTF-8 and
no RFC 8785 form; I-JSON refuses them), nesting deeper than :data:`MAX_DEPTH`, and integers beyond what RFC 8785
carries exactly."""

from __future__ import annotations

import json
import math
from typing import Any

from passport.errors import InvalidInput
from passport.models.base import MAX_SAFE_INTEGER

MAX_DEPTH = 32


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


def _no_lone_surrogates(value: Any) -> None:
    """Every string (member names too) is Unicode text: a ``\\uD800``-``\\uDFFF`` escape not paired with its other
    half reads as a lone surrogate, which no UTF-8 encoder writes (it surfaced as a 500 wherever the value was
    written out again)."""
    if type(value) is str:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidInput("a lone surrogate (\\ud800 to \\udfff unpaired) is not valid Unicode") from None
    elif type(value) is dict:
        for key, item in value.items():
            _no_lone_surrogates(key)
            _no_lone_surrogates(item)
    elif type(value) is list:
        for item in value:
            _no_lone_surrogates(item)


def loads(data: bytes | str) -> Any:
    """Parse one JSON text strictly."""
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
    return value


def dumps_for_validation(value: Any) -> bytes:
    """Serialise an already parsed object for Pydantic's JSON validator (strict mode reads dates from JSON text)."""
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"not representable as JSON: {exc}") from None


__all__ = ["MAX_DEPTH", "dumps_for_validation", "loads"]
