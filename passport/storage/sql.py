"""The SQL store (SQLAlchemy Core 2.x): SQLite (file, WAL) by default, PostgreSQL (psycopg 3) in production."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, bindparam, create_engine, event, func, insert, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from passport.errors import Conflict, NotFound
from passport.storage import migrate
from passport.storage.access_sql import AccessSqlMixin
from passport.storage.api_sql import ApiSqlMixin
from passport.storage.append_sql import AppendSqlMixin
from passport.storage.circularity_sql import CircularitySqlMixin
from passport.storage.imports_sql import ImportsSqlMixin
from passport.storage.logs_sql import LogsSqlMixin
from passport.storage.records import CREDENTIAL_VIEWS, KeyRecord, Organisation, PassportRecord, VersionRecord
from passport.storage.search_sql import SearchSqlMixin
from passport.storage.tables import organisations, passport_versions, passports, signing_keys

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


class SqlStore(AppendSqlMixin, ApiSqlMixin, ImportsSqlMixin, SearchSqlMixin, CircularitySqlMixin, AccessSqlMixin,
               LogsSqlMixin):
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

    def _insert_key(self, connection: Connection, key: KeyRecord, organisation_id: int | None = None) -> None:
        """One signing-key row; ``organisation_id`` when the caller has it (a restore), else looked up by slug."""
        if organisation_id is None:
            organisation_id = self._organisation_id(connection, key.organisation)
        connection.execute(insert(signing_keys).values(
            organisation_id=organisation_id, key_id=key.key_id,
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


def _version(row: Mapping[Any, Any]) -> VersionRecord:  # RowMapping is keyed by names and columns
    return VersionRecord(
        passport_id=row["passport_id"], version=row["version"], created_at=row["created_at"],
        full_hash=row["full_hash"], signed_by=row["signed_by"],
        credentials={view: bytes(row[f"credential_{view}"]) for view in CREDENTIAL_VIEWS},
        warnings=tuple(json.loads(row["warnings"])),
    )


__all__ = ["SqlStore", "make_engine", "normalise_url"]
