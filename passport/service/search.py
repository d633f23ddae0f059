"""Passport search for every role: filters a role may use only on fields its view contains, keyset pagination,
each row in the caller's view, and CSV with the view's fields flattened to dotted column names."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from passport.access import Role, View, field_in_view, keep_tree, view_for
from passport.errors import Forbidden, InvalidInput
from passport.models.introspect import all_fields
from passport.models.passport import Passport
from passport.service.apikeys import Caller
from passport.service.context import ServiceContext
from passport.storage import PassportRecord, SearchQuery

MAX_LIMIT = 1000

# filter name -> (store field, document path it reveals; None: passport metadata every view has)
FILTERS: Mapping[str, tuple[str, tuple[str, ...] | None]] = {
    "gtin": ("gtin", ("general", "gtin")),
    "serial": ("serial", ("general", "serialNumber")),
    "manufacturer": ("organisation", ("general", "operatorInformation")),
    "model": ("model_id", None),
    "category": ("category", ("general", "batteryCategory")),
    "chemistry": ("chemistry", ("composition", "batteryChemistry", "shortName")),
    "status": ("status", ("general", "batteryStatus")),
    "holder": ("holder", ("general", "batteryStatus")),
}


@dataclass(frozen=True)
class Row:
    record: PassportRecord
    view: View
    passport: Mapping[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {"passportId": f"urn:uuid:{self.record.passport_id}", "version": self.record.current_version,
                "view": self.view.value, "modelId": self.record.model_id, "passport": self.passport}


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    next_cursor: str | None
    view: View  # the widest view a row of this search may have (what the CSV header covers)


def row_view(caller: Caller, record: PassportRecord) -> View:
    return view_for(caller.role, responsible=caller.organisation == record.organisation)


def filter_view(caller: Caller, filters: Mapping[str, str | None]) -> View:
    """The view every row of the search is guaranteed to have: what filters may touch."""
    if caller.role is Role.MANUFACTURER and filters.get("manufacturer") == caller.organisation:
        return View.FULL
    return view_for(caller.role)


def encode_cursor(passport_id: str) -> str:
    return base64.urlsafe_b64encode(passport_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        value = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("cursor: not a cursor returned by this service") from None
    if len(value) != 36:
        raise InvalidInput("cursor: not a cursor returned by this service")
    return value


def build_query(
    caller: Caller, filters: Mapping[str, str | None], *, updated_since: dt.datetime | None = None,
    updated_before: dt.datetime | None = None, cursor: str | None = None, limit: int = 100,
) -> SearchQuery:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit: between 1 and {MAX_LIMIT}")
    allowed = filter_view(caller, filters)
    values: dict[str, Any] = {}
    for name, value in filters.items():
        if value is None:
            continue
        field, path = FILTERS[name]
        if path is not None and not field_in_view(path, allowed):
            raise Forbidden(f"filter {name!r}: your view ({allowed.value}) does not contain that field")
        values[field] = value
    return SearchQuery(
        **values, updated_since=updated_since, updated_before=updated_before,
        include_ceased=allowed is not View.PUBLIC, after=decode_cursor(cursor) if cursor else None, limit=limit,
    )


def search(context: ServiceContext, caller: Caller, query: SearchQuery) -> Page:
    widest = View.FULL if caller.role is Role.MANUFACTURER else view_for(caller.role)
    views = sorted({view_for(caller.role).value, widest.value})
    found = context.store.search(query, views)
    rows = []
    for record, credentials in found:
        view = row_view(caller, record)
        if record.ceased and view is View.PUBLIC:
            continue  # Art. 77(8): a ceased passport is gone for the public
        subject = json.loads(credentials[view.value])["credentialSubject"]
        rows.append(Row(record, view, subject["passport"]))
    more = len(found) == query.limit
    return Page(rows, encode_cursor(found[-1][0].passport_id) if more and found else None, widest)


# --- CSV ------------------------------------------------------------------------------------------------------


def columns(view: View) -> list[str]:
    """Dotted column names of every field of ``view``; lists and language maps stay one JSON column."""
    names: list[str] = []

    def walk(tree: Mapping[str, Any], prefix: str) -> None:
        for key, sub in tree.items():
            name = f"{prefix}{key}"
            if isinstance(sub, Mapping) and not _is_list(name):
                walk(sub, name + ".")
            else:
                names.append(name)

    walk(keep_tree(view), "")
    return [name for name in names if name != "passportId"]  # the row's own passportId column carries it


@cache
def _list_fields() -> frozenset[str]:
    """Dotted names of the list-valued fields (one JSON column each)."""
    return frozenset(node.pointer.removesuffix("/-").lstrip("/").replace("/", ".")
                     for node in all_fields(Passport) if node.is_list)


def _is_list(dotted: str) -> bool:
    return dotted in _list_fields()


def flatten(document: Mapping[str, Any], names: list[str]) -> list[str]:
    cells = []
    for name in names:
        value: Any = document
        for part in name.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if value is None:
            cells.append("")
        elif isinstance(value, (list, dict)):
            cells.append(json.dumps(value, ensure_ascii=False, separators=(",", ":")))
        else:
            cells.append(str(value).lower() if isinstance(value, bool) else str(value))
    return cells


def csv_lines(pages: Iterator[Page], view: View) -> Iterator[str]:
    """The CSV export, streamed page by page (header first)."""
    names = columns(view)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["passportId", "version", "view", "modelId", *names])
    for page in pages:
        for row in page.rows:
            writer.writerow([f"urn:uuid:{row.record.passport_id}", row.record.current_version, row.view.value,
                             row.record.model_id or "", *flatten(row.passport, names)])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


__all__ = ["FILTERS", "MAX_LIMIT", "Page", "Row", "build_query", "columns", "csv_lines", "flatten", "row_view",
           "search"]
