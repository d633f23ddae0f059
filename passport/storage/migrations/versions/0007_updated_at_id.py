"""Searches by update time are ordered by (updated_at, id) and continue after a row's (updated_at, id): one index on
both answers them as a range at any size (the index on updated_at alone is replaced).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_passports_updated_at_id", "passports", ["updated_at", "id"])
    op.drop_index("ix_passports_updated_at", table_name="passports")


def downgrade() -> None:
    op.create_index("ix_passports_updated_at", "passports", ["updated_at"])
    op.drop_index("ix_passports_updated_at_id", table_name="passports")
