"""CSV for bulk import: a header of dotted field names, one row per passport (with a ``modelId`` column and the
item data, e.g. ``general.serialNumber``) or per event (``passportId`` or ``gtin`` + ``serialNumber``, then
``event.type`` and e.g. ``event.condition.stateOfCharge.value``). Cells are typed by the model's field types;
lists are JSON in one cell; empty cells are absent."""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from functools import cache
from typing import Any

from passport import jsonio
from passport.errors import InvalidInput
from passport.models.introspect import leaves, unwrap
from passport.models.passport import Passport

ROW_KEYS = frozenset({"modelId", "passportId", "gtin", "serialNumber"})


@cache
def _leaf_types() -> dict[str, tuple[Any, bool]]:
    """Dotted path -> (element type, is a list) of every passport field that a CSV cell may hold."""
    types: dict[str, tuple[Any, bool]] = {}
    for node in leaves(Passport):
        element, is_list = unwrap(node.annotation)
        parts = [p for p in node.pointer.split("/") if p]
        if "-" in parts:  # inside a list of objects: the whole list is one JSON cell
            list_path = ".".join(parts[: parts.index("-")])
            types[list_path] = (list, True)
            continue
        types[".".join(parts)] = (element, is_list)
    return types


def _shown(text: str, limit: int = 60) -> str:
    """A cell or a column name quoted in a problem, cut short: a problem is stored with the import's report, and a
    cell may be up to a line's length (a megabyte)."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + f"… ({len(text)} characters)"


def _convert(column: str, cell: str) -> Any:
    path = column.removeprefix("passport.").removeprefix("event.")
    if column.startswith("event.") and not path.startswith("condition."):
        return cell  # event.type, event.negativeEvent, event.lastUpdate, event.status: text
    element, is_list = _leaf_types().get(path, (None, False))
    if element is None:
        raise InvalidInput(f"column {_shown(column)} is not a field of the battery passport")
    if is_list or element is dict or getattr(element, "__origin__", None) is dict:
        return jsonio.loads(cell)
    base = getattr(element, "__origin__", element)
    try:
        if base is float:
            value = float(cell)
            if not math.isfinite(value):
                raise ValueError(cell)
            return value
        if base is int:
            return int(cell)
    except ValueError:
        raise InvalidInput(f"column {_shown(column)}: {_shown(cell)} is not a number") from None
    if base is bool:
        if cell.lower() not in ("true", "false"):
            raise InvalidInput(f"column {_shown(column)}: {_shown(cell)} is not true or false")
        return cell.lower() == "true"
    return cell


def _cells(record: str) -> list[str]:
    """The cells of one CSV record. The csv module's own errors (a cell beyond its field size limit, a carriage
    return inside an unquoted cell) escaped as bare ``_csv.Error``: a 500, and the import left running. A NUL
    character is refused as in JSON (passport.jsonio): PostgreSQL can store it in no text, and no field means it."""
    if "\x00" in record:
        raise InvalidInput("the NUL character (U+0000) is not allowed in a CSV record")
    try:
        return next(csv.reader([record]))
    except csv.Error as exc:
        raise InvalidInput(f"not a CSV record: {exc}") from None


def _nest(target: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    node = target
    for part in parents:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise InvalidInput(f"column {_shown(dotted)} collides with another column")
    node[last] = value


class CsvRows:
    """Turns CSV text records into import line objects, once the header is known."""

    def __init__(self) -> None:
        self.header: list[str] | None = None
        self.events = False

    def take_header(self, record: str) -> None:
        names = [name.strip() for name in _cells(record)]
        if len(set(names)) != len(names) or not all(names):
            raise InvalidInput("the CSV header has empty or repeated column names")
        self.events = any(name.startswith("event.") for name in names)
        for name in names:
            if name in ROW_KEYS or (name.startswith("event.") and not name.startswith("event.condition.")):
                continue
            if name.removeprefix("event.") not in _leaf_types():
                raise InvalidInput(f"column {_shown(name)} is not a field of the battery passport")
        self.header = names

    def line(self, record: str) -> Mapping[str, Any]:
        assert self.header is not None
        cells = _cells(record)
        if len(cells) != len(self.header):
            raise InvalidInput(f"{len(cells)} cells for {len(self.header)} columns")
        row: dict[str, Any] = {}
        document: dict[str, Any] = {}
        for name, cell in zip(self.header, cells, strict=True):
            if cell == "":
                continue
            if name in ROW_KEYS:
                row[name] = cell
            elif name.startswith("event."):
                _nest(row, name, _convert(name, cell))
            else:
                _nest(document, name, _convert(name, cell))
        if not self.events:
            row["passport"] = document
        return row


__all__ = ["CsvRows"]
