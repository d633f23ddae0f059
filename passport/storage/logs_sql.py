"""SQL of the access log (every read of non-public data, and every aggregate) and the audit log (every write and
authentication failure). Mixed into :class:`~passport.storage.sql.SqlStore`."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, delete, insert, select

from passport.storage.access_records import AccessEntry, AuditEntry
from passport.storage.access_tables import access_log, audit_log
from passport.storage.org_refs import org_id, slug_of


class LogsSqlMixin:
    engine: Engine

    if TYPE_CHECKING:  # what the other parts of SqlStore provide (a body here would shadow them in the MRO)
        def _organisation_id(self, connection: Connection, slug: str) -> int: ...  # provided by SqlStore

    # --- access log ----------------------------------------------------------------------------------------------

    def log_access(self, entries: Sequence[AccessEntry]) -> None:
        if not entries:
            return
        with self.engine.begin() as connection:
            ids = {
                slug: self._organisation_id(connection, slug)
                for slug in {e.reader for e in entries} | {e.manufacturer for e in entries if e.manufacturer}
            }
            connection.execute(
                insert(access_log),
                [
                    {
                        "id": e.entry_id,
                        "at": e.at,
                        "reader_id": ids[e.reader],
                        "role": e.role,
                        "api_key_id": e.api_key_id,
                        "passport_id": e.passport_id,
                        "manufacturer_id": ids[e.manufacturer] if e.manufacturer else None,
                        "view": e.view,
                        "basis": e.basis,
                        "channel": e.channel,
                        "grant_id": e.grant_id,
                        "passports": e.passports,
                    }
                    for e in entries
                ],
            )

    def list_access(
        self,
        *,
        manufacturer: str | None = None,
        passport_id: str | None = None,
        reader: str | None = None,
        since: dt.datetime | None = None,
        limit: int = 1000,
        before_id: str | None = None,
    ) -> list[AccessEntry]:
        query = select(
            access_log, slug_of(access_log.c.reader_id, "reader"), slug_of(access_log.c.manufacturer_id, "manufacturer")
        )
        if manufacturer is not None:
            query = query.where(access_log.c.manufacturer_id == org_id(manufacturer))
        if passport_id is not None:
            query = query.where(access_log.c.passport_id == passport_id)
        if reader is not None:
            query = query.where(access_log.c.reader_id == org_id(reader))
        if since is not None:
            query = query.where(access_log.c.at >= since)
        if before_id is not None:
            query = query.where(access_log.c.id < before_id)
        with self.engine.connect() as connection:
            rows = connection.execute(query.order_by(access_log.c.id.desc()).limit(limit)).mappings()
            return [
                AccessEntry(
                    r["id"],
                    r["at"],
                    r["reader"],
                    r["role"],
                    r["api_key_id"],
                    r["passport_id"],
                    r["manufacturer"],
                    r["view"],
                    r["basis"],
                    r["channel"],
                    r["grant_id"],
                    r["passports"],
                )
                for r in rows
            ]

    def prune_access(self, before: dt.datetime) -> int:
        with self.engine.begin() as connection:
            return int(connection.execute(delete(access_log).where(access_log.c.at < before)).rowcount)

    # --- audit log -----------------------------------------------------------------------------------------------

    def audit(self, entry: AuditEntry) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                insert(audit_log).values(
                    id=entry.entry_id,
                    at=entry.at,
                    actor=entry.actor,
                    role=entry.role,
                    api_key_id=entry.api_key_id,
                    action=entry.action,
                    subject=entry.subject[:200],
                    details=json.dumps(dict(entry.details), separators=(",", ":"), default=str),
                )
            )

    def list_audit(
        self,
        *,
        subject: str | None = None,
        actor: str | None = None,
        since: dt.datetime | None = None,
        limit: int = 1000,
    ) -> list[AuditEntry]:
        query = select(audit_log)
        if subject is not None:
            query = query.where(audit_log.c.subject == subject)
        if actor is not None:
            query = query.where(audit_log.c.actor == actor)
        if since is not None:
            query = query.where(audit_log.c.at >= since)
        with self.engine.connect() as connection:
            rows = connection.execute(query.order_by(audit_log.c.id.desc()).limit(limit)).mappings()
            return [
                AuditEntry(
                    r["id"],
                    r["at"],
                    r["actor"],
                    r["role"],
                    r["api_key_id"],
                    r["action"],
                    r["subject"],
                    json.loads(r["details"]),
                )
                for r in rows
            ]


__all__ = ["LogsSqlMixin"]
