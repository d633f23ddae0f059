"""SQL of the circularity features: derived material and recycled-content rows kept in step with each passport's
current version (in the same transaction as the version), recycling records, inventory aggregation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, case, delete, func, insert, select, update

from passport.storage.access_records import AccessScope
from passport.storage.access_sql import scope_condition
from passport.storage.circularity_tables import passport_materials, recoveries, recycled_content
from passport.storage.records import PassportRecord
from passport.storage.tables import organisations, passports


class CircularitySqlMixin:
    engine: Engine

    def _organisation_id(self, connection: Connection, slug: str) -> int:
        raise NotImplementedError  # provided by SqlStore

    def _write_derived(self, connection: Connection, passport: PassportRecord, first: bool) -> None:
        """Holder, materials and recycled content of the version just appended."""
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
        conditions: list[Any] = []
        if scope is not None:
            conditions.append(scope_condition(scope))
        for name, column in (("status", c.status), ("chemistry", c.chemistry), ("category", c.category)):
            if name in filters:
                conditions.append(column == filters[name])
        if "manufacturer" in filters:
            conditions.append(c.organisation_id == _org_id(filters["manufacturer"]))
        if "holder" in filters:
            conditions.append(_holder_id() == _org_id(filters["holder"]))
        if since is not None:
            conditions.append(c.created_at >= since)
        if until is not None:
            conditions.append(c.created_at < until)
        if not include_ceased:
            conditions.append(c.ceased.is_(False))
        return conditions

    def _group_column(self, name: str) -> Any:
        c = passports.c
        if name == "material":
            return passport_materials.c.material.label("material")
        if name == "month":
            # months in UTC, whatever the time zone of the database session
            month = (
                func.strftime("%Y-%m", c.created_at)
                if self.engine.dialect.name == "sqlite"
                else func.to_char(func.timezone("UTC", c.created_at), "YYYY-MM")
            )
            return month.label("month")
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
        """Material masses (kg) and passport counts per group; material is always a group."""
        columns = [self._group_column(name) for name in group_by]
        query = (
            select(
                *columns,
                func.sum(passport_materials.c.mass_kg).label("massKg"),
                func.count(func.distinct(passports.c.id)).label("passports"),
            )
            .select_from(passport_materials.join(passports, passports.c.id == passport_materials.c.passport_id))
            .where(*self._scope(scope, filters, since, until, include_ceased))
            .group_by(*columns)
            .order_by(*columns)
        )
        with self.engine.connect() as connection:
            return [{**dict(row), "massKg": float(row["massKg"])} for row in connection.execute(query).mappings()]

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
        stays small when a manufacturer or model grant covers many passports."""
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
            .where(*self._scope(scope, filters, since, until, include_ceased))
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


def _holder_id() -> Any:
    """Who holds the battery: the holder recorded by a transfer, else the responsible operator (until a first
    transfer, custody is with it)."""
    return func.coalesce(passports.c.holder_organisation_id, passports.c.organisation_id)


def _org_id(slug: str) -> Any:
    return select(organisations.c.id).where(organisations.c.slug == slug).scalar_subquery()


__all__ = ["CircularitySqlMixin", "derived_rows"]
