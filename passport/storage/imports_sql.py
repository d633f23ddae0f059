"""SQL of background jobs and bulk imports: job records, import records with their idempotency key and heartbeat,
and each batch of lines appended in one transaction with its per-line results. Mixed into
:class:`~passport.storage.sql.SqlStore`."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, RowMapping, insert, select, update
from sqlalchemy.exc import IntegrityError

from passport.errors import Conflict, NotFound
from passport.storage.api_records import ImportRecord, ImportResult, JobRecord
from passport.storage.api_tables import import_results, imports, jobs
from passport.storage.records import PassportRecord, VersionRecord
from passport.storage.tables import organisations


class ImportsSqlMixin:
    engine: Engine

    if TYPE_CHECKING:  # what the other parts of SqlStore provide (a body here would shadow them in the MRO)
        def _organisation_id(self, connection: Connection, slug: str) -> int: ...  # provided by SqlStore

        def _append_many(  # provided by AppendSqlMixin
            self, connection: Connection, items: Sequence[tuple[PassportRecord, VersionRecord, int | None]]
        ) -> None: ...

    # --- jobs ----------------------------------------------------------------------------------------------------

    def save_job(self, job: JobRecord) -> None:
        values = {
            "kind": job.kind,
            "subject": job.subject,
            "status": job.status,
            "updated_at": job.updated_at,
            "report": json.dumps(list(job.report), separators=(",", ":")),
        }
        with self.engine.begin() as connection:
            changed = connection.execute(update(jobs).where(jobs.c.id == job.job_id).values(**values))
            if changed.rowcount == 0:
                connection.execute(
                    insert(jobs).values(
                        id=job.job_id,
                        organisation_id=self._organisation_id(connection, job.organisation),
                        created_at=job.created_at,
                        **values,
                    )
                )

    def get_job(self, job_id: str) -> JobRecord:
        query = select(jobs, organisations.c.slug).join(organisations).where(jobs.c.id == job_id)
        with self.engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        if row is None:
            raise NotFound(f"no job {job_id}")
        return JobRecord(
            row["id"],
            row["slug"],
            row["kind"],
            row["subject"],
            row["status"],
            row["created_at"],
            row["updated_at"],
            tuple(json.loads(row["report"])),
        )

    def unfinished_jobs(self) -> list[str]:
        with self.engine.connect() as connection:
            return [
                r[0] for r in connection.execute(select(jobs.c.id).where(jobs.c.status.in_(("pending", "running"))))
            ]

    # --- bulk imports ------------------------------------------------------------------------------------------

    def find_import(self, organisation: str, idempotency_key: str) -> ImportRecord | None:
        query = (
            select(imports, organisations.c.slug)
            .join(organisations)
            .where(organisations.c.slug == organisation, imports.c.idempotency_key == idempotency_key)
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        return _import(row) if row else None

    def get_import(self, import_id: str) -> ImportRecord:
        query = select(imports, organisations.c.slug).join(organisations).where(imports.c.id == import_id)
        with self.engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        if row is None:
            raise NotFound(f"no import {import_id}")
        return _import(row)

    def start_import(self, record: ImportRecord) -> None:
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    insert(imports).values(
                        id=record.import_id,
                        organisation_id=self._organisation_id(connection, record.organisation),
                        idempotency_key=record.idempotency_key,
                        request_hash=record.request_hash,
                        status=record.status,
                        created_at=record.created_at,
                        heartbeat_at=record.heartbeat_at,
                        lines=0,
                        succeeded=0,
                        failed=0,
                    )
                )
        except IntegrityError:
            raise Conflict(f"an import with Idempotency-Key {record.idempotency_key!r} already exists") from None

    def claim_import(self, import_id: str, stale_before: dt.datetime, now: dt.datetime) -> bool:
        """Take over an import whose worker stopped beating (crashed): True if this caller now owns it."""
        with self.engine.begin() as connection:
            done = connection.execute(
                update(imports)
                .where(imports.c.id == import_id, imports.c.status == "running", imports.c.heartbeat_at < stale_before)
                .values(heartbeat_at=now)
            )
            return done.rowcount == 1

    def done_lines(self, import_id: str) -> set[int]:
        with self.engine.connect() as connection:
            query = select(import_results.c.line).where(import_results.c.import_id == import_id)
            return {row[0] for row in connection.execute(query)}

    def record_import_batch(
        self,
        import_id: str,
        appends: Sequence[tuple[PassportRecord, VersionRecord, int | None]],
        results: Sequence[ImportResult],
        now: dt.datetime,
    ) -> None:
        """Append the batch's versions and record the lines' results in ONE transaction: a crash leaves both or
        neither, so a resumed import neither loses nor duplicates a line."""
        try:
            self._record_batch(import_id, appends, results, now)
        except IntegrityError:
            raise Conflict("a line of the batch conflicts with a stored passport") from None

    def _record_batch(
        self,
        import_id: str,
        appends: Sequence[tuple[PassportRecord, VersionRecord, int | None]],
        results: Sequence[ImportResult],
        now: dt.datetime,
    ) -> None:
        with self.engine.begin() as connection:
            self._append_many(connection, appends)
            if results:
                connection.execute(
                    insert(import_results),
                    [
                        {
                            "import_id": import_id,
                            "line": r.line,
                            "passport_id": r.passport_id,
                            "version": r.version,
                            "problem": json.dumps(dict(r.problem)) if r.problem is not None else None,
                        }
                        for r in results
                    ],
                )
            ok = sum(1 for r in results if r.problem is None)
            connection.execute(
                update(imports)
                .where(imports.c.id == import_id)
                .values(
                    lines=imports.c.lines + len(results),
                    succeeded=imports.c.succeeded + ok,
                    failed=imports.c.failed + len(results) - ok,
                    heartbeat_at=now,
                )
            )

    def finish_import(self, import_id: str, now: dt.datetime, request_hash: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                update(imports)
                .where(imports.c.id == import_id)
                .values(status="done", heartbeat_at=now, request_hash=request_hash)
            )

    def import_results(self, import_id: str) -> Iterator[ImportResult]:
        query = select(import_results).where(import_results.c.import_id == import_id).order_by(import_results.c.line)
        with self.engine.connect() as connection:
            for row in connection.execution_options(yield_per=1000).execute(query).mappings():
                yield ImportResult(
                    row["line"],
                    row["passport_id"],
                    row["version"],
                    json.loads(row["problem"]) if row["problem"] else None,
                )


def _import(row: RowMapping) -> ImportRecord:
    return ImportRecord(
        row["id"],
        row["slug"],
        row["idempotency_key"],
        row["request_hash"],
        row["status"],
        row["created_at"],
        row["heartbeat_at"],
        row["lines"],
        row["succeeded"],
        row["failed"],
    )


__all__ = ["ImportsSqlMixin"]
