"""Hypothesis strategies driven by our own published JSON Schema.

:func:`documents_from_schema` walks a JSON Schema (draft 2020-12, as :mod:`passport.schema` publishes it) and
generates documents valid under it. It understands exactly the keywords our schema uses and raises
:class:`UnsupportedSchemaError` on anything else, so a schema change cannot silently weaken the tests built
on it.

:func:`mutations` takes a valid document and breaks it in one place, using the schema to know what is required
and constrained there.

Importing this module points Hypothesis' storage (its Unicode table cache) at a temporary directory, so
running the tests never writes a ``.hypothesis`` directory into the repository (unless
``HYPOTHESIS_STORAGE_DIRECTORY`` says where it should go).
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, cast

from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
    set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "passport-tests-hypothesis")

Schema = Mapping[str, Any]
PathPart = str | int
JsonPath = tuple[PathPart, ...]

# Bounds that keep generation fast and values unremarkable.
MAX_ITEMS: Final = 3
MAX_MAP_ENTRIES: Final = 3
MAX_TEXT: Final = 40
NUMBER_LIMIT: Final = 1e9
FIRST_DAY: Final = dt.date(1990, 1, 1)
LAST_DAY: Final = dt.date(2025, 12, 31)

_ANNOTATIONS: Final = frozenset({"title", "description", "default", "examples", "$comment", "deprecated"})
_ROOT_ONLY: Final = frozenset({"$schema", "$defs"})
_KEYWORDS: Final[Mapping[str, frozenset[str]]] = {
    "object": frozenset(
        {
            "type",
            "properties",
            "required",
            "additionalProperties",
            "patternProperties",
            "propertyNames",
            "minProperties",
            "maxProperties",
        }
    ),
    "array": frozenset({"type", "items", "minItems", "maxItems"}),
    "string": frozenset({"type", "minLength", "maxLength", "pattern", "format"}),
    "number": frozenset({"type", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}),
    "integer": frozenset({"type", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}),
    "boolean": frozenset({"type"}),
    "null": frozenset({"type"}),
}
_FORMATS: Final = frozenset({"date", "date-time"})
_PYTHON_TYPES: Final[Mapping[str, Callable[[Any], bool]]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
}


class UnsupportedSchemaError(ValueError):
    """The schema uses a keyword or a shape the strategies do not understand."""


def _pointer(path: JsonPath) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path) or "/"


def _location(where: JsonPath) -> str:
    """A schema location ``("#", "$defs", "Label")`` as ``#/$defs/Label``."""
    return "#" + _pointer(where[1:]).rstrip("/") if where[:1] == ("#",) else _pointer(where)


# --- the schema walker -----------------------------------------------------------------------------------


