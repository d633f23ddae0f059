"""Tables of scoped legitimate-interest access (migration 0005)."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, PrimaryKeyConstraint, String, Table, Text

from passport.storage.tables import UtcDateTime, metadata

organisation_purposes = Table(
    "organisation_purposes",
    metadata,
    Column("organisation_id", Integer, ForeignKey("organisations.id"), nullable=False),
    Column("purpose", String(40), nullable=False),
    Column("status", String(16), nullable=False),  # requested, approved, refused
    Column("requested_at", UtcDateTime(), nullable=False),
    Column("decided_at", UtcDateTime()),
    PrimaryKeyConstraint("organisation_id", "purpose"),
)

grants = Table(
    "grants",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("grantee_id", Integer, ForeignKey("organisations.id"), nullable=False),
    Column("grantor_id", Integer, ForeignKey("organisations.id"), nullable=False),
    Column("scope_kind", String(16), nullable=False),  # passport, model, manufacturer
    Column("scope_value", String(64), nullable=False),
    Column("purpose", String(40), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("revoked_at", UtcDateTime()),
    Column("request_id", String(36)),
)

access_requests = Table(
    "access_requests",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("requester_id", Integer, ForeignKey("organisations.id"), nullable=False),
    Column("approver_id", Integer, ForeignKey("organisations.id"), nullable=False),
    Column("scope_kind", String(16), nullable=False),
    Column("scope_value", String(64), nullable=False),
    Column("purpose", String(40), nullable=False),
    Column("justification", Text, nullable=False),
    Column("status", String(16), nullable=False),  # pending, approved, refused
    Column("created_at", UtcDateTime(), nullable=False),
    Column("decided_at", UtcDateTime()),
    Column("grant_id", String(36)),
    Column("reason", Text),
)

passport_owners = Table(
    "passport_owners",
    metadata,
    Column("passport_id", String(36), ForeignKey("passports.id"), primary_key=True),
    Column("owner_id", Integer, ForeignKey("organisations.id"), nullable=False),
    Column("registered_by_id", Integer, ForeignKey("organisations.id"), nullable=False),
    Column("registered_at", UtcDateTime(), nullable=False),
)

access_log = Table(
    "access_log",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("reader_id", Integer, ForeignKey("organisations.id"), nullable=False),
    Column("role", String(32), nullable=False),
    Column("api_key_id", String(36)),
    Column("passport_id", String(36)),
    Column("manufacturer_id", Integer, ForeignKey("organisations.id")),
    Column("view", String(32), nullable=False),
    Column("basis", String(40), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("grant_id", String(36)),
    Column("passports", Integer, nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("actor", String(64)),
    Column("role", String(32)),
    Column("api_key_id", String(36)),
    Column("action", String(64), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("details", Text, nullable=False),
)

__all__ = ["access_log", "access_requests", "audit_log", "grants", "organisation_purposes", "passport_owners"]
