"""RFC 8785 (JCS): the RFC and cyberphone test cases byte for byte, and properties over random JSON values, with the
``rfc8785`` package as an oracle for the number formatting."""

from __future__ import annotations

import hashlib
import json
import math
import os
import struct
import tempfile
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from passport import jsonio
from passport.canonical import canonicalize, digest
from passport.errors import InvalidInput

if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):  # never a .hypothesis directory in the repository
    set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "passport-tests-hypothesis")

PROPERTY = settings(max_examples=300, deadline=None, database=None)

# --- the reference cases ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cases(reference_dir: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((reference_dir / "vectors" / "jcs_rfc8785_cases.json").read_text("utf-8"))
    return loaded


@pytest.mark.reference
def test_cyberphone_files_canonicalise_byte_for_byte(cases: dict[str, Any]) -> None:
    assert len(cases["files"]) >= 6
    for case in cases["files"]:
        produced = canonicalize(json.loads(case["input_text"]))
        assert produced == case["expected_output_utf8"].encode("utf-8"), case["name"]
        assert produced.hex() == case["expected_output_hex"], case["name"]


@pytest.mark.reference
def test_appendix_b_numbers_serialise_like_ecmascript(cases: dict[str, Any]) -> None:
    assert len(cases["numbers"]) >= 30
    for case in cases["numbers"]:
        value = struct.unpack(">d", bytes.fromhex(case["ieee754_hex"]))[0]
        if case["expected"] is None:  # NaN and infinities
            with pytest.raises(InvalidInput):
                canonicalize(value)
        else:
            assert canonicalize(value) == case["expected"].encode("ascii"), case["ieee754_hex"]


@pytest.mark.reference
def test_extra_cases_canonicalise_byte_for_byte(cases: dict[str, Any]) -> None:
    assert len(cases["extra_cases"]) >= 7
    for case in cases["extra_cases"]:
        produced = canonicalize(json.loads(case["input_text"]))
        assert produced == case["expected_output_utf8"].encode("utf-8"), case["note"]
        assert produced.hex() == case["expected_output_hex"], case["note"]


@pytest.mark.reference
def test_must_reject_inputs_are_refused(cases: dict[str, Any]) -> None:
    assert len(cases["must_reject"]) >= 5
    for case in cases["must_reject"]:
        # The strict reader refuses duplicates, NaN and oversized integers; canonicalisation refuses the rest
        # (an infinity from 1e400, a lone surrogate).
        with pytest.raises(InvalidInput):
            canonicalize(jsonio.loads(case["input_text"]))


@pytest.mark.parametrize(
    "value",
    [
        math.nan,
        math.inf,
        -math.inf,
        [2**53 + 1],
        {"a": -(2**53) - 1},
        "\udead",
        {"\ud800": 1},  # lone surrogate in a member name
        {1: "not a string name"},
        b"bytes",
        {"a": object()},
    ],
    ids=["nan", "inf", "-inf", "int>2^53", "int<-2^53", "surrogate", "surrogate-name", "int-name", "bytes", "object"],
)
def test_values_outside_json_are_refused(value: Any) -> None:
    with pytest.raises(InvalidInput):
        canonicalize(value)


def test_digest_is_sha256_of_the_canonical_bytes() -> None:
    value = {"b": [1, 2.5, "é"], "a": None}
    assert canonicalize(value) == '{"a":null,"b":[1,2.5,"é"]}'.encode()
    assert digest(value) == "sha256:" + hashlib.sha256(canonicalize(value)).hexdigest()


# --- properties -------------------------------------------------------------------------------------------------

SAFE = 2**53 - 1  # the rfc8785 package refuses 2^53 itself; the product accepts it (it is exact in a double)
strings = st.text(st.characters(blacklist_categories=["Cs"]), max_size=12)
scalars = (
    st.none() | st.booleans() | st.integers(-SAFE, SAFE) | st.floats(allow_nan=False, allow_infinity=False) | strings
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(strings, children, max_size=5),
    max_leaves=25,
)