class _Walker:
    """Reads one schema document: resolves ``$ref``, checks keywords, builds and caches strategies.

    Every definition is built eagerly when the walker is created, so an unknown keyword anywhere in ``$defs``
    raises at once rather than the first time a draw happens to reach it."""

    def __init__(self, root: Schema) -> None:
        self.root = root
        defs = root.get("$defs", {})
        if not isinstance(defs, Mapping):
            raise UnsupportedSchemaError("$defs must be an object")
        self.defs: Mapping[str, Schema] = defs
        self._deferred: dict[str, st.SearchStrategy[Any]] = {}
        self._built: dict[str, st.SearchStrategy[Any]] = {}
        for name in self.defs:
            self._ref_strategy(name)
        self.document = self.strategy(root, ("#",), root=True)

    # resolution and checks

    def _def_name(self, ref: Any, where: JsonPath) -> str:
        if not isinstance(ref, str) or not ref.startswith("#/$defs/") or ref.count("/") != 2:
            raise UnsupportedSchemaError(
                f"{_location(where)}: only local '#/$defs/<name>' references are supported, not {ref!r}"
            )
        name = ref.rsplit("/", 1)[1]
        if name not in self.defs:
            raise UnsupportedSchemaError(f"{_location(where)}: {ref!r} points at no definition")
        return name

    def resolve(self, node: Schema, where: JsonPath = ("#",)) -> Schema:
        """The node itself, or the definition a ``$ref`` node points at (following chains)."""
        seen: set[str] = set()
        while "$ref" in node:
            self._check(node, frozenset({"$ref"}), where)
            name = self._def_name(node["$ref"], where)
            if name in seen:
                raise UnsupportedSchemaError(f"{_location(where)}: circular $ref chain through {name!r}")
            seen.add(name)
            node = self.defs[name]
            where = ("#", "$defs", name)
        return node

    def split_nullable(self, node: Schema, where: JsonPath) -> tuple[Schema, bool]:
        """For ``anyOf: [X, {"type": "null"}]`` the resolved X and True; else the resolved node and False."""
        node = self.resolve(node, where)
        if "anyOf" not in node:
            return node, False
        self._check(node, frozenset({"anyOf"}), where)
        branches = node["anyOf"]
        if not isinstance(branches, list) or len(branches) != 2:
            raise UnsupportedSchemaError(
                f"{_location(where)}: anyOf is only understood as [schema, {{'type': 'null'}}]"
            )
        nulls = [b for b in branches if dict(b) == {"type": "null"}]
        others = [b for b in branches if dict(b) != {"type": "null"}]
        if len(nulls) != 1 or len(others) != 1:
            raise UnsupportedSchemaError(
                f"{_location(where)}: anyOf is only understood as [schema, {{'type': 'null'}}]"
            )
        inner = self.resolve(others[0], (*where, "anyOf"))
        if "anyOf" in inner:
            raise UnsupportedSchemaError(f"{_location(where)}: nested anyOf")
        return inner, True

    @staticmethod
    def _check(node: Schema, allowed: frozenset[str], where: JsonPath) -> None:
        unknown = sorted(
            k for k in node if k not in allowed and k not in _ANNOTATIONS and not k.startswith("x-")
        )
        if unknown:
            raise UnsupportedSchemaError(
                f"{_location(where)}: keyword(s) {unknown} not understood by tests/strategies.py"
            )

    def kind(self, node: Schema, where: JsonPath) -> str:
        """The JSON type a resolved, non-anyOf node describes (checking its keywords on the way)."""
        kind = node.get("type")
        if not isinstance(kind, str) or kind not in _KEYWORDS:
            raise UnsupportedSchemaError(
                f"{_location(where)}: 'type' must be one of {sorted(_KEYWORDS)}, not {kind!r}"
            )
        if "enum" in node:
            self._check(node, frozenset({"type", "enum"}), where)
            members = node["enum"]
            if (
                not isinstance(members, list)
                or not members
                or kind not in _PYTHON_TYPES
                or not all(_PYTHON_TYPES[kind](m) for m in members)
            ):
                raise UnsupportedSchemaError(
                    f"{_location(where)}: enum must be a non-empty list of {kind} values"
                )
        else:
            self._check(node, _KEYWORDS[kind], where)
        return kind

    # strategies

    def _ref_strategy(self, name: str) -> st.SearchStrategy[Any]:
        if name not in self._deferred:
            self._deferred[name] = st.deferred(lambda: self._built[name])
            self._built[name] = self.strategy(self.defs[name], ("#", "$defs", name))
        return self._deferred[name]

    def strategy(self, node: Schema, where: JsonPath, *, root: bool = False) -> st.SearchStrategy[Any]:
        if not isinstance(node, Mapping):
            raise UnsupportedSchemaError(
                f"{_location(where)}: a schema must be an object (boolean schemas unsupported)"
            )
        if root:
            node = {k: v for k, v in node.items() if k not in _ROOT_ONLY}
        elif "$defs" in node:
            raise UnsupportedSchemaError(f"{_location(where)}: $defs is only understood at the root")
        if "$ref" in node:
            self._check(node, frozenset({"$ref"}), where)
            return self._ref_strategy(self._def_name(node["$ref"], where))
        if "anyOf" in node:
            self.split_nullable(node, where)  # checks the shape: [schema, {"type": "null"}]
            other = next(branch for branch in node["anyOf"] if dict(branch) != {"type": "null"})
            return st.one_of(st.none(), self.strategy(other, (*where, "anyOf")))
        kind = self.kind(node, where)
        if "enum" in node:
            return st.sampled_from(list(node["enum"]))
        builder: Callable[[Schema, JsonPath], st.SearchStrategy[Any]] = getattr(self, f"_{kind}")
        return builder(node, where)

    def _null(self, node: Schema, where: JsonPath) -> st.SearchStrategy[Any]:
        return st.none()

    def _boolean(self, node: Schema, where: JsonPath) -> st.SearchStrategy[Any]:
        return st.booleans()

    def _integer(self, node: Schema, where: JsonPath) -> st.SearchStrategy[Any]:
        low, high = integer_bounds(node)
        low = -int(NUMBER_LIMIT) if low is None else low
        high = int(NUMBER_LIMIT) if high is None else high
        if low > high:
            raise UnsupportedSchemaError(f"{_location(where)}: no integer satisfies the bounds")
        return st.integers(low, high)

    def _number(self, node: Schema, where: JsonPath) -> st.SearchStrategy[Any]:
        bounds = NumberBounds.of(node)
        low, low_open = (
            (bounds.low, bounds.low_open)
            if bounds.low is not None and bounds.low > -NUMBER_LIMIT
            else (-NUMBER_LIMIT, True)
        )
        high, high_open = (
            (bounds.high, bounds.high_open)
            if bounds.high is not None and bounds.high < NUMBER_LIMIT
            else (NUMBER_LIMIT, True)
        )
        if low > high or (low == high and (low_open or high_open)):
            raise UnsupportedSchemaError(f"{_location(where)}: no number satisfies the bounds")
        floats = st.floats(
            min_value=low,
            max_value=high,
            exclude_min=low_open,
            exclude_max=high_open,
            allow_nan=False,
            allow_infinity=False,
            allow_subnormal=False,
        )
        # JSON integers are numbers too: Pydantic reads them into float fields (5 == 5.0 after a round trip).
        int_low = math.floor(low) + 1 if low_open and float(low).is_integer() else math.ceil(low)
        int_high = math.ceil(high) - 1 if high_open and float(high).is_integer() else math.floor(high)
        if int_low > int_high:
            return floats
        return st.one_of(floats, st.integers(int_low, int_high))

    def _string(self, node: Schema, where: JsonPath) -> st.SearchStrategy[Any]:
        min_len: int = node.get("minLength", 0)
        max_len: int | None = node.get("maxLength")
        pattern: str | None = node.get("pattern")
        fmt: str | None = node.get("format")
        if max_len is not None and max_len < min_len:
            raise UnsupportedSchemaError(f"{_location(where)}: maxLength < minLength")

        def fits(text: str) -> bool:
            return min_len <= len(text) and (max_len is None or len(text) <= max_len)

        if fmt is not None:
            if fmt not in _FORMATS:
                raise UnsupportedSchemaError(f"{_location(where)}: format {fmt!r} is not understood")
            base = calendar_dates() if fmt == "date" else timestamps()

            def checked(text: str) -> str:
                # The format strategies must satisfy the node's other keywords; fail loudly if it changed.
                if (pattern is not None and re.search(pattern, text) is None) or not fits(text):
                    raise UnsupportedSchemaError(
                        f"{_location(where)}: generated {fmt} {text!r} violates the pattern "
                        f"or length of the schema; update tests/strategies.py"
                    )
                return text

            return base.map(checked)
        if pattern is not None:
            try:
                compiled = re.compile(pattern)
            except re.error as exc:
                raise UnsupportedSchemaError(f"{_location(where)}: pattern {pattern!r}: {exc}") from None
            return st.from_regex(compiled, fullmatch=True).filter(fits)
        short = st.text(min_size=min_len, max_size=max(min_len, min(MAX_TEXT, max_len or MAX_TEXT)))
        if max_len is None or max_len <= MAX_TEXT:
            return short
        # Also strings of exactly maxLength (cheap: a few random characters padded with "x").
        longest = st.text(max_size=8).map(lambda s: (s + "x" * max_len)[:max_len])
        return st.one_of(short, longest)

    def _array(self, node: Schema, where: JsonPath) -> st.SearchStrategy[Any]:
        if "items" not in node:
            raise UnsupportedSchemaError(f"{_location(where)}: arrays need 'items'")
        low: int = node.get("minItems", 0)
        high: int | None = node.get("maxItems")
        cap = max(low, MAX_ITEMS) if high is None else min(high, max(low, MAX_ITEMS))
        return st.lists(self.strategy(node["items"], (*where, "items")), min_size=low, max_size=cap)

    def _object(self, node: Schema, where: JsonPath) -> st.SearchStrategy[Any]:
        if (
            "patternProperties" in node
            or "propertyNames" in node
            or isinstance(node.get("additionalProperties"), Mapping)
        ):
            return self._map(node, where)
        properties: Mapping[str, Schema] = node.get("properties", {})
        required: list[str] = node.get("required", [])
        if "minProperties" in node or "maxProperties" in node:
            raise UnsupportedSchemaError(
                f"{_location(where)}: min/maxProperties only understood on map objects"
            )
        if node.get("additionalProperties", False) not in (False, True):
            raise UnsupportedSchemaError(
                f"{_location(where)}: additionalProperties must be false, true or a schema"
            )
        missing = [key for key in required if key not in properties]
        if missing:
            raise UnsupportedSchemaError(f"{_location(where)}: required {missing} have no property schema")
        # Per property: the choices (absent if optional, null if nullable, else the value) and the value's
        # strategy. The value is listed twice so nested groups are present often enough to be exercised.
        plans: list[tuple[str, st.SearchStrategy[str] | None, st.SearchStrategy[Any]]] = []
        for key, sub in properties.items():
            at = (*where, "properties", key)
            resolved = self.resolve(sub, at)
            nullable = "anyOf" in resolved
            if nullable:
                self.split_nullable(resolved, at)
                sub = next(branch for branch in resolved["anyOf"] if dict(branch) != {"type": "null"})
                at = (*at, "anyOf")
            choices = _PRESENCE[(key not in required, nullable)]
            chooser = st.sampled_from(choices) if len(choices) > 1 else None
            plans.append((key, chooser, self.strategy(sub, at)))

        def build(draw: st.DrawFn) -> dict[str, Any]:
            result: dict[str, Any] = {}
            for key, chooser, value in plans:
                choice = "value" if chooser is None else draw(chooser)
                if choice != "absent":
                    result[key] = None if choice == "null" else draw(value)
            return result

        return st.composite(build)()

    def _map(self, node: Schema, where: JsonPath) -> st.SearchStrategy[Any]:
        """An object used as a dictionary (Pydantic's ``dict[K, V]``): keys from a pattern, values of one
        schema."""
        if "properties" in node or "required" in node:
            raise UnsupportedSchemaError(
                f"{_location(where)}: map objects with fixed properties are not understood"
            )
        additional = node.get("additionalProperties")
        if "patternProperties" in node:
            entries = node["patternProperties"]
            names_pattern = (node.get("propertyNames") or {}).get("pattern")
            if (
                not isinstance(entries, Mapping)
                or len(entries) != 1
                or set(node.get("propertyNames") or {}) - {"pattern"}
                or names_pattern not in (None, next(iter(entries)))
                or additional not in (None, False)
            ):
                raise UnsupportedSchemaError(
                    f"{_location(where)}: patternProperties is only understood as one pattern, with at most a "
                    f"propertyNames pattern equal to it, and no additionalProperties schema"
                )
            ((key_pattern, value_schema),) = entries.items()
            keys: st.SearchStrategy[str] = st.from_regex(str(key_pattern), fullmatch=True)
            values = self.strategy(value_schema, (*where, "patternProperties", key_pattern))
        else:
            if not isinstance(additional, Mapping):
                raise UnsupportedSchemaError(
                    f"{_location(where)}: a map needs an additionalProperties schema"
                )
            names = {
                "type": "string",
                **node.get("propertyNames", {}),
            }  # keys are strings; "type" is optional
            if self.kind(self.resolve(names), (*where, "propertyNames")) != "string":
                raise UnsupportedSchemaError(f"{_location(where)}: propertyNames must describe strings")
            keys = self.strategy(names, (*where, "propertyNames"))
            values = self.strategy(additional, (*where, "additionalProperties"))
        low: int = node.get("minProperties", 0)
        high: int | None = node.get("maxProperties")
        cap = max(low, MAX_MAP_ENTRIES) if high is None else min(high, max(low, MAX_MAP_ENTRIES))
        return st.dictionaries(keys, values, min_size=low, max_size=cap)


