"""Benchmark documents: the documented examples (EV, LMT, industrial) with benchmark GTINs and varied serial numbers,
as objects, JSON bytes, or NDJSON streamed from a template (no 100k documents held in memory)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from functools import cache
from typing import Any

from bench.common import ROOT

EXAMPLES = ("passport-ev", "passport-lmt", "passport-industrial")
GTIN_PREFIX = "0999999"  # benchmark GTINs: 0999999 + 6 digits + check digit; no real product uses them
SERIAL_PLACEHOLDER = "@@SERIAL@@"


def gtin(number: int) -> str:
    from passport.rules import gs1_check_digit

    base = f"{GTIN_PREFIX}{number:06d}"
    return base + str(gs1_check_digit(base))


def serial(prefix: str, number: int) -> str:
    """A GS1 AI 21 serial (at most 20 characters)."""
    text = f"{prefix}{number:010d}"
    assert len(text) <= 20, text
    return text


@cache
def _example(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((ROOT / "docs" / "examples" / f"{name}.json").read_text(encoding="utf-8"))
    document.pop("passportId", None)
    document["general"]["gtin"] = gtin(EXAMPLES.index(name) + 1)
    return document


def document(number: int, prefix: str = "B") -> dict[str, Any]:
    """Passport ``number`` of a series: the examples in turn, each with its own serial number."""
    result = copy.deepcopy(_example(EXAMPLES[number % len(EXAMPLES)]))
    result["general"]["serialNumber"] = serial(prefix, number)
    return result


def document_bytes(number: int, prefix: str = "B") -> bytes:
    return _templates()[number % len(EXAMPLES)].replace(SERIAL_PLACEHOLDER.encode(),
                                                        serial(prefix, number).encode())


@cache
def _templates() -> tuple[bytes, ...]:
    out = []
    for name in EXAMPLES:
        template = copy.deepcopy(_example(name))
        template["general"]["serialNumber"] = SERIAL_PLACEHOLDER
        out.append(json.dumps(template, ensure_ascii=False, separators=(",", ":")).encode())
    return tuple(out)


def ndjson_lines(count: int, prefix: str) -> Iterator[bytes]:
    heads_tails = [template.split(SERIAL_PLACEHOLDER.encode()) for template in _templates()]
    for number in range(count):
        head, tail = heads_tails[number % len(heads_tails)]
        yield head + serial(prefix, number).encode() + tail + b"\n"


def ndjson_body(count: int, prefix: str, chunk_size: int = 256 * 1024) -> Iterator[bytes]:
    """The NDJSON body in chunks of about ``chunk_size`` bytes, generated as it is sent."""
    pending: list[bytes] = []
    size = 0
    for line in ndjson_lines(count, prefix):
        pending.append(line)
        size += len(line)
        if size >= chunk_size:
            yield b"".join(pending)
            pending, size = [], 0
    if pending:
        yield b"".join(pending)
