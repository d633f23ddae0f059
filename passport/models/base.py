"""Shared building blocks of the passport models: the wire base class, field metadata and value types.

Every leaf field of the passport declares, in its JSON Schema metadata:

- ``x-audience``: who may read it (Art. 77(2), Annex XIII points 1-4; see :class:`Audience`);
- ``x-granularity``: whether it describes the battery *model* or the individual *item*;
- ``x-annex-xiii`` / ``x-ec-datapoints``: the Annex XIII point and the Commission guidance data points it carries;
- ``x-unit``: its unit, where it has one.

That metadata is the single source of truth for views (:mod:`passport.access`), the published schemas
(:mod:`passport.schema`) and the data-model reference (``docs/data-model.md``).
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic.alias_generators import to_camel


class Audience(StrEnum):
    """Who may read a field (DESIGN §3). The four audiences are sets, not levels."""

    PUBLIC = "public"  # Annex XIII point 1: anyone
    RESTRICTED = "restricted"  # point 2: legitimate interest and authorities
    AUTHORITIES_ONLY = "authorities_only"  # point 3: notified bodies, market surveillance, Commission
    LEGITIMATE_INTEREST_ONLY = "legitimate_interest_only"  # point 4: individual battery data


class Granularity(StrEnum):
    """Whether a value belongs to the battery model (registered once) or to the individual battery."""

    MODEL = "model"
    ITEM = "item"


class WireModel(BaseModel):
    """Base of every passport model: camelCase on the wire, strict types, unknown fields rejected.

    Strict mode keeps Pydantic and the published JSON Schema in agreement (no "5" for 5, no timestamps for
    dates); NaN and infinities are refused because JSON and RFC 8785 cannot carry them.
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="forbid",
        strict=True,
        allow_inf_nan=False,
        frozen=True,
        use_enum_values=False,
    )


def spec(
    audience: Audience,
    granularity: Granularity,
    description: str,
    *,
    annex: str | None = None,
    datapoints: tuple[int, ...] = (),
    unit: str | None = None,
    default: Any = ...,
    alias: str | None = None,
    schema_extra: dict[str, Any] | None = None,
    **constraints: Any,
) -> Any:
    """A leaf field with its audience, granularity, Annex XIII reference and unit.

    Returns ``pydantic.Field(...)``; typed ``Any`` so it can stand as the default of any annotated field.
    """
    extra: dict[str, Any] = {"x-audience": audience.value, "x-granularity": granularity.value}
    if annex is not None:
        extra["x-annex-xiii"] = annex
    if datapoints:
        extra["x-ec-datapoints"] = list(datapoints)
    if unit is not None:
        extra["x-unit"] = unit
    extra.update(schema_extra or {})
    if "default_factory" in constraints:
        return Field(description=description, json_schema_extra=extra, alias=alias, **constraints)
    return Field(default, description=description, json_schema_extra=extra, alias=alias, **constraints)


def group(
    description: str,
    *,
    granularity: Granularity | None = None,
    annex: str | None = None,
    datapoints: tuple[int, ...] = (),
    default: Any = ...,
    **constraints: Any,
) -> Any:
    """A field holding a sub-model (or a list of them).

    Its audiences are those of the fields inside it (computed by :mod:`passport.access`). A group may declare a
    granularity, which then holds for everything inside it: the same address shape serves the manufacturer
    (model data) and the economic operator (item data).
    """
    extra: dict[str, Any] = {"x-group": True}
    if granularity is not None:
        extra["x-granularity"] = granularity.value
    if annex is not None:
        extra["x-annex-xiii"] = annex
    if datapoints:
        extra["x-ec-datapoints"] = list(datapoints)
    if "default_factory" in constraints:
        return Field(description=description, json_schema_extra=extra, **constraints)
    return Field(default, description=description, json_schema_extra=extra, **constraints)


def optional_group(description: str, **kwargs: Any) -> Any:
    return group(description, default=None, **kwargs)


# --- value types -----------------------------------------------------------------------------------------

_DATE_RE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_DATETIME_RE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})$"


def _real_date(value: str) -> str:
    # The pattern checks the shape; the calendar decides whether 2026-02-30 exists (JSON Schema "format": "date").
    dt.date.fromisoformat(value)
    return value


def _real_datetime(value: str) -> str:
    parse_datetime(value)
    return value


def parse_datetime(value: str) -> dt.datetime:
    """Parse an RFC 3339 timestamp as carried on the wire (seconds may carry up to 9 fraction digits)."""
    match = re.fullmatch(r"(.*T[0-9:]{8})(?:\.([0-9]+))?(Z|[+-][0-9]{2}:[0-9]{2})", value)
    if match is None:
        raise ValueError("not an RFC 3339 timestamp")
    head, fraction, zone = match.groups()
    micro = (fraction or "").ljust(6, "0")[:6]
    offset = "+00:00" if zone == "Z" else zone
    hours, minutes = int(offset[1:3]), int(offset[4:6])
    if hours > 23 or minutes > 59:
        raise ValueError("time-zone offset out of range")
    return dt.datetime.fromisoformat(f"{head}.{micro}{offset}")


IsoDate = Annotated[
    str,
    StringConstraints(pattern=_DATE_RE),
    AfterValidator(_real_date),
    Field(json_schema_extra={"format": "date"}),
]
"""A calendar date ``YYYY-MM-DD``, kept as written."""

Timestamp = Annotated[
    str,
    StringConstraints(pattern=_DATETIME_RE),
    AfterValidator(_real_datetime),
    Field(json_schema_extra={"format": "date-time"}),
]
"""An RFC 3339 timestamp with a time zone, kept as written."""

# Control characters and spaces are listed explicitly: engines disagree on what "\s" covers (Python counts
# U+001C-U+001F, Rust does not, ECMA-262 adds U+FEFF), and the published pattern must mean the same everywhere.
HttpUrl = Annotated[
    str, StringConstraints(pattern=r"^https?://[^\x00-\x20\x7f-\x9f/?#]+[^\x00-\x20\x7f-\x9f]*$", max_length=2048)
]
"""An absolute http(s) URL (other schemes, such as the ftp/telnet of generated samples, are refused)."""

Email = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$", max_length=254),
]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
"""ISO 3166-1 alpha-2 country code, e.g. ``DE``."""

CasNumber = Annotated[str, StringConstraints(pattern=r"^[0-9]{2,7}-[0-9]{2}-[0-9]$")]
"""A CAS registry number; its check digit is verified by the rules."""

ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=2000)]
MimeType = Annotated[str, StringConstraints(pattern=r"^[a-z]+/[A-Za-z0-9.+-]+$", max_length=100)]
LANGUAGE_TAG_PATTERN = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
LanguageTag = Annotated[str, StringConstraints(pattern=LANGUAGE_TAG_PATTERN)]

MAX_SAFE_INTEGER = 2**53 - 1
"""Largest integer that RFC 8785 (and JavaScript) carries exactly; counters are bounded by it."""

Percent = Annotated[float, Field(ge=0, le=100)]
