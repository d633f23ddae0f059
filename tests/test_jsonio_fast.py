"""The strict JSON reader's fast path (orjson, then the strict rules checked on the result) reads exactly what the
strict parser reads and refuses exactly what it refuses: every input here goes through both, and they must agree
(the fast path may only decline, never decide differently)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from passport import jsonio
from passport.errors import InvalidInput

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "docs" / "examples").glob("*.json"))
SAFE = 2**53 - 1


def outcome(read: Any, raw: bytes) -> tuple[str, Any]:
    try:
        return "value", read(raw)
    except InvalidInput as exc:
        return "refused", exc.detail


def agree(raw: bytes) -> tuple[str, Any]:
    strict = outcome(jsonio.strict_loads, raw)
    fast = outcome(jsonio.loads, raw)
    assert fast == strict, raw[:200]
    if strict[0] == "value":  # equal values of equal types (1 and 1.0 compare equal)
        assert json.dumps(fast[1]) == json.dumps(strict[1])
    return strict


def nested(depth: int) -> bytes:
    return b"[" * (depth - 1) + b"1" + b"]" * (depth - 1)


CASES = [
    b'{"a":1,"a":2}', b'{"a":1,"b":{"c":1,"c":1}}', b'[{"a":1},{"a":1,"a":1}]',
    b'{"a":1, "a":2}', b'{"a" :1,"a":2}', b'{"a":1,"b" :2}', b'{"a"\n:1,"a":2}',
    b'{"a":"x\\":y","a":1}', b'{"k\\\\":1,"k\\\\":2}', b'{"\\u0061":1,"a":2}',
    b'"\\u0000"', b'{"a\\u0000":1}', b'"\\ud800"', b'"\\ud83d\\ude00"',
    b'9007199254740991', b'9007199254740992', b'[9007199254740993]', b'[-9007199254740993]',
    b'[35000000000000000]', b'[1e400]', b'[1.5e300]', b'[9007199254740992.0]', b'[-0]', b'[-0.0]', b'[1E2]',
    b'NaN', b'[Infinity]', b'{"a":NaN}', b'[1,]', b'{"a":1,}', b"", b" ", b'\xef\xbb\xbf{}', b'"\xff"',
    b'{"a":1}\n', b' {"a": [1, 2, {"b": null}]} ', b'"plain"', b"true", b"null", b"{}", b"[]",
    nested(31), nested(32), nested(33), b"[" * 32 + b"]" * 32, b"[" * 33 + b"]" * 33,
    b"[" * 31 + b"{}" + b"]" * 31, b"[" * 31 + b'{"a":1}' + b"]" * 31, b"[" * 2000 + b"]" * 2000,
    b"[" * 30 + b'"]]]]]][[[[[[[{{{"' + b"]" * 30, b'{"a":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}',
    b"[" * 31 + b'"x"' + b"]" * 31, b"[" * 32 + b'"x"' + b"]" * 32, b'{"a":{"b":{}},"c":[[],[[]]]}',
    b"[1234567890123456]", b"[123456789012345]", b'["12345678901234567890"]', b"[1e20]", b"[0.12345678901234567]",
]


@pytest.mark.parametrize("raw", CASES, ids=lambda raw: repr(raw[:40]))
def test_crafted_inputs_read_alike(raw: bytes) -> None:
    agree(raw)


def test_duplicates_are_refused_by_the_fast_path_too() -> None:
    assert agree(b'{"a":1,"b":{"c":1,"c":2}}')[0] == "refused"
    assert agree(b'[{"a":1},{"a":1,"a":1}]')[0] == "refused"


def test_depth_limit_holds_on_the_fast_path() -> None:
    assert agree(nested(jsonio.MAX_DEPTH))[0] == "value"
    assert agree(nested(jsonio.MAX_DEPTH + 1))[0] == "refused"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.name)
def test_example_documents_read_alike_compact_and_pretty(path: Path) -> None:
    value = json.loads(path.read_bytes())
    assert agree(orjson.dumps(value))[0] == "value"
    assert agree(json.dumps(value, indent=2).encode())[0] == "value"
    assert agree(json.dumps(value).encode())[0] == "value"


keys = st.text(st.characters(blacklist_categories=["Cs"]), max_size=6)
scalars = (st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False)
           | st.text(max_size=8))
values = st.recursive(scalars, lambda children: st.lists(children, max_size=4)
                      | st.dictionaries(keys, children, max_size=4), max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(values)
def test_generated_values_read_alike(value: Any) -> None:
    compact = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")
    agree(compact)
    agree(json.dumps(value).encode())


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c", "é"]), st.integers(0, 3)), min_size=1, max_size=6),
       st.integers(1, 3))
def test_generated_objects_with_repeated_names_read_alike(members: list[tuple[str, int]], depth: int) -> None:
    body = "{" + ",".join(f'"{name}":{number}' for name, number in members) + "}"
    agree(("[" * (depth - 1) + body + "]" * (depth - 1)).encode())