_PRESENCE: Final[Mapping[tuple[bool, bool], tuple[str, ...]]] = {
    # (optional, nullable) -> what a generated object may hold for the property
    (False, False): ("value",),
    (False, True): ("null", "value", "value"),
    (True, False): ("absent", "value", "value"),
    (True, True): ("absent", "null", "value", "value"),
}


@dataclass(frozen=True)
class NumberBounds:
    """The effective lower and upper bound of a number schema and whether each is exclusive."""

    low: float | None
    low_open: bool
    high: float | None
    high_open: bool

    @classmethod
    def of(cls, node: Schema) -> NumberBounds:
        low, low_open = node.get("minimum"), False
        if "exclusiveMinimum" in node and (low is None or node["exclusiveMinimum"] >= low):
            low, low_open = node["exclusiveMinimum"], True
        high, high_open = node.get("maximum"), False
        if "exclusiveMaximum" in node and (high is None or node["exclusiveMaximum"] <= high):
            high, high_open = node["exclusiveMaximum"], True
        return cls(low, low_open, high, high_open)

    def contains(self, value: float) -> bool:
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            return False
        return not (self.high is not None and (value > self.high or (self.high_open and value == self.high)))


def integer_bounds(node: Schema) -> tuple[int | None, int | None]:
    """The smallest and largest integer an integer schema allows (None: unbounded)."""
    bounds = NumberBounds.of(node)
    low = high = None
    if bounds.low is not None:
        low = (
            math.floor(bounds.low) + 1
            if bounds.low_open and float(bounds.low).is_integer()
            else math.ceil(bounds.low)
        )
    if bounds.high is not None:
        high = (
            math.ceil(bounds.high) - 1
            if bounds.high_open and float(bounds.high).is_integer()
            else math.floor(bounds.high)
        )
    return low, high


