"""SQL of scoped access: purposes, grants, requests, owners, and the scope of what a caller may aggregate (the
access log and the audit log are in logs_sql.py)."""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, RowMapping, delete, func, insert, or_, select, update

from passport.errors import Conflict, NotFound
from passport.storage.access_records import (
    AccessRequestRecord,
    AccessScope,
    GrantRecord,
    RestoredExtras,
)
from passport.storage.access_tables import (
    access_requests,
    audit_log,
    grants,
    organisation_purposes,
    passport_owners,
)
from passport.storage.org_refs import org_id, slug_of
from passport.storage.tables import organisations, passports


class AccessSqlMixin:
    engine: Engine

    if TYPE_CHECKING:  # what the other parts of SqlStore provide (a body here would shadow them in the MRO)
        def _organisation_id(self, connection: Connection, slug: str) -> int: ...  # provided by SqlStore

    # --- purposes ------------------------------------------------------------------------------------------------

    def set_purpose(self, organisation: str, purpose: str, status: str, at: dt.datetime) -> None:
        with self.engine.begin() as connection:
            org = self._organisation_id(connection, organisation)
            changed = connection.execute(
                update(organisation_purposes)
                .where(organisation_purposes.c.organisation_id == org, organisation_purposes.c.purpose == purpose)
                .values(status=status, decided_at=None if status == "requested" else at)
            )
            if changed.rowcount == 0:
                connection.execute(
                    insert(organisation_purposes).values(
                        organisation_id=org,
                        purpose=purpose,
                        status=status,
                        requested_at=at,
                        decided_at=None if status == "requested" else at,
                    )
                )

    def list_purposes(self, organisation: str | None = None) -> list[dict[str, Any]]:
        query = select(organisation_purposes, slug_of(organisation_purposes.c.organisation_id, "organisation"))
        if organisation is not None:
            query = query.where(organisation_purposes.c.organisation_id == org_id(organisation))
        with self.engine.connect() as connection:
            rows = connection.execute(
                query.order_by(organisation_purposes.c.organisation_id, organisation_purposes.c.purpose)
            ).mappings()
            return [
                {
                    "organisation": r["organisation"],
                    "purpose": r["purpose"],
                    "status": r["status"],
                    "requested_at": r["requested_at"],
                    "decided_at": r["decided_at"],
                }
                for r in rows
            ]

    # --- grants --------------------------------------------------------------------------------------------------

    def add_grant(self, grant: GrantRecord) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                insert(grants).values(
                    id=grant.grant_id,
                    grantee_id=self._organisation_id(connection, grant.grantee),
                    grantor_id=self._organisation_id(connection, grant.grantor),
                    scope_kind=grant.scope_kind,
                    scope_value=grant.scope_value,
                    purpose=grant.purpose,
                    created_at=grant.created_at,
                    expires_at=grant.expires_at,
                    revoked_at=grant.revoked_at,
                    request_id=grant.request_id,
                )
            )

    def _grant_query(self) -> Any:
        return select(grants, slug_of(grants.c.grantee_id, "grantee"), slug_of(grants.c.grantor_id, "grantor"))

    def get_grant(self, grant_id: str) -> GrantRecord:
        with self.engine.connect() as connection:
            row = connection.execute(self._grant_query().where(grants.c.id == grant_id)).mappings().first()
        if row is None:
            raise NotFound(f"no grant {grant_id}")
        return _grant(row)

    def list_grants(self, *, grantee: str | None = None, grantor: str | None = None) -> list[GrantRecord]:
        query = self._grant_query()
        if grantee is not None:
            query = query.where(grants.c.grantee_id == org_id(grantee))
        if grantor is not None:
            query = query.where(grants.c.grantor_id == org_id(grantor))
        with self.engine.connect() as connection:
            return [_grant(row) for row in connection.execute(query.order_by(grants.c.created_at)).mappings()]

    def revoke_grant(self, grant_id: str, at: dt.datetime) -> None:
        with self.engine.begin() as connection:
            done = connection.execute(
                update(grants).where(grants.c.id == grant_id, grants.c.revoked_at.is_(None)).values(revoked_at=at)
            )
        if done.rowcount != 1:
            raise NotFound(f"no active grant {grant_id}")

    # --- access requests -----------------------------------------------------------------------------------------

    def add_request(self, request: AccessRequestRecord) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                insert(access_requests).values(
                    id=request.request_id,
                    requester_id=self._organisation_id(connection, request.requester),
                    approver_id=self._organisation_id(connection, request.approver),
                    scope_kind=request.scope_kind,
                    scope_value=request.scope_value,
                    purpose=request.purpose,
                    justification=request.justification,
                    status=request.status,
                    created_at=request.created_at,
                    decided_at=request.decided_at,
                    grant_id=request.grant_id,
                    reason=request.reason,
                )
            )

    def _request_query(self) -> Any:
        return select(
            access_requests,
            slug_of(access_requests.c.requester_id, "requester"),
            slug_of(access_requests.c.approver_id, "approver"),
        )

    def get_request(self, request_id: str) -> AccessRequestRecord:
        with self.engine.connect() as connection:
            row = connection.execute(self._request_query().where(access_requests.c.id == request_id)).mappings().first()
        if row is None:
            raise NotFound(f"no access request {request_id}")
        return _request(row)

    def list_requests(
        self, *, requester: str | None = None, approver: str | None = None, status: str | None = None
    ) -> list[AccessRequestRecord]:
        query = self._request_query()
        if requester is not None:
            query = query.where(access_requests.c.requester_id == org_id(requester))
        if approver is not None:
            query = query.where(access_requests.c.approver_id == org_id(approver))
        if status is not None:
            query = query.where(access_requests.c.status == status)
        with self.engine.connect() as connection:
            return [_request(r) for r in connection.execute(query.order_by(access_requests.c.created_at)).mappings()]

    def decide_request(
        self, request_id: str, status: str, at: dt.datetime, grant: GrantRecord | None, reason: str | None
    ) -> None:
        """Approve (with the grant it creates, in the same transaction) or refuse a pending request."""
        with self.engine.begin() as connection:
            done = connection.execute(
                update(access_requests)
                .where(access_requests.c.id == request_id, access_requests.c.status == "pending")
                .values(status=status, decided_at=at, grant_id=grant.grant_id if grant else None, reason=reason)
            )
            if done.rowcount != 1:
                raise Conflict(f"access request {request_id} is not pending")
            if grant is not None:
                connection.execute(
                    insert(grants).values(
                        id=grant.grant_id,
                        grantee_id=self._organisation_id(connection, grant.grantee),
                        grantor_id=self._organisation_id(connection, grant.grantor),
                        scope_kind=grant.scope_kind,
                        scope_value=grant.scope_value,
                        purpose=grant.purpose,
                        created_at=grant.created_at,
                        expires_at=grant.expires_at,
                        request_id=grant.request_id,
                    )
                )

    # --- owners --------------------------------------------------------------------------------------------------

    def set_owner(self, passport_id: str, owner: str | None, registered_by: str, at: dt.datetime) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(passport_owners).where(passport_owners.c.passport_id == passport_id))
            if owner is not None:
                connection.execute(
                    insert(passport_owners).values(
                        passport_id=passport_id,
                        owner_id=self._organisation_id(connection, owner),
                        registered_by_id=self._organisation_id(connection, registered_by),
                        registered_at=at,
                    )
                )

    def owner_of(self, passport_id: str) -> str | None:
        query = select(slug_of(passport_owners.c.owner_id, "owner")).where(passport_owners.c.passport_id == passport_id)
        with self.engine.connect() as connection:
            return connection.execute(query).scalar()

    def owned_passports(self, owner: str) -> frozenset[str]:
        query = select(passport_owners.c.passport_id).where(passport_owners.c.owner_id == org_id(owner))
        with self.engine.connect() as connection:
            return frozenset(row[0] for row in connection.execute(query))

    def list_owners(self) -> list[dict[str, Any]]:
        query = select(
            passport_owners.c.passport_id,
            passport_owners.c.registered_at,
            slug_of(passport_owners.c.owner_id, "owner"),
            slug_of(passport_owners.c.registered_by_id, "by"),
        )
        with self.engine.connect() as connection:
            return [dict(row) for row in connection.execute(query).mappings()]


