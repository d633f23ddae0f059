"""Organisations, signing keys, passports and their append-only signed versions.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_PG_REFUSE = """
CREATE OR REPLACE FUNCTION passport_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'passport versions are append-only: % refused', TG_OP;
END
$$ LANGUAGE plpgsql
"""


def _timestamps() -> list[sa.Column[dt.datetime]]:  # typed by the Python value (mypy --strict)
    return [sa.Column("created_at", sa.DateTime(timezone=True), nullable=False)]


def upgrade() -> None:
    op.create_table(
        "organisations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("slug", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        *_timestamps(),
        sa.UniqueConstraint("slug", name="uq_organisations_slug"),
    )
    op.create_table(
        "signing_keys",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "organisation_id",
            sa.Integer,
            sa.ForeignKey("organisations.id", name="fk_signing_keys_organisation_id"),
            nullable=False,
        ),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("public_key_multibase", sa.String(100), nullable=False),
        *_timestamps(),
        sa.Column("retired_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("organisation_id", "key_id", name="uq_signing_keys_organisation_id_key_id"),
    )
    op.create_table(
        "passports",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("gtin", sa.String(14), nullable=False),
        sa.Column("serial", sa.String(20), nullable=False),
        sa.Column(
            "organisation_id",
            sa.Integer,
            sa.ForeignKey("organisations.id", name="fk_passports_organisation_id"),
            nullable=False,
        ),
        sa.Column("current_version", sa.Integer, nullable=False),
        sa.Column("category", sa.String(20), nullable=False),
        sa.Column("chemistry", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("ceased", sa.Boolean, nullable=False),
        *_timestamps(),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("gtin", "serial", name="uq_passports_gtin_serial"),
    )
    op.create_index("ix_passports_organisation_id_updated_at", "passports", ["organisation_id", "updated_at"])
    op.create_index("ix_passports_updated_at", "passports", ["updated_at"])
    op.create_table(
        "passport_versions",
        sa.Column(
            "passport_id",
            sa.String(36),
            sa.ForeignKey("passports.id", name="fk_passport_versions_passport_id"),
            primary_key=True,
        ),
        sa.Column("version", sa.Integer, primary_key=True),
        *_timestamps(),
        sa.Column("full_hash", sa.String(71), nullable=False),
        sa.Column("signed_by", sa.String(300), nullable=False),
        sa.Column("warnings", sa.Text, nullable=False),
        sa.Column("credential_public", sa.LargeBinary, nullable=False),
        sa.Column("credential_legitimate_interest", sa.LargeBinary, nullable=False),
        sa.Column("credential_authority", sa.LargeBinary, nullable=False),
        sa.Column("credential_full", sa.LargeBinary, nullable=False),
    )
    _append_only("passport_versions")


def _append_only(table: str) -> None:
    """The database itself refuses UPDATE and DELETE of signed history."""
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(_PG_REFUSE)
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION passport_refuse_change()"
        )
    elif dialect == "sqlite":
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'passport versions are append-only: {operation} refused'); END"
            )


def downgrade() -> None:
    op.drop_table("passport_versions")
    op.drop_table("passports")
    op.drop_table("signing_keys")
    op.drop_table("organisations")