def calendar_dates() -> st.SearchStrategy[str]:
    """Real calendar dates ``YYYY-MM-DD`` between 1990 and 2025."""
    return st.dates(min_value=FIRST_DAY, max_value=LAST_DAY).map(dt.date.isoformat)


def _offsets() -> st.SearchStrategy[str]:
    numeric = st.builds(
        lambda sign, hours, minutes: f"{sign}{hours:02d}:{minutes:02d}",
        st.sampled_from("+-"),
        st.integers(0, 23),
        st.integers(0, 59),
    )
    return st.one_of(st.just("Z"), numeric)


def timestamps() -> st.SearchStrategy[str]:
    """RFC 3339 timestamps of real moments between 1990 and 2025: optional fraction (1-9 digits), ``Z`` or
    a ``±hh:mm`` offset."""
    moments = st.datetimes(
        min_value=dt.datetime.combine(FIRST_DAY, dt.time()),
        max_value=dt.datetime.combine(LAST_DAY, dt.time(23, 59, 59)),
    )
    fractions = st.one_of(st.just(""), st.text("0123456789", min_size=1, max_size=9).map(lambda d: "." + d))
    return st.builds(
        lambda moment, fraction, zone: moment.strftime("%Y-%m-%dT%H:%M:%S") + fraction + zone,
        moments,
        fractions,
        _offsets(),
    )


_WALKERS: dict[int, tuple[Schema, _Walker]] = {}


def _walker(schema: Schema) -> _Walker:
    # Keyed by identity; the schema is kept alive with its walker so the id cannot be reused.
    cached = _WALKERS.get(id(schema))
    if cached is None or cached[0] is not schema:
        cached = (schema, _Walker(schema))
        _WALKERS[id(schema)] = cached
    return cached[1]


def documents_from_schema(schema: Schema) -> st.SearchStrategy[dict[str, Any]]:
    """Documents valid under ``schema``.

    Raises :class:`UnsupportedSchemaError` on keywords it does not understand."""
    return cast(st.SearchStrategy[dict[str, Any]], _walker(schema).document)


# --- mutations -------------------------------------------------------------------------------------------

DELIBERATE_DIFFERENCES: Final = frozenset({"integral-float-for-integer", "integer-beyond-float-range"})
"""Mutation kinds on which Pydantic and the JSON Schema differ by design (see test_schema_agreement.py)."""

KNOWN_DISAGREEMENTS: Final[frozenset[str]] = frozenset()
"""Mutation kinds that expose known product bugs (xfail-marked in test_schema_agreement.py). Remove a kind
from this set once the bug is fixed, so the random test covers it again."""


