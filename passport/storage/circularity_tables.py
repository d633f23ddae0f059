"""Tables of the circularity features (migration 0003): the materials of each passport's current version, their
declared recycled content, and the recycling records (recovered masses against input masses)."""

from __future__ import annotations

from sqlalchemy import Column, Float, ForeignKey, Index, Integer, String, Table

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

__all__ = ["passport_materials", "recoveries", "recycled_content"]
