"""Inventory totals: passport counts and material masses per inventory key, so that inventories and the access log
of aggregates add up a few rows rather than every material row in scope; filled from the detailed rows.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from passport.storage.totals_sql import rebuild

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _key() -> list[sa.Column[object]]:
    return [
        sa.Column("organisation_id", sa.Integer, nullable=False),
        sa.Column("holder_id", sa.Integer, nullable=False),
        sa.Column("model_id", sa.String(36), nullable=False),
        sa.Column("category", sa.String(20), nullable=False),
        sa.Column("chemistry", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("ceased", sa.Boolean, nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
    ]


KEY = ["organisation_id", "holder_id", "model_id", "category", "chemistry", "status", "ceased", "month"]


def upgrade() -> None:
    op.create_table(
        "inventory_passports",
        *_key(),
        sa.Column("passports", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint(*KEY, name="pk_inventory_passports"),
    )
    op.create_table(
        "inventory_materials",
        *_key(),
        sa.Column("material", sa.String(40), nullable=False),
        sa.Column("passports", sa.Integer, nullable=False),
        sa.Column("mass_kg", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint(*KEY, "material", name="pk_inventory_materials"),
    )
    rebuild(op.get_bind())


def downgrade() -> None:
    op.drop_table("inventory_materials")
    op.drop_table("inventory_passports")