@dataclass(frozen=True)
class _Site:
    """One place a document can be broken: what to do (``kind``), where, and the schema found there."""

    kind: str
    path: JsonPath
    node: Schema
    nullable: bool = False


_DELETE: Final = object()

_JSON_TYPES: Final = ("null", "boolean", "integer", "number", "string", "array", "object")

_BAD_DATES: Final = (
    "{y}-02-30",
    "{y}-02-31",
    "{y}-04-31",
    "{y}-06-31",
    "{y}-13-01",
    "{y}-00-10",
    "{y}-01-00",
    "{y}-01-32",
    "2025-02-29",
    "2100-02-29",
    "0000-01-01",
)
_BAD_DATE_SHAPES: Final = ("{y}0101", "{y}-1-01", "{y}/01/01", " {y}-01-01", "{y}-01-01T00:00:00Z", "")


def _json_of_type(kind: str) -> st.SearchStrategy[Any]:
    """Some JSON value of a given JSON type ("number" here means a non-integral number)."""
    return {
        "null": st.none(),
        "boolean": st.booleans(),
        "integer": st.integers(-1000, 1000),
        "number": st.floats(-1e6, 1e6, allow_nan=False, allow_subnormal=False).filter(
            lambda x: not x.is_integer()
        ),
        "string": st.text(max_size=10),
        "array": st.lists(st.one_of(st.integers(-5, 5), st.text(max_size=3)), max_size=2),
        "object": st.dictionaries(st.text(max_size=5), st.integers(-5, 5), max_size=2),
    }[kind]


def _key_pattern(node: Schema) -> str | None:
    """The pattern the keys of a map object must match (None when the schema does not say)."""
    if "patternProperties" in node:
        return str(next(iter(node["patternProperties"])))
    names = node.get("propertyNames")
    pattern = names.get("pattern") if isinstance(names, Mapping) else None
    return None if pattern is None else str(pattern)


def _map_values(node: Schema) -> Schema:
    """The schema of the values of a map object."""
    if "patternProperties" in node:
        return cast(Schema, next(iter(node["patternProperties"].values())))
    return cast(Schema, node["additionalProperties"])


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


