"""The wire form (camelCase JSON) of grants, access requests, access-log and audit-log entries: one rendering for
the API, the console and the CLI, outside the web layer so that the CLI needs no web framework."""

from __future__ import annotations

import datetime as dt
from typing import Any

from passport.clock import rfc3339
from passport.storage import AccessEntry, AccessRequestRecord, AuditEntry, GrantRecord


def grant_json(record: GrantRecord, now: dt.datetime) -> dict[str, Any]:
    return {
        "id": record.grant_id,
        "grantee": record.grantee,
        "grantor": record.grantor,
        "scope": {"kind": record.scope_kind, "id": record.scope_value},
        "purpose": record.purpose,
        "createdAt": rfc3339(record.created_at),
        "expiresAt": rfc3339(record.expires_at),
        "revokedAt": rfc3339(record.revoked_at) if record.revoked_at else None,
        "active": record.active(now),
        "requestId": record.request_id,
    }


def request_json(record: AccessRequestRecord) -> dict[str, Any]:
    return {
        "id": record.request_id,
        "requester": record.requester,
        "approver": record.approver,
        "scope": {"kind": record.scope_kind, "id": record.scope_value},
        "purpose": record.purpose,
        "justification": record.justification,
        "status": record.status,
        "createdAt": rfc3339(record.created_at),
        "decidedAt": rfc3339(record.decided_at) if record.decided_at else None,
        "grantId": record.grant_id,
        "reason": record.reason,
    }


def access_json(entry: AccessEntry) -> dict[str, Any]:
    return {
        "id": entry.entry_id,
        "at": rfc3339(entry.at),
        "reader": entry.reader,
        "role": entry.role,
        "apiKeyId": entry.api_key_id,
        "passportId": f"urn:uuid:{entry.passport_id}" if entry.passport_id else None,
        "manufacturer": entry.manufacturer,
        "view": entry.view,
        "basis": entry.basis,
        "channel": entry.channel,
        "grantId": entry.grant_id,
        "passports": entry.passports,
    }


def audit_json(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.entry_id,
        "at": rfc3339(entry.at),
        "actor": entry.actor,
        "role": entry.role,
        "apiKeyId": entry.api_key_id,
        "action": entry.action,
        "subject": entry.subject,
        "details": dict(entry.details),
    }


__all__ = ["access_json", "audit_json", "grant_json", "request_json"]
