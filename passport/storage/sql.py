"""The SQL store (SQLAlchemy Core 2.x): SQLite (file, WAL) by default, PostgreSQL (psycopg 3) in production."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, bindparam, create_engine, event, func, insert, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from passport.errors import Conflict, NotFound, VersionConflict
from passport.storage import migrate
from passport.storage.access_records import RestoredExtras
from passport.storage.access_sql import AccessSqlMixin, write_extras
from passport.storage.api_sql import ApiSqlMixin
from passport.storage.circularity_sql import CircularitySqlMixin, derived_rows
from passport.storage.circularity_tables import passport_materials, recycled_content
from passport.storage.records import CREDENTIAL_VIEWS, KeyRecord, Organisation, PassportRecord, VersionRecord
from passport.storage.tables import organisations, passport_versions, passports, signing_keys
from passport.storage.totals_sql import Key, TotalsDelta, former_state, key_of

_MIGRATION_LOCK = 7_270_771  # PostgreSQL advisory lock: one worker migrates, the others wait


def normalise_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever driver the URL names (or none)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


# Seconds to wait for PostgreSQL to accept a connection and authenticate. Without it (libpq's default) a database
# that accepts TCP but never answers (a hung host, a black-holed network, a server stuck in recovery) kept every
# request waiting forever instead of answering 503; a URL's own connect_timeout parameter wins.
CONNECT_TIMEOUT = 5


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    connect_args = {} if "connect_timeout" in parsed.query else {"connect_timeout": CONNECT_TIMEOUT}
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, connect_args=connect_args)


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


class SqlStore(ApiSqlMixin, CircularitySqlMixin, AccessSqlMixin):
    """One ``Store`` for both engines; queries are written once against passport/storage/tables.py."""

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.engine = make_engine(url)
        if migrate:
            self.migrate()

    @property
    def engine(self) -> Engine:
        return self._engine

    @engine.setter
    def engine(self, engine: Engine) -> None:
        # A setter rather than a plain attribute because the store holds two handles on one engine (``_reads``
        # below): replacing the engine (a test pointing the store at a database that does not answer) must replace
        # both, or reads would go on through the old one.
        self._engine = engine
        self.dialect = engine.dialect.name
        # Single-statement reads need no transaction: on PostgreSQL they run in autocommit (a client-side switch
        # with psycopg), which saves the BEGIN and ROLLBACK round trips of every lookup (resolver, issuing).
        self._reads = (engine.execution_options(isolation_level="AUTOCOMMIT") if self.dialect == "postgresql"
                       else engine)

    def migrate(self) -> None:
        with self.engine.begin() as connection:
            if self.dialect == "postgresql":
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
            migrate.upgrade(connection)

    def close(self) -> None:
        self.engine.dispose()

    def ping(self) -> None:
        """Raise if the database does not answer."""
        with self.engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")

    # --- organisations and keys ---------------------------------------------------------------------------

    def create_organisation(self, organisation: Organisation) -> Organisation:
        try:
            with self.engine.begin() as connection:
                connection.execute(insert(organisations).values(
                    slug=organisation.slug, name=organisation.name, created_at=organisation.created_at))
        except IntegrityError:
            raise Conflict(f"organisation {organisation.slug!r} already exists") from None
        return organisation

    def get_organisation(self, slug: str) -> Organisation:
        with self._reads.connect() as connection:
            row = connection.execute(_ORGANISATION, {"slug": slug}).mappings().first()
        if row is None:
            raise NotFound(f"no organisation {slug!r}")
        return Organisation(row["slug"], row["name"], row["created_at"])

    def list_organisations(self) -> list[Organisation]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(organisations).order_by(organisations.c.slug)).mappings()
            return [Organisation(r["slug"], r["name"], r["created_at"]) for r in rows]

    def _organisation_id(self, connection: Connection, slug: str) -> int:
        found = connection.execute(_ORGANISATION_ID, {"slug": slug}).scalar()
        if found is None:
            raise NotFound(f"no organisation {slug!r}")
        return int(found)

    def _insert_key(self, connection: Connection, key: KeyRecord) -> None:
        connection.execute(insert(signing_keys).values(
            organisation_id=self._organisation_id(connection, key.organisation), key_id=key.key_id,
            public_key_multibase=key.public_key_multibase, created_at=key.created_at,
            retired_at=key.retired_at, revoked_at=key.revoked_at))

    def add_key(self, key: KeyRecord) -> None:
        try:
            with self.engine.begin() as connection:
                self._insert_key(connection, key)
        except IntegrityError:
            raise Conflict(f"key {key.key_id!r} of {key.organisation!r} already exists") from None

    def list_keys(self, organisation: str | None = None) -> list[KeyRecord]:
        with self._reads.connect() as connection:
            if organisation is None:
                rows = connection.execute(_KEYS).mappings()
            else:
                rows = connection.execute(_KEYS_OF, {"slug": organisation}).mappings()
            return [_key(row) for row in rows]

    def _set_key_time(self, organisation: str, key_id: str, column: str, at: dt.datetime) -> None:
        with self.engine.begin() as connection:
            org_id = self._organisation_id(connection, organisation)
            result = connection.execute(
                update(signing_keys)
                .where(signing_keys.c.organisation_id == org_id, signing_keys.c.key_id == key_id)
                .values({column: at})
            )
            if result.rowcount != 1:
                raise NotFound(f"no key {key_id!r} of {organisation!r}")

    def retire_key(self, organisation: str, key_id: str, at: dt.datetime) -> None:
        self._set_key_time(organisation, key_id, "retired_at", at)

    def revoke_key(self, organisation: str, key_id: str, at: dt.datetime) -> None:
        self._set_key_time(organisation, key_id, "revoked_at", at)

    # --- passports and versions ---------------------------------------------------------------------------

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
                        connection.execute(insert(signing_keys).values(
                            organisation_id=organisation_ids[organisation.slug], key_id=key.key_id,
                            public_key_multibase=key.public_key_multibase, created_at=key.created_at,
                            retired_at=key.retired_at, revoked_at=key.revoked_at))
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
        if expected_previous is not None:
            # read before the guarded UPDATE below replaces it; if another writer moved the passport on meanwhile,
            # that UPDATE matches no row and the whole transaction is refused
            former = former_state(connection, passport.passport_id, expected_previous)
            if former is not None:
                delta.add(*former, sign=-1)
        if expected_previous is None:
            connection.execute(_INSERT_PASSPORT, {"id": passport.passport_id, **values})
        else:
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

    def get_passport(self, passport_id: str) -> PassportRecord:
        return self._one_passport(_PASSPORT_BY_ID, {"passport_id": passport_id}, f"no passport {passport_id}")

    def find_passport(self, gtin: str, serial: str) -> PassportRecord:
        return self._one_passport(
            _PASSPORT_BY_CODE, {"gtin": gtin, "serial": serial}, f"no passport for GTIN {gtin} serial {serial}")

    def _one_passport(self, query: Any, parameters: dict[str, Any], missing: str) -> PassportRecord:
        with self._reads.connect() as connection:
            row = connection.execute(query, parameters).mappings().first()
        if row is None:
            raise NotFound(missing)
        return _passport(row)

    def get_version(self, passport_id: str, version: int | None = None) -> VersionRecord:
        with self._reads.connect() as connection:
            if version is None:
                row = connection.execute(_CURRENT_VERSION, {"passport_id": passport_id}).mappings().first()
            else:
                row = connection.execute(
                    _VERSION, {"passport_id": passport_id, "version": version}).mappings().first()
        if row is None:
            raise NotFound(f"no version {version} of passport {passport_id}" if version else
                           f"no passport {passport_id}")
        return _version(row)

    def list_versions(self, passport_id: str) -> list[VersionRecord]:
        query = (select(passport_versions).where(passport_versions.c.passport_id == passport_id)
                 .order_by(passport_versions.c.version))
        with self.engine.connect() as connection:
            rows = [_version(row) for row in connection.execute(query).mappings()]
        if not rows:
            raise NotFound(f"no passport {passport_id}")
        return rows

    def iter_versions(self) -> Iterator[VersionRecord]:
        query = select(passport_versions).order_by(passport_versions.c.passport_id, passport_versions.c.version)
        with self.engine.connect() as connection:
            for row in connection.execution_options(yield_per=500).execute(query).mappings():
                yield _version(row)

    def count_passports(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(passports)).scalar_one())

    def is_empty(self) -> bool:
        with self.engine.connect() as connection:
            return self._is_empty(connection)

    @staticmethod
    def _is_empty(connection: Connection) -> bool:
        return (connection.execute(select(organisations.c.id).limit(1)).first() is None
                and connection.execute(select(passports.c.id).limit(1)).first() is None)


def _key(row: RowMapping) -> KeyRecord:
    return KeyRecord(row["slug"], row["key_id"], row["public_key_multibase"], row["created_at"],
                     row["retired_at"], row["revoked_at"])


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


def _passport(row: RowMapping) -> PassportRecord:
    return PassportRecord(
        row["id"], row["gtin"], row["serial"], row["slug"], row["current_version"], row["category"],
        row["chemistry"], row["status"], bool(row["ceased"]), row["created_at"], row["updated_at"],
        row.get("model_id"), row.get("model_version"), row.get("holder_slug"))


def holder_slug() -> Any:
    """The holder's organisation slug, as a column of a passports query."""
    holders = organisations.alias("holders")
    return (select(holders.c.slug).where(holders.c.id == passports.c.holder_organisation_id)
            .scalar_subquery().label("holder_slug"))


