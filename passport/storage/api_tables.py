"""Tables of the HTTP API (migration 0002): API keys, battery models and their versions, jobs, bulk imports."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, String, Table, Text, UniqueConstraint

from passport.storage.tables import UtcDateTime, metadata

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("organisation_id", Integer, ForeignKey("organisations.id"), nullable=False),
    Column("role", String(32), nullable=False),
    Column("label", String(200), nullable=False),
    # SHA-256 of the key: the key itself is shown once and never stored.
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(12), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("revoked_at", UtcDateTime()),
    Column("last_used_at", UtcDateTime()),
    Column("expires_at", UtcDateTime()),
    Column("scopes", Text, nullable=False, default="[]"),
)

battery_models = Table(
    "battery_models",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("organisation_id", Integer, ForeignKey("organisations.id"), nullable=False),
    Column("gtin", String(14), nullable=False),
    Column("model_identifier", String(200), nullable=False),
    Column("current_version", Integer, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    UniqueConstraint("organisation_id", "gtin"),
)

battery_model_versions = Table(
    "battery_model_versions",
    metadata,
    Column("model_id", String(36), ForeignKey("battery_models.id"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("document", Text, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("organisation_id", Integer, ForeignKey("organisations.id"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("subject", String(100), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("report", Text, nullable=False, default="[]"),
)

imports = Table(
    "imports",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("organisation_id", Integer, ForeignKey("organisations.id"), nullable=False),
    Column("idempotency_key", String(200), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("heartbeat_at", UtcDateTime(), nullable=False),
    Column("lines", Integer, nullable=False, default=0),
    Column("succeeded", Integer, nullable=False, default=0),
    Column("failed", Integer, nullable=False, default=0),
    UniqueConstraint("organisation_id", "idempotency_key"),
)

import_results = Table(
    "import_results",
    metadata,
    Column("import_id", String(36), ForeignKey("imports.id"), primary_key=True),
    Column("line", Integer, primary_key=True),
    Column("passport_id", String(36)),
    Column("version", Integer),
    Column("problem", Text),
)

__all__ = ["api_keys", "battery_model_versions", "battery_models", "import_results", "imports", "jobs"]

console_sessions = Table(
    "console_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("api_key_id", String(36), ForeignKey("api_keys.id"), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
)