def write_extras(connection: Connection, extras: RestoredExtras, ids: dict[str, int]) -> None:
    """Restore: models, purposes, grants, requests, owners and audit entries, on the restore's connection."""
    from passport.storage.api_tables import battery_model_versions, battery_models

    for model, versions in extras.models:
        connection.execute(insert(battery_models).values(
            id=model.model_id, organisation_id=ids[model.organisation], gtin=model.gtin,
            model_identifier=model.model_identifier, current_version=model.current_version,
            created_at=model.created_at, updated_at=model.updated_at))
        for version in versions:
            connection.execute(insert(battery_model_versions).values(
                model_id=version.model_id, version=version.version, created_at=version.created_at,
                document=json.dumps(version.document, separators=(",", ":"), ensure_ascii=False)))
    for purpose in extras.purposes:
        connection.execute(insert(organisation_purposes).values(
            organisation_id=ids[purpose["organisation"]], purpose=purpose["purpose"], status=purpose["status"],
            requested_at=purpose["requested_at"], decided_at=purpose["decided_at"]))
    for grant in extras.grants:
        connection.execute(insert(grants).values(
            id=grant.grant_id, grantee_id=ids[grant.grantee], grantor_id=ids[grant.grantor],
            scope_kind=grant.scope_kind, scope_value=grant.scope_value, purpose=grant.purpose,
            created_at=grant.created_at, expires_at=grant.expires_at, revoked_at=grant.revoked_at,
            request_id=grant.request_id))
    for request in extras.requests:
        connection.execute(insert(access_requests).values(
            id=request.request_id, requester_id=ids[request.requester], approver_id=ids[request.approver],
            scope_kind=request.scope_kind, scope_value=request.scope_value, purpose=request.purpose,
            justification=request.justification, status=request.status, created_at=request.created_at,
            decided_at=request.decided_at, grant_id=request.grant_id, reason=request.reason))
    for owner in extras.owners:
        connection.execute(insert(passport_owners).values(
            passport_id=owner["passport_id"], owner_id=ids[owner["owner"]], registered_by_id=ids[owner["by"]],
            registered_at=owner["registered_at"]))
    for entry in extras.audit:
        connection.execute(insert(audit_log).values(
            id=entry.entry_id, at=entry.at, actor=entry.actor, role=entry.role, api_key_id=entry.api_key_id,
            action=entry.action, subject=entry.subject,
            details=json.dumps(dict(entry.details), separators=(",", ":"), default=str)))