class _Mutator:
    def __init__(self, walker: _Walker, skip: frozenset[str]) -> None:
        self.walker = walker
        self.skip = skip

    # where the document can be broken

    def sites(self, document: Any) -> list[_Site]:
        found: list[_Site] = []
        self._visit(self.walker.root, document, (), found)
        return [site for site in found if site.kind not in self.skip]

    def _visit(self, node: Schema, value: Any, path: JsonPath, out: list[_Site]) -> None:
        where: JsonPath = ("#",) if not path else ("#", *path)
        if path:
            inner, nullable = self.walker.split_nullable(node, where)
        else:
            inner, nullable = {k: v for k, v in node.items() if k not in _ROOT_ONLY}, False
        if path:
            out.append(_Site("wrong-type", path, inner, nullable))
            if not nullable:
                out.append(_Site("null", path, inner))
        if value is None:
            if not nullable:
                raise ValueError(f"{_pointer(path)}: the document to mutate is not valid (null)")
            return
        kind = self.walker.kind(inner, where)
        if "enum" in inner:
            out.append(_Site("enum-non-member", path, inner))
            return
        getattr(self, f"_visit_{kind}")(inner, value, path, out)

    def _visit_null(self, node: Schema, value: Any, path: JsonPath, out: list[_Site]) -> None:
        return

    def _visit_boolean(self, node: Schema, value: Any, path: JsonPath, out: list[_Site]) -> None:
        return

    def _visit_object(self, node: Schema, value: Any, path: JsonPath, out: list[_Site]) -> None:
        if "properties" not in node:  # a map
            pattern = _key_pattern(node)
            closed = node.get("additionalProperties") is False or "propertyNames" in node
            if pattern is not None:
                if closed:
                    out.append(_Site("map-key-mismatch", path, node))
                if value:
                    out.append(_Site("map-key-trailing-newline", path, node))
                if "maxProperties" in node:
                    out.append(_Site("map-too-many", path, node))
            if node.get("minProperties", 0) > 0:
                out.append(_Site("map-too-few", path, node))
            for key, item in value.items():
                self._visit(_map_values(node), item, (*path, key), out)
            return
        if node.get("additionalProperties") is False:
            out.append(_Site("unknown-key", path, node))
        for key in node.get("required", []):
            if key in value:
                out.append(_Site("delete-required", (*path, key), node))
        for key, item in value.items():
            self._visit(node["properties"][key], item, (*path, key), out)

    def _visit_array(self, node: Schema, value: Any, path: JsonPath, out: list[_Site]) -> None:
        if "maxItems" in node:
            out.append(_Site("too-many-items", path, node))
        if node.get("minItems", 0) > 0:
            out.append(_Site("too-few-items", path, node))
        for index, item in enumerate(value):
            self._visit(node["items"], item, (*path, index), out)

    def _visit_number(self, node: Schema, value: Any, path: JsonPath, out: list[_Site]) -> None:
        bounds = NumberBounds.of(node)
        if bounds.low is not None:
            out.append(_Site("below-minimum", path, node))
        if bounds.high is not None:
            out.append(_Site("above-maximum", path, node))
        else:
            out.append(_Site("integer-beyond-float-range", path, node))

    def _visit_integer(self, node: Schema, value: Any, path: JsonPath, out: list[_Site]) -> None:
        self._visit_number(node, value, path, out)
        out.append(_Site("non-integral", path, node))
        out.append(_Site("integral-float-for-integer", path, node))

    def _visit_string(self, node: Schema, value: Any, path: JsonPath, out: list[_Site]) -> None:
        fmt = node.get("format")
        if fmt == "date":
            out.append(_Site("bad-date", path, node))
        elif fmt == "date-time":
            out.append(_Site("bad-timestamp", path, node))
        elif "pattern" in node:
            out.append(_Site("pattern-mismatch", path, node))
        if "pattern" in node:
            out.append(_Site("pattern-trailing-newline", path, node))
            if "\\s" in node["pattern"]:
                out.append(_Site("pattern-control-separator", path, node))
        if "maxLength" in node:
            out.append(_Site("too-long", path, node))
        if node.get("minLength", 0) > 0:
            out.append(_Site("too-short", path, node))

    # how each kind breaks it

    def apply(self, draw: st.DrawFn, site: _Site, document: Any) -> tuple[Any, str]:
        parent: Any = None
        value: Any = document
        for part in site.path:
            parent, value = value, value[part]
        breaker: Callable[[st.DrawFn, _Site, Any], Any] = getattr(self, "_" + site.kind.replace("-", "_"))
        new = breaker(draw, site, value)
        where = _pointer(site.path)
        if new is _DELETE:
            assert parent is not None
            del parent[site.path[-1]]
            return document, f"{site.kind} at {where}: removed"
        if not site.path:
            return new, f"{site.kind} at /"
        parent[site.path[-1]] = new
        return document, f"{site.kind} at {where}: {new!r}"[:300]

    def _wrong_type(self, draw: st.DrawFn, site: _Site, value: Any) -> Any:
        # Null has its own kind. "number" here means a non-integral number (5.0 for an integer field is a
        # deliberate difference), so an integer field gets 5.5 and a number field never gets an integer.
        allowed = {"null", site.node["type"]} | ({"integer"} if site.node["type"] == "number" else set())
        others = [t for t in _JSON_TYPES if t not in allowed]
        return draw(_json_of_type(draw(st.sampled_from(others))))

    def _null(self, draw: st.DrawFn, site: _Site, value: Any) -> Any:
        return None

    def _delete_required(self, draw: st.DrawFn, site: _Site, value: Any) -> Any:
        return _DELETE

    def _unknown_key(self, draw: st.DrawFn, site: _Site, value: Any) -> Any:
        properties: Mapping[str, Any] = site.node["properties"]
        variants = sorted(
            {v for key in properties for v in (_snake(key), key.upper(), key[:1].upper() + key[1:])}
            - set(properties)
        )
        candidates = [
            st.text(min_size=1, max_size=12),
            st.sampled_from(["extra", "x-extension", "@context", ""]),
        ]
        if variants:
            candidates.append(st.sampled_from(variants))
        key = draw(st.one_of(candidates).filter(lambda k: k not in properties))
        extra = draw(
            st.one_of(
                st.none(),
                st.booleans(),
                st.integers(-5, 5),
                st.text(max_size=5),
                st.sampled_from(list(value.values())) if value else st.none(),
            )
        )
        return {**value, key: copy.deepcopy(extra)}

    def _enum_non_member(self, draw: st.DrawFn, site: _Site, value: Any) -> Any:
        members: list[Any] = site.node["enum"]
        near = st.sampled_from(members).flatmap(
            lambda m: st.sampled_from(
                [m.upper(), m.lower(), m.swapcase(), m + " ", " " + m, m[:-1], m.replace("-", "_")]
            )
        )
        return draw(st.one_of(near, st.text(max_size=12)).filter(lambda s: s not in members))

    def _below_minimum(self, draw: st.DrawFn, site: _Site, value: Any) -> Any:
        return self._outside(draw, site.node, below=True)

    def _above_maximum(self, draw: st.DrawFn, site: _Site, value: Any) -> Any:
        return self._outside(draw, site.node, below=False)

    @staticmethod
    def _outside(draw: st.DrawFn, node: Schema, *, below: bool) -> Any:
        bounds = NumberBounds.of(node)
        edge = bounds.low if below else bounds.high
        assert edge is not None
        sign = -1 if below else 1
        if node["type"] == "integer":
            low, high = integer_bounds(node)
            limit = low if below else high
            assert limit is not None
            return limit + sign * draw(st.integers(1, 1000))
        candidates = [
            st.floats(1e-6, 1e6).map(lambda d: edge + sign * d),
            st.integers(1, 1000).map(lambda d: math.floor(edge) - d if below else math.ceil(edge) + d),
        ]
        if bounds.low_open if below else bounds.high_open:
            candidates.append(st.just(edge))
        return draw(st.one_of(candidates).filter(lambda x: not bounds.contains(x)))

    def _integer_beyond_float_range(self, draw: st.DrawFn, site: _Site, value: Any) -> Any:
        return 10 ** draw(st.integers(309, 400))

    def _non_integral(self, draw: st.DrawFn, site: _Site, value: Any) -> Any:
        return value + draw(st.sampled_from([0.5, 0.25, -0.5, 1e-3]))

    def _integral_float_for_integer(self, draw: st.DrawFn, site: _Site, value: Any) -> Any:
        return float(value)

    def _bad_date(self, draw: st.DrawFn, site: _Site, value: Any) -> Any:
        template = draw(st.sampled_from(_BAD_DATES + _BAD_DATE_SHAPES))
        return template.format(y=draw(st.integers(1990, 2030)))

    def _bad_timestamp(self, draw: st.DrawFn, site: _Site, value: str) -> Any:
        match = re.fullmatch(
            r"([0-9-]{10})T([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})", value
        )
        assert match is not None, value
        day, hour, minute, second, fraction, zone = match.groups()
        fraction = fraction or ""
        time = f"{hour}:{minute}:{second}"
        bad_day = draw(st.sampled_from(_BAD_DATES)).format(y=day[:4])
        choices = [
            f"{bad_day}T{time}{fraction}{zone}",  # a non-calendar day
            f"{day} {time}{fraction}{zone}",  # space separator
            f"{day}t{time}{fraction}{zone}",  # lowercase separator
            f"{day}T{time}{fraction}",  # no zone
            f"{day}T{time}{fraction}+24:00",
            f"{day}T{time}{fraction}+25:00",
            f"{day}T{time}{fraction}-05:60",
            f"{day}T{time}{fraction}+0530",
            f"{day}T{time}{fraction}UTC",
            f"{day}T{time}{fraction}z",
            f"{day}T24:{minute}:{second}{fraction}{zone}",
            f"{day}T{hour}:60:{second}{fraction}{zone}",
            f"{day}T{hour}:{minute}:61{fraction}{zone}",
            f"{day}T{hour}:{minute}{zone}",  # no seconds
            f"{day}T{time}.{zone}",  # empty fraction
            f"{day}T{time}.0123456789{zone}",  # ten fraction digits
            day,  # a date for a date-time
        ]
        return draw(st.sampled_from(choices))

    def _pattern_mismatch(self, draw: st.DrawFn, site: _Site, value: str) -> Any:
        pattern: str = site.node["pattern"]
        alphabet = (
            st.characters(exclude_characters="\x1c\x1d\x1e\x1f")
            if "pattern-control-separator" in self.skip
            else st.characters()
        )
        near = st.sampled_from(
            [
                value + "#",
                "#" + value,
                value[:-1],
                value.upper(),
                value.lower(),
                value * 2,
                value + " ",
                " " + value,
                value.replace(".", "") or "",
                "",
            ]
        )
        return draw(
            st.one_of(near, st.text(alphabet, max_size=25)).filter(lambda s: re.search(pattern, s) is None)
        )

    def _pattern_trailing_newline(self, draw: st.DrawFn, site: _Site, value: str) -> Any:
        return value + "\n"

    def _pattern_control_separator(self, draw: st.DrawFn, site: _Site, value: str) -> Any:
        position = draw(st.integers(len("https://x"), len(value))) if value.startswith("http") else len(value)
        return value[:position] + draw(st.sampled_from("\x1c\x1d\x1e\x1f")) + value[position:]

    def _too_long(self, draw: st.DrawFn, site: _Site, value: str) -> Any:
        return value + "x" * (site.node["maxLength"] - len(value) + draw(st.integers(1, 3)))

    def _too_short(self, draw: st.DrawFn, site: _Site, value: str) -> Any:
        return value[: site.node["minLength"] - 1]

    def _too_many_items(self, draw: st.DrawFn, site: _Site, value: list[Any]) -> Any:
        items = value or [draw(self.walker.strategy(site.node["items"], ("#", "items")))]
        wanted = site.node["maxItems"] + draw(st.integers(1, 2))
        return [copy.deepcopy(items[i % len(items)]) for i in range(wanted)]

    def _too_few_items(self, draw: st.DrawFn, site: _Site, value: list[Any]) -> Any:
        return value[: site.node["minItems"] - 1]

    def _map_too_few(self, draw: st.DrawFn, site: _Site, value: dict[str, Any]) -> Any:
        keep = site.node["minProperties"] - 1
        return dict(list(value.items())[:keep])

    def _map_sample(self, draw: st.DrawFn, site: _Site, value: dict[str, Any]) -> Any:
        """A valid value for the map (one of its own, or a generated one)."""
        if value:
            return copy.deepcopy(next(iter(value.values())))
        return draw(self.walker.strategy(_map_values(site.node), ("#", *site.path)))

    def _map_too_many(self, draw: st.DrawFn, site: _Site, value: dict[str, Any]) -> Any:
        pattern = _key_pattern(site.node)
        assert pattern is not None
        wanted = site.node["maxProperties"] + 1 - len(value)
        keys = draw(
            st.sets(
                st.from_regex(pattern, fullmatch=True).filter(lambda k: k not in value),
                min_size=wanted,
                max_size=wanted,
            )
        )
        sample = self._map_sample(draw, site, value)
        return {**value, **{key: copy.deepcopy(sample) for key in keys}}

    def _map_key_trailing_newline(self, draw: st.DrawFn, site: _Site, value: dict[str, Any]) -> Any:
        key = draw(st.sampled_from(sorted(value)))
        return {(k + "\n" if k == key else k): v for k, v in value.items()}

    def _map_key_mismatch(self, draw: st.DrawFn, site: _Site, value: dict[str, Any]) -> Any:
        pattern = _key_pattern(site.node)
        assert pattern is not None
        key = draw(
            st.one_of(
                st.sampled_from([k.upper() for k in value] + ["EN", "en_GB", "english", "", "e"]),
                st.text(max_size=8),
            ).filter(lambda k: re.search(pattern, k) is None)
        )
        sample = self._map_sample(draw, site, value)
        return {**value, key: draw(st.one_of(st.just(sample), st.integers(-5, 5), st.none()))}