# Statements built once: SQLAlchemy then reuses their compiled form without rebuilding or re-hashing them per call
# (the hot paths: issuing, importing, resolving).
_ORGANISATION = select(organisations).where(organisations.c.slug == bindparam("slug"))
_ORGANISATION_ID = select(organisations.c.id).where(organisations.c.slug == bindparam("slug"))
_KEYS = (select(signing_keys, organisations.c.slug)
         .join(organisations, signing_keys.c.organisation_id == organisations.c.id)
         .order_by(organisations.c.slug, signing_keys.c.id))
_KEYS_OF = _KEYS.where(organisations.c.slug == bindparam("slug"))
# An explicit ON clause: passports has two foreign keys to organisations (the responsible operator and, since
# migration 0002, the holder), so an implicit join is ambiguous and fails at run time.
_PASSPORT = (select(passports, organisations.c.slug, holder_slug())
             .join(organisations, passports.c.organisation_id == organisations.c.id))
_PASSPORT_BY_ID = _PASSPORT.where(passports.c.id == bindparam("passport_id"))
_PASSPORT_BY_CODE = _PASSPORT.where(passports.c.gtin == bindparam("gtin"), passports.c.serial == bindparam("serial"))
_VERSION = select(passport_versions).where(
    passport_versions.c.passport_id == bindparam("passport_id"), passport_versions.c.version == bindparam("version"))
