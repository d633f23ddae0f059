"""The inventory totals: passport counts and material masses per inventory key (responsible operator, holder, model,
category, chemistry, status, ceased, month of issue), kept in step with each version in its transaction, and rebuilt
from the detailed rows by migration 0006 and the benchmark data sets.

A transaction collects the changes of all its versions in a :class:`TotalsDelta` (minus the key and materials a
revised passport had, plus those it has now) and applies them last, in key order: concurrent writers then take the
totals rows' locks in one order, and cannot deadlock on them."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Table, case, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from passport.storage.access_records import AccessScope
from passport.storage.access_sql import scope_condition
from passport.storage.circularity_tables import inventory_materials, inventory_passports, passport_materials
from passport.storage.org_refs import org_id
from passport.storage.tables import organisations, passports

# organisation_id, holder_id (0: none), model_id ('': none), category, chemistry, status, ceased, month
Key = tuple[int, int, str, str, str, str, bool, str]
KEY_COLUMNS = ("organisation_id", "holder_id", "model_id", "category", "chemistry", "status", "ceased", "month")


def month_of(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m")


def month_start(moment: dt.datetime) -> str | None:
    """The month ``moment`` starts, in UTC (``YYYY-MM``); None when it is not the first instant of a month, which
    the monthly totals cannot answer for."""
    utc = moment.astimezone(dt.UTC)
    if (utc.day, utc.hour, utc.minute, utc.second, utc.microsecond) != (1, 0, 0, 0, 0):
        return None
    return utc.strftime("%Y-%m")


def key_of(
    organisation_id: int, holder_id: int | None, model_id: str | None, category: str, chemistry: str, status: str,
    ceased: bool, created_at: dt.datetime,
) -> Key:
    return (organisation_id, holder_id or 0, model_id or "", category, chemistry, status, bool(ceased),
            month_of(created_at))


@dataclass
class TotalsDelta:
    """What a transaction changes in the totals: passports per key, and (mass, passports) per key and material."""

    passports: Counter[Key] = field(default_factory=Counter)
    materials: dict[tuple[Key, str], list[float]] = field(default_factory=dict)

    def add(self, key: Key, materials: Iterable[tuple[str, float]], sign: int = 1) -> None:
        """One passport (``sign`` 1) or its former state (-1): its key and its materials (inventory key, kg); a
        material declared at several positions counts its passport once."""
        self.passports[key] += sign
        masses: dict[str, float] = {}
        for material, mass in materials:
            masses[material] = masses.get(material, 0.0) + mass
        for material, mass in masses.items():
            entry = self.materials.setdefault((key, material), [0.0, 0])
            entry[0] += sign * mass
            entry[1] += sign

    def apply(self, connection: Connection) -> None:
        """Add the changes to the totals rows in key order, and drop the rows no passport counts any more."""
        passport_rows = [
            {**dict(zip(KEY_COLUMNS, key, strict=True)), "passports": n}
            for key, n in sorted(self.passports.items()) if n
        ]
        material_rows = [
            {**dict(zip(KEY_COLUMNS, key, strict=True)), "material": material, "passports": int(n), "mass_kg": mass}
            for (key, material), (mass, n) in sorted(self.materials.items()) if n or mass
        ]
        dialect = connection.dialect.name
        if passport_rows:
            connection.execute(_upsert(inventory_passports, dialect, ("passports",)), passport_rows)
        if material_rows:
            connection.execute(_upsert(inventory_materials, dialect, ("passports", "mass_kg")), material_rows)
        # a revision moving a passport's last one out of a key leaves a row counting none: remove it
        if any(n < 0 for n in self.passports.values()):
            connection.execute(delete(inventory_passports).where(inventory_passports.c.passports <= 0))
        if any(n < 0 for _, n in self.materials.values()):
            connection.execute(delete(inventory_materials).where(inventory_materials.c.passports <= 0))


_UPSERTS: dict[tuple[str, str], Any] = {}


def _upsert(table: Table, dialect: str, counters: Sequence[str]) -> Any:
    """INSERT … ON CONFLICT (key) DO UPDATE adding the counters (both engines have it); built once per table and
    engine."""
    cached = _UPSERTS.get((table.name, dialect))
    if cached is not None:
        return cached
    statement = (postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table))
    key = [column.name for column in table.primary_key.columns]
    statement = statement.on_conflict_do_update(
        index_elements=key, set_={name: table.c[name] + statement.excluded[name] for name in counters})
    _UPSERTS[table.name, dialect] = statement
    return statement


def former_state(connection: Connection, passport_id: str, version: int) -> tuple[Key, list[tuple[str, float]]] | None:
    """The key and materials of a passport at ``version`` (before a revision replaces them); None when it is no
    longer at that version (the revision's guarded UPDATE then refuses it)."""
    c = passports.c
    row = connection.execute(
        select(c.organisation_id, c.holder_organisation_id, c.model_id, c.category, c.chemistry, c.status,
               c.ceased, c.created_at).where(c.id == passport_id, c.current_version == version)
    ).first()
    if row is None:
        return None
    materials = connection.execute(
        select(passport_materials.c.material, passport_materials.c.mass_kg)
        .where(passport_materials.c.passport_id == passport_id)
    ).all()
    return key_of(*row), [(material, mass) for material, mass in materials]


def month_expression(dialect: str, created_at: Any) -> Any:
    """SQL: the month (YYYY-MM) of a timestamp in UTC, whatever the time zone of the database session."""
    if dialect == "sqlite":
        return func.strftime("%Y-%m", created_at)
    return func.to_char(func.timezone("UTC", created_at), "YYYY-MM")


def rebuild(connection: Connection) -> None:
    """Recompute the totals from passports and passport_materials (migration 0006, the benchmark data sets)."""
    c = passports.c
    key = [c.organisation_id, func.coalesce(c.holder_organisation_id, 0), func.coalesce(c.model_id, ""),
           c.category, c.chemistry, c.status, c.ceased, month_expression(connection.dialect.name, c.created_at)]
    connection.execute(delete(inventory_materials))
    connection.execute(delete(inventory_passports))
    connection.execute(insert(inventory_passports).from_select(
        [*KEY_COLUMNS, "passports"], select(*key, func.count()).group_by(*key)))
    # per passport and material first: a material at several positions counts its passport once
    m = passport_materials.c
    per_passport = (select(m.passport_id, m.material, func.sum(m.mass_kg).label("mass_kg"))
                    .group_by(m.passport_id, m.material).subquery())
    connection.execute(insert(inventory_materials).from_select(
        [*KEY_COLUMNS, "material", "passports", "mass_kg"],
        select(*key, per_passport.c.material, func.count(), func.sum(per_passport.c.mass_kg))
        .join_from(passports, per_passport, per_passport.c.passport_id == c.id)
        .group_by(*key, per_passport.c.material)))


def holder_of(table: Table) -> Any:
    """Who holds the batteries of a totals row: the holder a transfer recorded, else the responsible operator."""
    return case((table.c.holder_id == 0, table.c.organisation_id), else_=table.c.holder_id)


def conditions(
    table: Table, scope: AccessScope | None, filters: Mapping[str, Any], since: str | None, until: str | None,
    include_ceased: bool,
) -> list[Any]:
    """The totals rows of the passports the detailed inventory would select (circularity_sql's ``_scope``), for a
    scope without passports named one by one and a window of whole months (``since``, ``until``: YYYY-MM)."""
    assert scope is None or not scope.passport_ids, "passports named one by one are counted from the detailed rows"
    t = table.c
    result: list[Any] = []
    if scope is not None:  # the recorded holder (0 for none), as scope_condition compares on passports
        result.append(scope_condition(scope, holder=t.holder_id, model_id=t.model_id,
                                      organisation_id=t.organisation_id))
    return result + filter_conditions(t, holder_of(table), filters, t.month, since, until, include_ceased)


def filter_conditions(
    c: Any, holder: Any, filters: Mapping[str, Any], issued: Any, since: Any, until: Any, include_ceased: bool,
) -> list[Any]:
    """An inventory's filters over passports or a totals table (``c``: its columns, which bear the same names;
    ``holder``: who holds the batteries; ``issued``: what ``since`` and ``until`` bound, a time or a month)."""
    result: list[Any] = []
    for name in ("status", "chemistry", "category"):
        if name in filters:
            result.append(c[name] == filters[name])
    if "manufacturer" in filters:
        result.append(c.organisation_id == org_id(filters["manufacturer"]))
    if "holder" in filters:
        result.append(holder == org_id(filters["holder"]))
    if since is not None:
        result.append(issued >= since)
    if until is not None:
        result.append(issued < until)
    if not include_ceased:
        result.append(c.ceased.is_(False))
    return result


def group_column(table: Table, name: str) -> Any:
    """The inventory grouping ``name`` over a totals table, labelled as the detailed query labels it."""
    t = table.c
    if name in ("manufacturer", "holder"):
        who = t.organisation_id if name == "manufacturer" else holder_of(table)
        return select(organisations.c.slug).where(organisations.c.id == who).scalar_subquery().label(name)
    return t[name].label(name)  # material, month, chemistry, category, status



__all__ = ["KEY_COLUMNS", "Key", "TotalsDelta", "conditions", "filter_conditions", "former_state", "group_column",
           "holder_of", "key_of", "month_expression", "month_of", "month_start", "rebuild"]