def as_doubles(data: bytes) -> Any:
    """``json.loads`` with the number model of RFC 8785 (I-JSON): every number an IEEE 754 double. JCS writes a
    double from 2^53 up to 1e21 as an integer literal (3.5e16 -> 35000000000000000), which Python would otherwise
    read as an exact int, unequal to the double it came from."""
    return json.loads(data, parse_int=float)


@PROPERTY
@given(json_values)
def test_canonical_bytes_parse_back_to_an_equal_value(value: Any) -> None:
    assert as_doubles(canonicalize(value)) == value


@PROPERTY
@given(json_values)
def test_canonicalisation_is_idempotent(value: Any) -> None:
    once = canonicalize(value)
    assert canonicalize(as_doubles(once)) == once


# the strict reader refuses NUL (PostgreSQL holds it in no text), as it refuses lone surrogates
strict_strings = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=12)
strict_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-SAFE, SAFE)
    | st.floats(-SAFE, SAFE, allow_nan=False, allow_infinity=False)
    | strict_strings
)
strict_values = st.recursive(
    strict_scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(strict_strings, children, max_size=5),
    max_leaves=25,
)


@PROPERTY
@given(strict_values)
def test_the_strict_reader_reads_canonical_bytes_back(value: Any) -> None:
    once = canonicalize(value)
    assert canonicalize(jsonio.loads(once)) == once


def test_the_strict_reader_reads_large_doubles_written_by_jcs() -> None:
    # RFC 8785 writes doubles from 2^53 to 1e21 without a fraction: the reader takes them back as those doubles
    assert jsonio.loads(canonicalize([1e17])) == [1e17]
    assert jsonio.loads(canonicalize([2.0**60])) == [2.0**60]


def test_the_strict_reader_refuses_large_integers_that_are_not_doubles() -> None:
    with pytest.raises(InvalidInput):
        jsonio.loads(b"[9007199254740993]")  # 2^53 + 1: no double holds it
    with pytest.raises(InvalidInput):
        jsonio.loads(b"[1" + b"0" * 21 + b"]")  # 1e21 and beyond: JCS writes an exponent


@pytest.mark.parametrize("text", [b'{"a": "x\\u0000y"}', b'{"a\\u0000": 1}', b'[[{"a": ["\\u0000"]}]]'],
                         ids=["value", "member-name", "nested"])
def test_the_strict_reader_refuses_nul(text: bytes) -> None:
    # PostgreSQL holds NUL in neither text nor jsonb: refused where the input is, not as a 500 at the database
    with pytest.raises(InvalidInput, match="NUL"):
        jsonio.loads(text)


def test_the_strict_reader_takes_an_escaped_backslash_before_u0000() -> None:
    assert jsonio.loads(b'{"a": "\\\\u0000"}') == {"a": "\\u0000"}  # a backslash, then the text u0000


@PROPERTY
@given(json_values)
def test_agrees_with_the_rfc8785_package(value: Any) -> None:
    assert canonicalize(value) == rfc8785.dumps(value)


@PROPERTY
@given(st.integers(0, 2**64 - 1))
def test_every_finite_double_formats_like_the_rfc8785_package(bits: int) -> None:
    value = struct.unpack(">d", bits.to_bytes(8, "big"))[0]
    if math.isfinite(value):
        assert canonicalize(value) == rfc8785.dumps(value)
    else:
        with pytest.raises(InvalidInput):
            canonicalize(value)


@PROPERTY
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_float_formatting_agrees_with_the_rfc8785_package(value: float) -> None:
    assert canonicalize(value) == rfc8785.dumps(value)
    assert float(canonicalize(value)) == value  # and it round-trips exactly


def utf16_units(text: str) -> list[int]:
    encoded = text.encode("utf-16-be")
    return [int.from_bytes(encoded[i : i + 2], "big") for i in range(0, len(encoded), 2)]


@PROPERTY
@given(st.dictionaries(strings, st.integers(0, 9), min_size=2, max_size=8))
def test_members_are_sorted_by_utf16_code_units(value: dict[str, int]) -> None:
    assert list(json.loads(canonicalize(value))) == sorted(value, key=utf16_units)
