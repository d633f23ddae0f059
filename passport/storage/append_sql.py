"""Appending versions: new passports (issued one by one or in batches), revisions, restore; each in one transaction
with the passport's current-state row, its derived material rows and the inventory totals (totals_sql.py). A
constraint that refuses a batch is explained by appending its records one by one."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from passport.errors import Conflict, NotFound, VersionConflict
from passport.storage.access_records import RestoredExtras
from passport.storage.access_sql import write_extras
from passport.storage.circularity_sql import derived_rows
from passport.storage.circularity_tables import passport_materials, recycled_content
from passport.storage.records import CREDENTIAL_VIEWS, KeyRecord, Organisation, PassportRecord, VersionRecord
from passport.storage.tables import organisations, passport_versions, passports
from passport.storage.totals_sql import Key, TotalsDelta, former_state, key_of


class _BatchRefused(IntegrityError):
    """A multi-row insert of new passports broke a constraint; which passport is found by appending one by one."""

    def __init__(self) -> None:
        super().__init__("batch append refused", None, Exception("constraint"))


class _AppendFailed(IntegrityError):
    """An append broke a constraint; carries what is needed to explain which one."""

    def __init__(self, passport: PassportRecord, expected_previous: int | None) -> None:
        super().__init__(f"append of {passport.passport_id} refused", None, Exception("constraint"))
        self.passport = passport
        self.expected_previous = expected_previous


class AppendSqlMixin:
    engine: Engine

    if TYPE_CHECKING:  # what the other parts of SqlStore provide (a body here would shadow them in the MRO)
        def _organisation_id(self, connection: Connection, slug: str) -> int: ...  # provided by SqlStore

        def _insert_key(  # provided by SqlStore
            self, connection: Connection, key: KeyRecord, organisation_id: int | None = None) -> None: ...

        # provided by CircularitySqlMixin
        def _write_derived(self, connection: Connection, passport: PassportRecord, first: bool) -> int | None: ...

        @staticmethod
        def _is_empty(connection: Connection) -> bool: ...  # provided by SqlStore

    def add_version(self, passport: PassportRecord, version: VersionRecord, expected_previous: int | None) -> None:
        self.add_versions([(passport, version, expected_previous)])

    def add_versions(self, items: Sequence[tuple[PassportRecord, VersionRecord, int | None]]) -> None:
        """Several appends in one transaction (bulk import, restore): all of them or none."""
        try:
            try:
                with self.engine.begin() as connection:
                    self._append_many(connection, items)
            except _BatchRefused:
                # rolled back: append one by one (in a new transaction) to find the record that conflicts
                with self.engine.begin() as connection:
                    delta = TotalsDelta()
                    self._append_each(connection, items, delta)
                    delta.apply(connection)
        except _AppendFailed as failed:
            raise self._explain_integrity_error(failed.passport, failed.expected_previous) from None

    def _append_many(
        self, connection: Connection, items: Sequence[tuple[PassportRecord, VersionRecord, int | None]]
    ) -> None:
        """Append ``items`` in the caller's transaction. New passports (the bulk import, issuing) go in one multi-row
        INSERT per table; raises an IntegrityError (_AppendFailed naming the passport, or _BatchRefused for a
        multi-row insert) when a constraint refuses them."""
        if not items:
            return
        delta = TotalsDelta()
        if all(expected is None and not (passport.recovered and passport.recycler)
               for passport, _, expected in items):
            self._insert_new(connection, items, delta)
        else:
            self._append_each(connection, items, delta)
        delta.apply(connection)

    def _insert_new(
        self, connection: Connection, items: Sequence[tuple[PassportRecord, VersionRecord, int | None]],
        delta: TotalsDelta,
    ) -> None:
        """What _append does for each new passport (its row with the holder, its version, its derived rows), as
        one executemany per table."""
        organisation_ids: dict[str, int] = {}
        for passport, _, _ in items:
            for slug in (passport.organisation, passport.holder):
                if slug and slug not in organisation_ids:
                    organisation_ids[slug] = self._organisation_id(connection, slug)
        passport_rows, version_rows, material_rows, recycled_rows = [], [], [], []
        for passport, version, _ in items:
            row = _passport_values(passport, organisation_ids[passport.organisation])
            row["id"] = passport.passport_id
            row["holder_organisation_id"] = organisation_ids[passport.holder] if passport.holder else None
            passport_rows.append(row)
            delta.add(_totals_key(passport, row["organisation_id"], row["holder_organisation_id"]),
                      _masses(passport))
            version_rows.append(_version_values(version))
            materials, recycled = derived_rows(passport)
            material_rows += materials
            recycled_rows += recycled
        try:
            connection.execute(_INSERT_PASSPORT, passport_rows)
            connection.execute(_INSERT_VERSION, version_rows)
            if material_rows:
                connection.execute(_INSERT_MATERIALS, material_rows)
            if recycled_rows:
                connection.execute(_INSERT_RECYCLED, recycled_rows)
        except IntegrityError:
            if len(items) == 1:
                raise _AppendFailed(items[0][0], None) from None
            raise _BatchRefused() from None

    def _append_each(
        self, connection: Connection, items: Sequence[tuple[PassportRecord, VersionRecord, int | None]],
        delta: TotalsDelta,
    ) -> None:
        organisation_ids: dict[str, int] = {}
        for passport, version, expected_previous in items:
            if passport.organisation not in organisation_ids:
                organisation_ids[passport.organisation] = self._organisation_id(connection, passport.organisation)
            try:
                self._append(connection, passport, version, expected_previous, organisation_ids[passport.organisation],
                             delta)
            except IntegrityError:
                raise _AppendFailed(passport, expected_previous) from None

    def restore(
        self,
        organisation_keys: Sequence[tuple[Organisation, Sequence[KeyRecord]]],
        versions: Iterable[tuple[PassportRecord, VersionRecord, int | None]],
        extras: Callable[[], RestoredExtras] | None = None,
    ) -> None:
        """An export into an empty store, in one transaction (see the Store protocol). ``extras`` is called once the
        versions are consumed (the lines after them in the export) and written in the same transaction."""
        try:
            with self.engine.begin() as connection:
                if not self._is_empty(connection):
                    raise Conflict("restore needs an empty database; nothing was written")
                organisation_ids: dict[str, int] = {}
                delta = TotalsDelta()
                for organisation, keys in organisation_keys:
                    organisation_ids[organisation.slug] = connection.execute(
                        insert(organisations).values(
                            slug=organisation.slug, name=organisation.name,
                            created_at=organisation.created_at).returning(organisations.c.id)).scalar_one()
                    for key in keys:
                        self._insert_key(connection, key, organisation_ids[organisation.slug])
                for passport, version, expected_previous in versions:
                    if passport.organisation not in organisation_ids:
                        raise NotFound(
                            f"no organisation {passport.organisation!r} in the export; nothing was written")
                    self._append(connection, passport, version, expected_previous,
                                 organisation_ids[passport.organisation], delta)
                delta.apply(connection)
                if extras is not None:
                    write_extras(connection, extras(), organisation_ids)
        except IntegrityError:
            # Rolled back: do not guess which record it was from a database that no longer holds any of them.
            raise Conflict("the export holds conflicting records (a repeated organisation, key, passport or "
                           "GTIN and serial); nothing was written") from None

    def _append(
        self, connection: Connection, passport: PassportRecord, version: VersionRecord,
        expected_previous: int | None, organisation_id: int, delta: TotalsDelta,
    ) -> None:
        values = _passport_values(passport, organisation_id)
        if expected_previous is None:
            connection.execute(_INSERT_PASSPORT, {"id": passport.passport_id, **values})
        else:
            # read before the guarded UPDATE replaces it; if another writer moved the passport on meanwhile, that
            # UPDATE matches no row and the whole transaction is refused
            former = former_state(connection, passport.passport_id, expected_previous)
            if former is not None:
                delta.add(*former, sign=-1)
            moved = connection.execute(
                update(passports)
                .where(passports.c.id == passport.passport_id, passports.c.current_version == expected_previous)
                .values(**values)
            )
            if moved.rowcount != 1:
                raise VersionConflict(f"passport {passport.passport_id} is no longer at version {expected_previous}")
        connection.execute(_INSERT_VERSION, _version_values(version))
        holder_id = self._write_derived(connection, passport, expected_previous is None)
        delta.add(_totals_key(passport, organisation_id, holder_id), _masses(passport))

    def _explain_integrity_error(self, passport: PassportRecord, expected_previous: int | None) -> Conflict:
        with self.engine.connect() as connection:
            same_id = connection.execute(
                select(passports.c.id).where(passports.c.id == passport.passport_id)).scalar()
        if same_id is not None and expected_previous is None:
            return VersionConflict(f"passport {passport.passport_id} already exists")
        if same_id is not None:
            return VersionConflict(f"passport {passport.passport_id} changed concurrently")
        return Conflict(f"a passport for GTIN {passport.gtin} serial {passport.serial} already exists")


_INSERT_PASSPORT = insert(passports)
_INSERT_VERSION = insert(passport_versions)
_INSERT_MATERIALS = insert(passport_materials)
_INSERT_RECYCLED = insert(recycled_content)


def _totals_key(passport: PassportRecord, organisation_id: int, holder_id: int | None) -> Key:
    return key_of(organisation_id, holder_id, passport.model_id, passport.category, passport.chemistry,
                  passport.status, passport.ceased, passport.created_at)


def _masses(passport: PassportRecord) -> list[tuple[str, float]]:
    return [(material, mass) for material, _, _, mass in passport.materials]


def _passport_values(passport: PassportRecord, organisation_id: int) -> dict[str, Any]:
    return {
        "gtin": passport.gtin, "serial": passport.serial, "organisation_id": organisation_id,
        "current_version": passport.current_version, "category": passport.category,
        "chemistry": passport.chemistry, "status": passport.status, "ceased": passport.ceased,
        "created_at": passport.created_at, "updated_at": passport.updated_at,
        "model_id": passport.model_id, "model_version": passport.model_version,
    }


def _version_values(version: VersionRecord) -> dict[str, Any]:
    values: dict[str, Any] = {
        "passport_id": version.passport_id, "version": version.version, "created_at": version.created_at,
        "full_hash": version.full_hash, "signed_by": version.signed_by,
        "warnings": json.dumps(list(version.warnings), separators=(",", ":")),
    }
    values.update({f"credential_{view}": version.credentials[view] for view in CREDENTIAL_VIEWS})
    return values


__all__ = ["AppendSqlMixin"]
