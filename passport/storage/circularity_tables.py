"""Tables of the circularity features: the materials of each passport's current version, their declared recycled
content, and the recycling records (recovered masses against input masses) (migration 0003); the inventory totals
(migration 0006)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Column, Float, ForeignKey, Index, Integer, String, Table

from passport.storage.tables import UtcDateTime, metadata

passport_materials = Table(
    "passport_materials",
    metadata,
    Column("passport_id", String(36), ForeignKey("passports.id"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("material", String(40), nullable=False),  # inventory key: Co, Li, Ni, Mn, Pb, Cu, Al, graphite, or name
    Column("name", String(200), nullable=False),
    Column("cas", String(20), nullable=False),
    Column("mass_kg", Float, nullable=False),
    Index("ix_passport_materials_material_passport_id", "material", "passport_id"),
)

recycled_content = Table(
    "passport_recycled_content",
    metadata,
    Column("passport_id", String(36), ForeignKey("passports.id"), primary_key=True),
    Column("metal", String(2), primary_key=True),
    Column("pre_consumer", Float, nullable=False),
    Column("post_consumer", Float, nullable=False),
)

recoveries = Table(
    "recoveries",
    metadata,
    Column("passport_id", String(36), ForeignKey("passports.id"), primary_key=True),
    Column("material", String(40), primary_key=True),
    Column("recycler_id", Integer, ForeignKey("organisations.id"), nullable=False),
    Column("recycled_at", UtcDateTime(), nullable=False),
    Column("input_kg", Float),  # from the passport's composition; NULL when it does not declare the material
    Column("recovered_kg", Float, nullable=False),
    Index("ix_recoveries_recycler_id_material", "recycler_id", "material"),
)



def _totals_key() -> list[Column[Any]]:
    """What an inventory filters and groups on, per passport: a totals row adds up the passports sharing all of it.
    None is stored as 0 (holder: no transfer yet, custody with the responsible operator) and '' (model), so that
    the key can be a primary key on both engines."""
    return [
        Column("organisation_id", Integer, primary_key=True),
        Column("holder_id", Integer, primary_key=True),  # passports.holder_organisation_id, 0 for none
        Column("model_id", String(36), primary_key=True),  # '' for none
        Column("category", String(20), primary_key=True),
        Column("chemistry", String(20), primary_key=True),
        Column("status", String(20), primary_key=True),
        Column("ceased", Boolean, primary_key=True),
        Column("month", String(7), primary_key=True),  # of created_at, in UTC: YYYY-MM
    ]


# Inventories and the access log of aggregates add up these instead of every material row of every passport in
# scope (11.7M rows at 1M passports): kept in step with passports and passport_materials in each version's
# transaction (passport/storage/totals_sql.py), rebuilt from them by migration 0006 and the benchmark data sets.
inventory_passports = Table(
    "inventory_passports",
    metadata,
    *_totals_key(),
    Column("passports", Integer, nullable=False),
)

inventory_materials = Table(
    "inventory_materials",
    metadata,
    *_totals_key(),
    Column("material", String(40), primary_key=True),
    Column("passports", Integer, nullable=False),  # of those declaring the material
    Column("mass_kg", Float, nullable=False),
)

__all__ = ["inventory_materials", "inventory_passports", "passport_materials", "recoveries", "recycled_content"]
