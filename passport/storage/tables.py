"""The relational schema, one for SQLite and PostgreSQL (SQLAlchemy Core). Alembic migrations create it; this
module is what the queries are written against. Everything is keyed by passport id, so the version and search
tables can be distributed by it (Citus) when one PostgreSQL primary is not enough."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes on both engines (SQLite keeps no time zone and would hand back naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: the store keeps aware UTC times only")
        utc = value.astimezone(dt.UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:  # noqa: ARG002
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)

organisations = Table(
    "organisations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("slug", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)

signing_keys = Table(
    "signing_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("organisation_id", Integer, ForeignKey("organisations.id"), nullable=False),
    Column("key_id", String(64), nullable=False),
    Column("public_key_multibase", String(100), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("retired_at", UtcDateTime()),
    Column("revoked_at", UtcDateTime()),
    UniqueConstraint("organisation_id", "key_id"),
)

passports = Table(
    "passports",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("gtin", String(14), nullable=False),
    Column("serial", String(20), nullable=False),
    Column("organisation_id", Integer, ForeignKey("organisations.id"), nullable=False),
    Column("current_version", Integer, nullable=False),
    Column("category", String(20), nullable=False),
    Column("chemistry", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("ceased", Boolean, nullable=False, default=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    # added by migration 0002: the battery model referenced, and who physically holds the battery
    Column("model_id", String(36)),
    Column("model_version", Integer),
    Column("holder_organisation_id", Integer, ForeignKey("organisations.id")),
    UniqueConstraint("gtin", "serial"),
    Index(None, "organisation_id", "updated_at"),
    Index(None, "updated_at", "id"),  # migration 0007: searches by update time are ordered by it, then id
)

passport_versions = Table(
    "passport_versions",
    metadata,
    Column("passport_id", String(36), ForeignKey("passports.id"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("full_hash", String(71), nullable=False),
    Column("signed_by", String(300), nullable=False),
    Column("warnings", Text, nullable=False, default="[]"),
    # The exact signed bytes of each view's credential: served and verified as stored, never re-serialised.
    Column("credential_public", LargeBinary, nullable=False),
    Column("credential_legitimate_interest", LargeBinary, nullable=False),
    Column("credential_authority", LargeBinary, nullable=False),
    Column("credential_full", LargeBinary, nullable=False),
)

__all__ = ["metadata", "organisations", "passport_versions", "passports", "signing_keys"]
