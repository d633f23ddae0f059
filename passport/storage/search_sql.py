"""SQL of passport search: the filters of a search, keyset pagination (by id, or by update time and id), each row
with the current version's credentials of the views asked for. Mixed into :class:`~passport.storage.sql.SqlStore`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, and_, bindparam, select, tuple_

from passport.storage.access_sql import scope_condition
from passport.storage.api_records import SearchQuery
from passport.storage.org_refs import org_id
from passport.storage.records import PassportRecord
from passport.storage.tables import UtcDateTime, organisations, passport_versions, passports


class SearchSqlMixin:
    engine: Engine

    def search(self, query: SearchQuery, views: Sequence[str]) -> list[tuple[PassportRecord, dict[str, bytes]]]:
        """One page of passports matching ``query``, ordered by id (UUID v7: issue time), or by update time and id
        for a search by update time, each with the current version's credentials of ``views``."""
        from passport.storage.sql import holder_slug

        columns = [passport_versions.c[f"credential_{view}"].label(f"credential_{view}") for view in views]
        statement = (
            select(passports, organisations.c.slug, holder_slug(), *columns)
            .join(organisations, organisations.c.id == passports.c.organisation_id)
            .join(
                passport_versions,
                and_(
                    passport_versions.c.passport_id == passports.c.id,
                    passport_versions.c.version == passports.c.current_version,
                ),
            )
            .where(*_conditions(query))
            .order_by(*((passports.c.updated_at, passports.c.id) if query.by_update else (passports.c.id,)))
            .limit(query.limit)
        )
        with self.engine.connect() as connection:
            rows = connection.execute(statement).mappings().all()
        from passport.storage.sql import _passport

        return [(_passport(row), {view: bytes(row[f"credential_{view}"]) for view in views}) for row in rows]


def _conditions(query: SearchQuery) -> list[Any]:
    c = passports.c
    conditions: list[Any] = []
    equal = {
        "gtin": query.gtin,
        "serial": query.serial,
        "model_id": query.model_id,
        "category": query.category,
        "chemistry": query.chemistry,
        "status": query.status,
    }
    conditions += [c[name] == value for name, value in equal.items() if value is not None]
    if query.organisation is not None:
        conditions.append(organisations.c.slug == query.organisation)
    if query.holder is not None:
        conditions.append(c.holder_organisation_id == org_id(query.holder))
    if query.updated_since is not None:
        conditions.append(c.updated_at >= query.updated_since)
    if query.updated_before is not None:
        conditions.append(c.updated_at < query.updated_before)
    if not query.include_ceased:
        conditions.append(c.ceased.is_(False))
    if query.after is not None and query.after_updated is not None:
        # a row comparison, which the (updated_at, id) index answers as a range on both engines
        conditions.append(tuple_(c.updated_at, c.id) > tuple_(
            bindparam(None, query.after_updated, UtcDateTime()), query.after))
    elif query.after is not None:
        conditions.append(c.id > query.after)
    if query.passport_ids is not None:
        conditions.append(c.id.in_(query.passport_ids))
    if query.scope is not None:
        conditions.append(scope_condition(query.scope))
    return conditions


__all__ = ["SearchSqlMixin"]
