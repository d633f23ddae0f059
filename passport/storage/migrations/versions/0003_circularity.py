"""Circularity: materials and recycled content of each passport's current version, recycling records.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "passport_materials",
        sa.Column(
            "passport_id",
            sa.String(36),
            sa.ForeignKey("passports.id", name="fk_passport_materials_passport_id"),
            primary_key=True,
        ),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("material", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("cas", sa.String(20), nullable=False),
        sa.Column("mass_kg", sa.Float, nullable=False),
    )
    op.create_index("ix_passport_materials_material_passport_id", "passport_materials", ["material", "passport_id"])
    op.create_table(
        "passport_recycled_content",
        sa.Column(
            "passport_id",
            sa.String(36),
            sa.ForeignKey("passports.id", name="fk_passport_recycled_content_passport_id"),
            primary_key=True,
        ),
        sa.Column("metal", sa.String(2), primary_key=True),
        sa.Column("pre_consumer", sa.Float, nullable=False),
        sa.Column("post_consumer", sa.Float, nullable=False),
    )
    op.create_table(
        "recoveries",
        sa.Column(
            "passport_id",
            sa.String(36),
            sa.ForeignKey("passports.id", name="fk_recoveries_passport_id"),
            primary_key=True,
        ),
        sa.Column("material", sa.String(40), primary_key=True),
        sa.Column(
            "recycler_id",
            sa.Integer,
            sa.ForeignKey("organisations.id", name="fk_recoveries_recycler_id"),
            nullable=False,
        ),
        sa.Column("recycled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("input_kg", sa.Float),
        sa.Column("recovered_kg", sa.Float, nullable=False),
    )
    op.create_index("ix_recoveries_recycler_id_material", "recoveries", ["recycler_id", "material"])
    op.create_index("ix_passports_created_at", "passports", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_passports_created_at", "passports")
    for table in ("recoveries", "passport_recycled_content", "passport_materials"):
        op.drop_table(table)
