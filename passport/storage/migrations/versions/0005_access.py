"""Scoped legitimate-interest access: purposes of organisations, grants, access requests, battery owners, the
access log and the audit log.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _org(name: str, table: str, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(name, sa.Integer, sa.ForeignKey("organisations.id", name=f"fk_{table}_{name}"), nullable=nullable)


def _at(name: str, nullable: bool = False) -> sa.Column[dt.datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "organisation_purposes",
        _org("organisation_id", "organisation_purposes"),
        sa.Column("purpose", sa.String(40), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _at("requested_at"),
        _at("decided_at", True),
        sa.PrimaryKeyConstraint("organisation_id", "purpose", name="pk_organisation_purposes"),
    )
    op.create_table(
        "grants",
        sa.Column("id", sa.String(36), primary_key=True),
        _org("grantee_id", "grants"),
        _org("grantor_id", "grants"),
        sa.Column("scope_kind", sa.String(16), nullable=False),
        sa.Column("scope_value", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(40), nullable=False),
        _at("created_at"),
        _at("expires_at"),
        _at("revoked_at", True),
        sa.Column("request_id", sa.String(36)),
    )
    op.create_index("ix_grants_grantee_id_scope_kind", "grants", ["grantee_id", "scope_kind"])
    op.create_index("ix_grants_grantor_id", "grants", ["grantor_id"])
    op.create_table(
        "access_requests",
        sa.Column("id", sa.String(36), primary_key=True),
        _org("requester_id", "access_requests"),
        _org("approver_id", "access_requests"),
        sa.Column("scope_kind", sa.String(16), nullable=False),
        sa.Column("scope_value", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(40), nullable=False),
        sa.Column("justification", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _at("created_at"),
        _at("decided_at", True),
        sa.Column("grant_id", sa.String(36)),
        sa.Column("reason", sa.Text),
    )
    op.create_index("ix_access_requests_approver_id_status", "access_requests", ["approver_id", "status"])
    op.create_table(
        "passport_owners",
        sa.Column("passport_id", sa.String(36), sa.ForeignKey("passports.id", name="fk_passport_owners_passport_id"),
                  primary_key=True),
        _org("owner_id", "passport_owners"),
        _org("registered_by_id", "passport_owners"),
        _at("registered_at"),
    )
    op.create_index("ix_passport_owners_owner_id", "passport_owners", ["owner_id"])
    op.create_table(
        "access_log",
        sa.Column("id", sa.String(36), primary_key=True),
        _at("at"),
        _org("reader_id", "access_log"),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("api_key_id", sa.String(36)),
        sa.Column("passport_id", sa.String(36)),
        _org("manufacturer_id", "access_log", nullable=True),
        sa.Column("view", sa.String(32), nullable=False),
        sa.Column("basis", sa.String(40), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("grant_id", sa.String(36)),
        sa.Column("passports", sa.Integer, nullable=False),
    )
    op.create_index("ix_access_log_manufacturer_id_at", "access_log", ["manufacturer_id", "at"])
    op.create_index("ix_access_log_passport_id_at", "access_log", ["passport_id", "at"])
    op.create_index("ix_access_log_at", "access_log", ["at"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.String(36), primary_key=True),
        _at("at"),
        sa.Column("actor", sa.String(64)),
        sa.Column("role", sa.String(32)),
        sa.Column("api_key_id", sa.String(36)),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("details", sa.Text, nullable=False),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_subject", "audit_log", ["subject"])
    if op.get_bind().dialect.name == "postgresql":
        # row triggers do not fire on TRUNCATE: refuse it too, so no statement wipes the signed history
        op.execute("CREATE TRIGGER passport_versions_no_truncate BEFORE TRUNCATE ON passport_versions "
                   "FOR EACH STATEMENT EXECUTE FUNCTION passport_refuse_change()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS passport_versions_no_truncate ON passport_versions")
    for table in ("audit_log", "access_log", "passport_owners", "access_requests", "grants", "organisation_purposes"):
        op.drop_table(table)