_CURRENT_VERSION = select(passport_versions).where(
    passport_versions.c.passport_id == bindparam("passport_id"),
    passport_versions.c.version == select(passports.c.current_version)
    .where(passports.c.id == bindparam("passport_id")).scalar_subquery())
_INSERT_PASSPORT = insert(passports)
_INSERT_VERSION = insert(passport_versions)
_INSERT_MATERIALS = insert(passport_materials)
_INSERT_RECYCLED = insert(recycled_content)


def _version_values(version: VersionRecord) -> dict[str, Any]:
    values: dict[str, Any] = {
        "passport_id": version.passport_id, "version": version.version, "created_at": version.created_at,
        "full_hash": version.full_hash, "signed_by": version.signed_by,
        "warnings": json.dumps(list(version.warnings), separators=(",", ":")),
    }
    values.update({f"credential_{view}": version.credentials[view] for view in CREDENTIAL_VIEWS})
    return values


def _version(row: Mapping[Any, Any]) -> VersionRecord:  # RowMapping is keyed by names and columns
    return VersionRecord(
        passport_id=row["passport_id"], version=row["version"], created_at=row["created_at"],
        full_hash=row["full_hash"], signed_by=row["signed_by"],
        credentials={view: bytes(row[f"credential_{view}"]) for view in CREDENTIAL_VIEWS},
        warnings=tuple(json.loads(row["warnings"])),
    )


__all__ = ["SqlStore", "make_engine", "normalise_url"]
