"""GS1 Digital Link URI syntax (v1.x) for batteries: primary key GTIN (AI 01) with the key qualifiers CPV (22),
batch/lot (10) and serial (21), in that order; query attributes are other GS1 AIs and resolver parameters.

:func:`parse_path` reads the path after the resolver root, normalises GTIN-8/12/13 to GTIN-14 and refuses, with a
helpful message, anything the standard does not allow: a wrong check digit, characters outside the GS1 AI
character set 82, qualifiers out of order or repeated, an unknown AI."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from passport.errors import InvalidInput
from passport.rules import gs1_check_digit

QUALIFIER_ORDER = ("22", "10", "21")
QUALIFIER_NAMES = {"22": "consumer product variant", "10": "batch or lot", "21": "serial number"}
# GS1 AI encodable character set 82 (GS1 General Specifications, figure 7.11-1)
_CSET82 = re.compile(r"^[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]+$")
_MAX_LENGTH = {"22": 20, "10": 20, "21": 20}


class DigitalLinkError(InvalidInput):
    slug = "invalid-digital-link"
    title = "Not a valid GS1 Digital Link"


@dataclass(frozen=True)
class ParsedLink:
    gtin: str  # always 14 digits
    qualifiers: dict[str, str]  # AI -> value, e.g. {"21": "SN-1", "10": "LOT7"}
    given_gtin: str  # as written (8, 12, 13 or 14 digits)
    trailing_slash: bool

    @property
    def serial(self) -> str | None:
        return self.qualifiers.get("21")

    @property
    def canonical_gtin(self) -> bool:
        return self.given_gtin == self.gtin


def normalise_gtin(text: str) -> str:
    if not (text.isascii() and text.isdigit()) or len(text) not in (8, 12, 13, 14):  # "²".isdigit() is True
        raise DigitalLinkError(f"{text!r} is not a GTIN: 8, 12, 13 or 14 digits")
    if gs1_check_digit(text[:-1]) != int(text[-1]):
        raise DigitalLinkError(
            f"GTIN {text} has a wrong check digit: the last digit should be {gs1_check_digit(text[:-1])}")
    return text.zfill(14)


def check_ai_value(ai: str, value: str) -> str:
    if not value:
        raise DigitalLinkError(f"AI {ai} ({QUALIFIER_NAMES[ai]}) is empty")
    if len(value) > _MAX_LENGTH[ai]:
        raise DigitalLinkError(f"AI {ai} ({QUALIFIER_NAMES[ai]}) is longer than {_MAX_LENGTH[ai]} characters")
    if not _CSET82.match(value):
        bad = sorted({c for c in value if not _CSET82.match(c)})
        raise DigitalLinkError(
            f"AI {ai} ({QUALIFIER_NAMES[ai]}) holds characters outside the GS1 character set: {''.join(bad)!r}")
    return value


def parse_path(path: str) -> ParsedLink:
    """Parse ``/01/{gtin}[/22/{cpv}][/10/{lot}][/21/{serial}]`` (percent-encoded segments, one optional trailing
    slash; an empty segment anywhere else is an error)."""
    body = path.removeprefix("/")
    trailing = body.endswith("/")
    segments = body.removesuffix("/").split("/")
    if len(segments) < 2 or segments[0] != "01":
        raise DigitalLinkError("a battery Digital Link starts with /01/{GTIN}")
    if "" in segments:
        raise DigitalLinkError("the path has an empty segment (two slashes in a row)")
    if len(segments) % 2:
        raise DigitalLinkError("every AI in the path needs a value: /AI/value pairs")
    given = unquote(segments[1])
    gtin = normalise_gtin(given)
    qualifiers: dict[str, str] = {}
    last = -1
    for index in range(2, len(segments), 2):
        ai, value = segments[index], unquote(segments[index + 1])
        if ai not in QUALIFIER_ORDER:
            raise DigitalLinkError(f"AI {ai!r} is not a key qualifier of a GTIN (allowed: 22, 10, 21, in that order)")
        position = QUALIFIER_ORDER.index(ai)
        if position <= last:
            raise DigitalLinkError("key qualifiers must appear once each, in the order 22, 10, 21")
        last = position
        qualifiers[ai] = check_ai_value(ai, value)
    return ParsedLink(gtin, qualifiers, given, trailing)


__all__ = ["QUALIFIER_ORDER", "DigitalLinkError", "ParsedLink", "check_ai_value", "normalise_gtin", "parse_path"]
