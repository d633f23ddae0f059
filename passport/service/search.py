"""Passport search for every role: filters a role may use only on fields its view contains, keyset pagination,
each row in the caller's view, and CSV with the view's fields flattened to dotted column names."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

from passport.access import Role, View, field_in_view, keep_tree, view_for
from passport.errors import Forbidden, InvalidInput
from passport.models.introspect import all_fields
from passport.models.passport import Passport
from passport.service.access_control import AccessPolicy, Decision, log_reads
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


PUBLIC_ONLY = Decision(View.PUBLIC)


@dataclass(frozen=True)
class Row:
    record: PassportRecord
    view: View
    passport: Mapping[str, Any]
    decision: Decision = PUBLIC_ONLY

    def as_json(self) -> dict[str, Any]:
        return {"passportId": f"urn:uuid:{self.record.passport_id}", "version": self.record.current_version,
                "view": self.view.value, "modelId": self.record.model_id, "passport": self.passport}


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    next_cursor: str | None
    view: View  # the widest view a row of this search may have (what the CSV header covers)


def filter_view(caller: Caller, filters: Mapping[str, str | None]) -> View:
    """The view the filters may touch. A maker filtering its own passports has the full view of every row; a
    legitimate-interest organisation has its view of the passports it may see, so its filters on non-public fields
    also keep the search to those passports (a status filter must not tell which other passports are waste)."""
    if caller.role is Role.MANUFACTURER and filters.get("manufacturer") == caller.organisation:
        return View.FULL
    if caller.role is Role.MANUFACTURER:
        return View.LEGITIMATE_INTEREST
    return view_for(caller.role)


def encode_cursor(record: PassportRecord, query: SearchQuery) -> str:
    """Where the next page starts: after this passport's id, or, for a search by update time (ordered by it), after
    its update time and id."""
    value = record.passport_id
    if query.by_update:
        value = f"{record.updated_at.astimezone(dt.UTC).isoformat()}|{value}"
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def continue_from(query: SearchQuery, cursor: str) -> SearchQuery:
    """``query`` from the position ``cursor`` names (a cursor of a search ordered the same way)."""
    invalid = InvalidInput("cursor: not a cursor returned by this service for this search")
    try:
        value = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        raise invalid from None
    updated, _, passport_id = value.rpartition("|")
    if len(passport_id) != 36 or bool(updated) != query.by_update:
        raise invalid
    after_updated = None
    if updated:
        try:
            after_updated = dt.datetime.fromisoformat(updated)
        except ValueError:
            raise invalid from None
        if after_updated.tzinfo is None:
            raise invalid
    return replace(query, after=passport_id, after_updated=after_updated)


def build_query(
    policy: AccessPolicy, filters: Mapping[str, str | None], *, updated_since: dt.datetime | None = None,
    updated_before: dt.datetime | None = None, cursor: str | None = None, limit: int = 100,
) -> SearchQuery:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit: between 1 and {MAX_LIMIT}")
    caller = policy.caller
    allowed = filter_view(caller, filters)
    values: dict[str, Any] = {}
    private = False
    for name, value in filters.items():
        if value is None:
            continue
        field, path = FILTERS[name]
        if path is not None and not field_in_view(path, allowed):
            raise Forbidden(f"filter {name!r}: your view ({allowed.value}) does not contain that field")
        private = private or (path is not None and not field_in_view(path, View.PUBLIC))
        values[field] = value
    scope = None
    if private and caller.role in (Role.LEGITIMATE_INTEREST, Role.MANUFACTURER) and allowed is not View.FULL:
        scope = policy.scope()
    query = SearchQuery(
        **values, updated_since=updated_since, updated_before=updated_before,
        include_ceased=caller.role is not Role.ANONYMOUS, limit=limit, scope=scope,
    )
    return continue_from(query, cursor) if cursor else query


CREDENTIALS_READ: Mapping[Role, tuple[str, ...]] = {
    Role.MANUFACTURER: ("public", "legitimate_interest", "full"),
    Role.LEGITIMATE_INTEREST: ("public", "legitimate_interest"),
    Role.AUTHORITY: ("authority",),
}


def search(context: ServiceContext, policy: AccessPolicy, query: SearchQuery) -> Page:
    """One page, each row in the view the access policy gives the caller for that passport."""
    role = policy.caller.role
    views = CREDENTIALS_READ.get(role, ("public",))
    found = context.store.search(query, views)
    rows = []
    for record, credentials in found:
        decision = policy.decide(record)
        if record.ceased and decision.view is View.PUBLIC:
            continue  # Art. 77(8): a ceased passport is gone for the public
        subject = json.loads(credentials[decision.view.value])["credentialSubject"]
        rows.append(Row(record, decision.view, subject["passport"], decision))
    more = len(found) == query.limit
    widest = View.FULL if role is Role.MANUFACTURER else view_for(role)
    return Page(rows, encode_cursor(found[-1][0], query) if more and found else None, widest)


def logged(context: ServiceContext, page: Page, caller: Caller, channel: str) -> Page:
    """The page, its reads of non-public data written to the access log."""
    log_reads(context, caller, [(row.record, row.decision) for row in page.rows], channel)
    return page


def all_pages(context: ServiceContext, policy: AccessPolicy, query: SearchQuery, first: Page,
              channel: str) -> Iterator[Page]:
    """Every page of a search from ``first`` on, each logged (CSV exports read everything they match)."""
    page = logged(context, first, policy.caller, channel)
    yield page
    while page.next_cursor:
        page = logged(context, search(context, policy, continue_from(query, page.next_cursor)), policy.caller,
                      channel)
        yield page


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


__all__ = ["FILTERS", "MAX_LIMIT", "Page", "Row", "all_pages", "build_query", "columns", "csv_lines", "flatten",
           "logged", "search"]