@st.composite
def mutation_cases(
    draw: st.DrawFn,
    document: Mapping[str, Any],
    schema: Schema | None = None,
    *,
    skip: frozenset[str] = DELIBERATE_DIFFERENCES | KNOWN_DISAGREEMENTS,
) -> tuple[dict[str, Any], str]:
    """A copy of ``document`` broken in one place, and a description of the break (for ``note``)."""
    if schema is None:
        from passport.schema import schema_document

        schema = schema_document("passport")
    mutator = _Mutator(_walker(schema), skip)
    by_kind: dict[str, list[_Site]] = {}
    for candidate in mutator.sites(document):
        by_kind.setdefault(candidate.kind, []).append(candidate)
    # First the kind, then the place: every kind gets its share, however many places offer "wrong-type".
    site = draw(st.sampled_from(by_kind[draw(st.sampled_from(sorted(by_kind)))]))
    mutated, description = mutator.apply(draw, site, copy.deepcopy(dict(document)))
    return cast(dict[str, Any], mutated), description


def mutations(
    document: Mapping[str, Any],
    schema: Schema | None = None,
    *,
    skip: frozenset[str] = DELIBERATE_DIFFERENCES | KNOWN_DISAGREEMENTS,
) -> st.SearchStrategy[dict[str, Any]]:
    """``document`` (valid under ``schema``, by default the published passport schema) with ONE random break
    at a random path: a required key deleted or nulled, an unknown key added, a value of another JSON type, a
    number outside its bounds, a non-member of an enum, a string not matching its pattern or too long / too
    short, a non-calendar date or a broken timestamp, too many / too few list items or map entries. Kinds in
    ``skip`` are left out (by default the deliberate differences and the known disagreements)."""
    return mutation_cases(document, schema, skip=skip).map(lambda case: case[0])