def scope_condition(scope: AccessScope, holder: Any = None, passport_id: Any = None, model_id: Any = None,
                    organisation_id: Any = None) -> Any:
    """SQL: the passports ``scope`` covers, a condition on ``passports`` or, given its columns (the recorded holder,
    the passport id when the scope names passports, the model, the responsible operator), on another table."""
    c = passports.c
    organisation_id = c.organisation_id if organisation_id is None else organisation_id
    organisation = org_id(scope.organisation)
    parts: list[Any] = [organisation_id == organisation,
                        (c.holder_organisation_id if holder is None else holder) == organisation]
    if scope.passport_ids:
        parts.append((c.id if passport_id is None else passport_id).in_(sorted(scope.passport_ids)))
    if scope.model_ids:
        parts.append((c.model_id if model_id is None else model_id).in_(sorted(scope.model_ids)))
    if scope.manufacturers:
        parts.append(
            organisation_id.in_(
                select(organisations.c.id).where(organisations.c.slug.in_(sorted(scope.manufacturers)))
            )
        )
    return or_(*parts)


def _grant(row: RowMapping) -> GrantRecord:
    return GrantRecord(
        row["id"],
        row["grantee"],
        row["grantor"],
        row["scope_kind"],
        row["scope_value"],
        row["purpose"],
        row["created_at"],
        row["expires_at"],
        row["revoked_at"],
        row["request_id"],
    )


def _request(row: RowMapping) -> AccessRequestRecord:
    return AccessRequestRecord(
        row["id"],
        row["requester"],
        row["approver"],
        row["scope_kind"],
        row["scope_value"],
        row["purpose"],
        row["justification"],
        row["status"],
        row["created_at"],
        row["decided_at"],
        row["grant_id"],
        row["reason"],
    )


def count_in_scope(engine: Engine, scope: AccessScope) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(select(func.count()).select_from(passports).where(scope_condition(scope))).scalar_one()
        )


__all__ = ["AccessSqlMixin", "count_in_scope", "scope_condition", "write_extras"]
