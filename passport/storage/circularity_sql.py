"""SQL of the circularity features: derived material and recycled-content rows kept in step with each passport's
current version (in the same transaction as the version), recycling records, inventory aggregation."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, case, delete, func, insert, select, true, union_all, update

from passport.storage import totals_sql as totals
from passport.storage.access_records import AccessScope
from passport.storage.access_sql import scope_condition
from passport.storage.circularity_tables import (
    inventory_materials,
    inventory_passports,
    passport_materials,
    recoveries,
    recycled_content,
)
from passport.storage.records import PassportRecord
from passport.storage.tables import organisations, passports

# Inventory masses are reported in kg to the milligram: sums of floating-point masses carry noise in their last bits
# that depends on the order of addition (the totals add and subtract as passports change, a restore adds them in
# one go), and "402.76000000000005 kg" is neither a better figure nor the same one twice.
MASS_DECIMALS = 6


class CircularitySqlMixin:
    engine: Engine

    if TYPE_CHECKING:  # what the other parts of SqlStore provide (a body here would shadow them in the MRO)
        def _organisation_id(self, connection: Connection, slug: str) -> int: ...  # provided by SqlStore

    def _write_derived(self, connection: Connection, passport: PassportRecord, first: bool) -> int | None:
        """Holder, materials and recycled content of the version just appended; the holder's id."""
        holder = self._organisation_id(connection, passport.holder) if passport.holder else None
        connection.execute(
            update(passports).where(passports.c.id == passport.passport_id).values(holder_organisation_id=holder)
        )
        if not first:
            connection.execute(
                delete(passport_materials).where(passport_materials.c.passport_id == passport.passport_id)
            )
            connection.execute(delete(recycled_content).where(recycled_content.c.passport_id == passport.passport_id))
        materials, recycled = derived_rows(passport)
        if materials:
            connection.execute(insert(passport_materials), materials)
        if recycled:
            connection.execute(insert(recycled_content), recycled)
        if passport.recovered and passport.recycler:
            # the recycling record lands in the same transaction as the version that ceases the passport
            recycler_id = self._organisation_id(connection, passport.recycler)
            connection.execute(
                insert(recoveries),
                [
                    {
                        "passport_id": passport.passport_id,
                        "material": material,
                        "recycler_id": recycler_id,
                        "recycled_at": passport.updated_at,
                        "input_kg": input_kg,
                        "recovered_kg": recovered,
                    }
                    for material, input_kg, recovered in passport.recovered
                ],
            )
        return holder

    # --- inventory ----------------------------------------------------------------------------------------------

    def _scope(
        self,
        scope: AccessScope | None,
        filters: Mapping[str, Any],
        since: dt.datetime | None,
        until: dt.datetime | None,
        include_ceased: bool,
    ) -> list[Any]:
        c = passports.c
        conditions: list[Any] = [scope_condition(scope)] if scope is not None else []
        return conditions + totals.filter_conditions(c, _holder_id(), filters, c.created_at, since, until,
                                                     include_ceased)

    def _group_column(self, name: str) -> Any:
        c = passports.c
        if name == "material":
            return passport_materials.c.material.label("material")
        if name == "month":
            return totals.month_expression(self.engine.dialect.name, c.created_at).label("month")
        if name == "manufacturer":
            return (
                select(organisations.c.slug)
                .where(organisations.c.id == c.organisation_id)
                .scalar_subquery()
                .label("manufacturer")
            )
        if name == "holder":
            return (
                select(organisations.c.slug)
                .where(organisations.c.id == _holder_id())
                .scalar_subquery()
                .label("holder")
            )
        return {"chemistry": c.chemistry, "category": c.category, "status": c.status}[name].label(name)

    def inventory(
        self,
        *,
        scope: AccessScope | None,
        filters: Mapping[str, Any],
        since: dt.datetime | None,
        until: dt.datetime | None,
        group_by: Sequence[str],
        include_ceased: bool,
    ) -> list[dict[str, Any]]:
        """Material masses (kg) and passport counts per group; material is always a group.

        Added up from the inventory totals when the window is whole months; passports the scope names one by one
        (passport grants, ownership) and not covered otherwise are added from their detailed rows."""
        months = _months(since, until)
        if months is None:
            query = self._detailed_inventory(group_by, self._scope(scope, filters, since, until, include_ceased))
        else:
            t = inventory_materials
            columns = [totals.group_column(t, name) for name in group_by]
            broad = replace(scope, passport_ids=frozenset()) if scope is not None else None
            query = (
                select(*columns, func.sum(t.c.mass_kg).label("massKg"), func.sum(t.c.passports).label("passports"))
                .where(*totals.conditions(t, broad, filters, *months, include_ceased))
                .group_by(*columns)
            )
            if scope is not None and scope.passport_ids and broad is not None:
                named = self._detailed_inventory(group_by, [
                    *self._scope(None, filters, since, until, include_ceased),
                    passports.c.id.in_(sorted(scope.passport_ids)),
                    # IS NOT TRUE: a NULL holder makes the condition NULL, which NOT would leave NULL (false)
                    scope_condition(broad).is_not(true())])
                both = union_all(query, named.order_by(None)).subquery()
                outer = [both.c[name] for name in group_by]
                query = select(*outer, func.sum(both.c.massKg).label("massKg"),
                               func.sum(both.c.passports).label("passports")).group_by(*outer)
            query = query.order_by(*group_by)
        with self.engine.connect() as connection:
            return [{**dict(row), "massKg": round(float(row["massKg"]), MASS_DECIMALS),
                     "passports": int(row["passports"])} for row in connection.execute(query).mappings()]

    def _detailed_inventory(self, group_by: Sequence[str], conditions: Sequence[Any]) -> Any:
        """The inventory from every material row in scope (a window not of whole months; passports named one by one)."""
        columns = [self._group_column(name) for name in group_by]
        return (
            select(
                *columns,
                func.sum(passport_materials.c.mass_kg).label("massKg"),
                func.count(func.distinct(passports.c.id)).label("passports"),
            )
            .select_from(passport_materials.join(passports, passports.c.id == passport_materials.c.passport_id))
            .where(*conditions)
            .group_by(*columns)
            .order_by(*columns)
        )

    def inventory_count(
        self,
        *,
        scope: AccessScope | None,
        filters: Mapping[str, Any],
        since: dt.datetime | None,
        until: dt.datetime | None,
        include_ceased: bool,
    ) -> int:
        query = (
            select(func.count())
            .select_from(passports)
            .where(*self._scope(scope, filters, since, until, include_ceased))
        )
        with self.engine.connect() as connection:
            return int(connection.execute(query).scalar_one())

    def access_groups(
        self, *, scope: AccessScope | None, filters: Mapping[str, Any], since: dt.datetime | None,
        until: dt.datetime | None, include_ceased: bool,
    ) -> list[tuple[str, str | None, str | None, str | None, int]]:
        """What an aggregate covers, for the access log: (manufacturer, holder, passport id, model id, count) groups
        holding what decides each passport's basis. Passports are grouped by manufacturer, holder and model; a
        passport id is kept only for those the scope names one by one (passport grants, ownership), so the answer
        stays small when a manufacturer or model grant covers many passports. Counted from the inventory totals
        when the window is whole months, the passports named one by one from their rows."""
        months = _months(since, until)
        if months is None:
            return self._detailed_access_groups(scope, self._scope(scope, filters, since, until, include_ceased))
        t = inventory_passports
        holder = organisations.alias("holder")
        columns: list[Any] = [organisations.c.slug.label("manufacturer")]
        if scope is not None:
            columns += [holder.c.slug.label("holder"), t.c.model_id.label("model_id")]
        broad = replace(scope, passport_ids=frozenset()) if scope is not None else None
        query = (
            select(*columns, func.sum(t.c.passports).label("passports"))
            .select_from(t.join(organisations, organisations.c.id == t.c.organisation_id)
                         .outerjoin(holder, holder.c.id == t.c.holder_id))
            .where(*totals.conditions(t, broad, filters, *months, include_ceased))
            .group_by(*columns)
        )
        with self.engine.connect() as connection:
            counts: Counter[tuple[str, str | None, str | None]] = Counter()
            for row in connection.execute(query).mappings():
                counts[row["manufacturer"], row.get("holder"), row.get("model_id") or None] += int(row["passports"])
        named: list[tuple[str, str | None, str | None, str | None, int]] = []
        if scope is not None and scope.passport_ids and broad is not None:
            # every passport named one by one is listed with its id (its basis may be its grant or ownership);
            # those the broader scope covers too are taken out of the totals' groups
            conditions = [*self._scope(None, filters, since, until, include_ceased),
                          passports.c.id.in_(sorted(scope.passport_ids))]
            covered = {group[2] for group in self._detailed_access_groups(
                scope, [*conditions, scope_condition(broad)])}
            for group in self._detailed_access_groups(scope, conditions):
                named.append(group)
                if group[2] in covered:
                    counts[group[0], group[1], group[3]] -= group[4]
        return [(manufacturer, holder_slug, None, model_id, n)
                for (manufacturer, holder_slug, model_id), n in counts.items() if n] + named

    def _detailed_access_groups(
        self, scope: AccessScope | None, conditions: Sequence[Any]
    ) -> list[tuple[str, str | None, str | None, str | None, int]]:
        c = passports.c
        holder = organisations.alias("holder")
        columns: list[Any] = [organisations.c.slug.label("manufacturer")]
        if scope is not None:  # authorities read every passport on one basis: the manufacturer is enough
            columns += [holder.c.slug.label("holder"), c.model_id.label("model_id")]
            if scope.passport_ids:
                columns.append(case((c.id.in_(sorted(scope.passport_ids)), c.id), else_=None).label("passport_id"))
        query = (
            select(*columns, func.count().label("passports"))
            .select_from(
                passports.join(organisations, organisations.c.id == c.organisation_id).outerjoin(
                    holder, holder.c.id == c.holder_organisation_id
                )
            )
            .where(*conditions)
            .group_by(*columns)
        )
        with self.engine.connect() as connection:
            return [
                (row["manufacturer"], row.get("holder"), row.get("passport_id"), row.get("model_id"),
                 int(row["passports"]))
                for row in connection.execute(query).mappings()
            ]

    def recycled_content_rows(self, scope: AccessScope | None) -> list[dict[str, Any]]:
        """Per passport (current version, not ceased): model, category, chemistry, metal masses and declared shares."""
        conditions = self._scope(scope, {}, None, None, False)
        holder = organisations.alias("holder")
        base = (
            select(
                passports.c.id,
                passports.c.gtin,
                passports.c.model_id,
                passports.c.category,
                passports.c.chemistry,
                organisations.c.slug.label("organisation"),
                holder.c.slug.label("holder"),  # with the rest, decides the basis its access-log entry records
            )
            .join(organisations, organisations.c.id == passports.c.organisation_id)
            .outerjoin(holder, holder.c.id == passports.c.holder_organisation_id)
            .where(*conditions)
        )
        rows: dict[str, dict[str, Any]] = {}
        with self.engine.connect() as connection:
            for row in connection.execute(base).mappings():
                rows[row["id"]] = {**dict(row), "masses": {}, "shares": {}}
            metals = (
                select(
                    passport_materials.c.passport_id,
                    passport_materials.c.material,
                    func.sum(passport_materials.c.mass_kg).label("mass"),
                )
                .where(
                    passport_materials.c.material.in_(("Co", "Li", "Ni", "Pb")),
                    passport_materials.c.passport_id.in_(base.with_only_columns(passports.c.id).scalar_subquery()),
                )
                .group_by(passport_materials.c.passport_id, passport_materials.c.material)
            )
            for passport_id, material, mass in connection.execute(metals):
                rows[passport_id]["masses"][material] = float(mass)
            shares = select(recycled_content).where(
                recycled_content.c.passport_id.in_(base.with_only_columns(passports.c.id).scalar_subquery())
            )
            for row in connection.execute(shares).mappings():
                rows[row["passport_id"]]["shares"][row["metal"]] = (row["pre_consumer"], row["post_consumer"])
        return list(rows.values())

    def recovery_rows(self, recycler: str | None = None) -> list[dict[str, Any]]:
        """The recycling records (one per passport and material), with the recycler and the responsible operator
        of the recycled battery (``manufacturer``: whose declared composition gave the input mass)."""
        manufacturer = organisations.alias("manufacturer")
        query = (
            select(recoveries, organisations.c.slug.label("recycler"), manufacturer.c.slug.label("manufacturer"))
            .join(organisations, organisations.c.id == recoveries.c.recycler_id)
            .join(passports, passports.c.id == recoveries.c.passport_id)
            .join(manufacturer, manufacturer.c.id == passports.c.organisation_id)
        )
        if recycler is not None:
            query = query.where(organisations.c.slug == recycler)
        with self.engine.connect() as connection:
            return [dict(row) for row in connection.execute(query.order_by(recoveries.c.passport_id)).mappings()]

    def material_rows(self, passport_ids: Sequence[str] | None = None) -> list[dict[str, Any]]:
        query = select(passport_materials)
        if passport_ids is not None:
            query = query.where(passport_materials.c.passport_id.in_(passport_ids))
        with self.engine.connect() as connection:
            return [dict(row) for row in connection.execute(query).mappings()]

    def recycled_rows(self) -> list[dict[str, Any]]:
        with self.engine.connect() as connection:
            return [dict(row) for row in connection.execute(select(recycled_content)).mappings()]

    def count_materials(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(passport_materials)).scalar_one())


def derived_rows(passport: PassportRecord) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The passport_materials and passport_recycled_content rows of a passport's current version."""
    materials = [
        {"passport_id": passport.passport_id, "position": i, "material": key, "name": name[:200], "cas": cas,
         "mass_kg": mass}
        for i, (key, name, cas, mass) in enumerate(passport.materials)
    ]
    recycled = [
        {"passport_id": passport.passport_id, "metal": metal, "pre_consumer": pre, "post_consumer": post}
        for metal, pre, post in passport.recycled
    ]
    return materials, recycled


def _months(since: dt.datetime | None, until: dt.datetime | None) -> tuple[str | None, str | None] | None:
    """The window as whole months of the totals (None for an open end), or None when an end is not a month's start."""
    first = totals.month_start(since) if since is not None else None
    last = totals.month_start(until) if until is not None else None
    if (since is not None and first is None) or (until is not None and last is None):
        return None
    return first, last


def _holder_id() -> Any:
    """Who holds the battery: the holder recorded by a transfer, else the responsible operator (until a first
    transfer, custody is with it)."""
    return func.coalesce(passports.c.holder_organisation_id, passports.c.organisation_id)



__all__ = ["CircularitySqlMixin", "derived_rows"]