def mutation_kinds(document: Mapping[str, Any], schema: Schema) -> Iterator[str]:
    """Every mutation kind applicable somewhere in ``document`` (for coverage checks)."""
    for site in _Mutator(_walker(schema), frozenset()).sites(document):
        yield site.kind


# --- documents varied from valid examples ----------------------------------------------------------------------------


def _leaf_sites(walker: _Walker, node: Schema, value: Any, path: JsonPath, out: list[tuple[JsonPath, Schema]]) -> None:
    """(path, schema) of every scalar value of ``value``, a document valid under ``node``."""
    where: JsonPath = ("#", *path)
    inner = walker.split_nullable(node, where)[0] if path else {k: v for k, v in node.items() if k not in _ROOT_ONLY}
    if isinstance(value, Mapping):
        for key, item in value.items():
            # a map (no properties): every value has the schema of the map's values
            child = inner["properties"][key] if "properties" in inner else _map_values(inner)
            _leaf_sites(walker, child, item, (*path, key), out)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _leaf_sites(walker, inner["items"], item, (*path, index), out)
    elif value is not None:
        out.append((path, node))


@st.composite
def varied_documents(
    draw: st.DrawFn,
    examples: Sequence[Mapping[str, Any]],
    accept: Callable[[dict[str, Any]], bool],
    schema: Schema | None = None,
    *,
    fixed: frozenset[str] = frozenset(),
    max_changes: int = 12,
) -> dict[str, Any]:
    """One of ``examples`` (valid documents) with up to ``max_changes`` scalar values replaced by values the schema
    allows at that place (text of any Unicode, numbers across their range, other enumeration members, dates,
    booleans), each change kept only if ``accept`` (the service's validation, business rules included) still takes
    the document: a valid document every time, with no rejection sampling. Paths whose JSON pointer starts with one
    of ``fixed`` keep their values."""
    if schema is None:
        from passport.schema import schema_document

        schema = schema_document("passport")
    walker = _walker(schema)
    document = copy.deepcopy(dict(draw(st.sampled_from(examples))))
    sites: list[tuple[JsonPath, Schema]] = []
    _leaf_sites(walker, walker.root, document, (), sites)
    sites = [(path, node) for path, node in sites if not _pointer(path).startswith(tuple(fixed))]
    if not sites:
        return document
    chosen = draw(st.lists(st.sampled_from(range(len(sites))), max_size=max_changes, unique=True))
    for index in chosen:
        path, node = sites[index]
        new = draw(walker.strategy(node, ("#", *path)))
        parent = document
        for part in path[:-1]:
            parent = parent[part]
        old = parent[path[-1]]
        parent[path[-1]] = new
        if new is None or not accept(document):
            parent[path[-1]] = old
    return document


__all__ = [
    "DELIBERATE_DIFFERENCES",
    "KNOWN_DISAGREEMENTS",
    "UnsupportedSchemaError",
    "calendar_dates",
    "documents_from_schema",
    "mutation_cases",
    "mutation_kinds",
    "mutations",
    "timestamps",
    "varied_documents",
]
