"""HTTP API: API keys, battery models with versions, jobs, bulk imports; passport model reference, holder and
search indexes.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _at(name: str, nullable: bool = False) -> sa.Column[dt.datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _organisation(table: str) -> sa.Column[int]:
    return sa.Column(
        "organisation_id",
        sa.Integer,
        sa.ForeignKey("organisations.id", name=f"fk_{table}_organisation_id"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(36), primary_key=True),
        _organisation("api_keys"),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(12), nullable=False),
        _at("created_at"),
        _at("revoked_at", True),
        _at("last_used_at", True),
        _at("expires_at", True),
        sa.Column("scopes", sa.Text, nullable=False),
        sa.UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),
    )
    op.create_table(
        "battery_models",
        sa.Column("id", sa.String(36), primary_key=True),
        _organisation("battery_models"),
        sa.Column("gtin", sa.String(14), nullable=False),
        sa.Column("model_identifier", sa.String(200), nullable=False),
        sa.Column("current_version", sa.Integer, nullable=False),
        _at("created_at"),
        _at("updated_at"),
        sa.UniqueConstraint("organisation_id", "gtin", name="uq_battery_models_organisation_id_gtin"),
    )
    op.create_table(
        "battery_model_versions",
        sa.Column(
            "model_id",
            sa.String(36),
            sa.ForeignKey("battery_models.id", name="fk_battery_model_versions_model_id"),
            primary_key=True,
        ),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("document", sa.Text, nullable=False),
        _at("created_at"),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(36), primary_key=True),
        _organisation("jobs"),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(100), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _at("created_at"),
        _at("updated_at"),
        sa.Column("report", sa.Text, nullable=False),
    )
    op.create_table(
        "imports",
        sa.Column("id", sa.String(36), primary_key=True),
        _organisation("imports"),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _at("created_at"),
        _at("heartbeat_at"),
        sa.Column("lines", sa.Integer, nullable=False),
        sa.Column("succeeded", sa.Integer, nullable=False),
        sa.Column("failed", sa.Integer, nullable=False),
        sa.UniqueConstraint("organisation_id", "idempotency_key", name="uq_imports_organisation_id_idempotency_key"),
    )
    op.create_table(
        "import_results",
        sa.Column(
            "import_id",
            sa.String(36),
            sa.ForeignKey("imports.id", name="fk_import_results_import_id"),
            primary_key=True,
        ),
        sa.Column("line", sa.Integer, primary_key=True),
        sa.Column("passport_id", sa.String(36)),
        sa.Column("version", sa.Integer),
        sa.Column("problem", sa.Text),
    )
    with op.batch_alter_table("passports") as batch:
        batch.add_column(sa.Column("model_id", sa.String(36)))
        batch.add_column(sa.Column("model_version", sa.Integer))
        batch.add_column(
            sa.Column(
                "holder_organisation_id",
                sa.Integer,
                sa.ForeignKey("organisations.id", name="fk_passports_holder_organisation_id"),
            )
        )
    # every search filter has an index that also serves the keyset order (id: UUID v7, time-ordered)
    for columns in (
        ["category", "id"],
        ["chemistry", "id"],
        ["status", "id"],
        ["model_id", "id"],
        ["holder_organisation_id", "id"],
        ["organisation_id", "id"],
        ["serial"],
    ):
        op.create_index(f"ix_passports_{'_'.join(columns)}", "passports", columns)


def downgrade() -> None:
    for table in ("import_results", "imports", "jobs", "battery_model_versions", "battery_models", "api_keys"):
        op.drop_table(table)
