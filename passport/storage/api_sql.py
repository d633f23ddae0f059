"""SQL for the HTTP API's data: organisations with their first key, API keys, battery models, jobs, imports and
passport search. Mixed into :class:`~passport.storage.sql.SqlStore`, which provides ``engine`` and
``_organisation_id``."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, and_, bindparam, delete, insert, select, tuple_, update
from sqlalchemy.exc import IntegrityError

from passport.errors import Conflict, NotFound
from passport.storage.access_sql import scope_condition
from passport.storage.api_records import (
    ApiKeyRecord,
    ImportRecord,
    ImportResult,
    JobRecord,
    ModelRecord,
    ModelVersion,
    SearchQuery,
)
from passport.storage.api_tables import (
    api_keys,
    battery_model_versions,
    battery_models,
    console_sessions,
    import_results,
    imports,
    jobs,
)
from passport.storage.records import KeyRecord, Organisation, PassportRecord, VersionRecord
from passport.storage.tables import UtcDateTime, organisations, passport_versions, passports


class ApiSqlMixin:
    engine: Engine

    def _organisation_id(self, connection: Connection, slug: str) -> int:
        raise NotImplementedError  # provided by SqlStore

    def _insert_key(self, connection: Connection, key: KeyRecord) -> None:
        raise NotImplementedError  # provided by SqlStore

    def _append_many(
        self, connection: Connection, items: Sequence[tuple[PassportRecord, VersionRecord, int | None]]
    ) -> None:
        raise NotImplementedError  # provided by SqlStore

    # --- organisations (created with their first signing key) ---------------------------------------------------

    def register_organisation(self, organisation: Organisation, key: KeyRecord) -> Organisation:
        """The organisation and its first signing key in one transaction: never an organisation that cannot sign."""
        try:
            with self.engine.begin() as connection:
                connection.execute(insert(organisations).values(
                    slug=organisation.slug, name=organisation.name, created_at=organisation.created_at))
                self._insert_key(connection, key)
        except IntegrityError:
            raise Conflict(f"organisation {organisation.slug!r} already exists") from None
        return organisation

    # --- API keys ---------------------------------------------------------------------------------------------

    def add_api_key(self, key: ApiKeyRecord) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                insert(api_keys).values(
                    id=key.key_id,
                    organisation_id=self._organisation_id(connection, key.organisation),
                    role=key.role,
                    label=key.label,
                    key_hash=key.key_hash,
                    prefix=key.prefix,
                    created_at=key.created_at,
                    expires_at=key.expires_at,
                    scopes=json.dumps(list(key.scopes)),
                )
            )

    def find_api_key(self, key_hash: str) -> ApiKeyRecord | None:
        query = select(api_keys, organisations.c.slug).join(organisations).where(api_keys.c.key_hash == key_hash)
        with self.engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        return _api_key(row) if row else None

    def list_api_keys(self, organisation: str | None = None) -> list[ApiKeyRecord]:
        query = select(api_keys, organisations.c.slug).join(organisations).order_by(api_keys.c.created_at)
        if organisation is not None:
            query = query.where(organisations.c.slug == organisation)
        with self.engine.connect() as connection:
            return [_api_key(row) for row in connection.execute(query).mappings()]

    def touch_api_key(self, key_id: str, at: dt.datetime) -> None:
        with self.engine.begin() as connection:
            connection.execute(update(api_keys).where(api_keys.c.id == key_id).values(last_used_at=at))

    def revoke_api_key(self, key_id: str, at: dt.datetime) -> None:
        with self.engine.begin() as connection:
            done = connection.execute(
                update(api_keys).where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None)).values(revoked_at=at)
            )
        if done.rowcount != 1:
            raise NotFound(f"no active API key {key_id}")

    def api_key_by_id(self, key_id: str) -> ApiKeyRecord | None:
        query = select(api_keys, organisations.c.slug).join(organisations).where(api_keys.c.id == key_id)
        with self.engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        return _api_key(row) if row else None

    # --- console sessions ----------------------------------------------------------------------------------------

    def create_session(self, id_hash: str, api_key_id: str, csrf: str, now: dt.datetime, expires: dt.datetime) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(console_sessions).where(console_sessions.c.expires_at < now))
            connection.execute(
                insert(console_sessions).values(
                    id_hash=id_hash, api_key_id=api_key_id, csrf=csrf, created_at=now, expires_at=expires
                )
            )

    def find_session(self, id_hash: str, now: dt.datetime) -> tuple[str, str] | None:
        """(API key id, CSRF token) of a live session."""
        query = select(console_sessions.c.api_key_id, console_sessions.c.csrf).where(
            console_sessions.c.id_hash == id_hash, console_sessions.c.expires_at > now
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        return (row[0], row[1]) if row else None

    def delete_session(self, id_hash: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(console_sessions).where(console_sessions.c.id_hash == id_hash))

    # --- battery models ------------------------------------------------------------------------------------------

    def add_model_version(self, model: ModelRecord, version: ModelVersion, expected_previous: int | None) -> None:
        try:
            with self.engine.begin() as connection:
                values = {
                    "gtin": model.gtin,
                    "model_identifier": model.model_identifier,
                    "current_version": model.current_version,
                    "updated_at": model.updated_at,
                }
                if expected_previous is None:
                    connection.execute(
                        insert(battery_models).values(
                            id=model.model_id,
                            organisation_id=self._organisation_id(connection, model.organisation),
                            created_at=model.created_at,
                            **values,
                        )
                    )
                else:
                    moved = connection.execute(
                        update(battery_models)
                        .where(
                            battery_models.c.id == model.model_id, battery_models.c.current_version == expected_previous
                        )
                        .values(**values)
                    )
                    if moved.rowcount != 1:
                        from passport.errors import VersionConflict

                        raise VersionConflict(f"battery model {model.model_id} changed concurrently")
                connection.execute(
                    insert(battery_model_versions).values(
                        model_id=version.model_id,
                        version=version.version,
                        created_at=version.created_at,
                        document=json.dumps(version.document, separators=(",", ":"), ensure_ascii=False),
                    )
                )
        except IntegrityError:
            raise Conflict(f"{model.organisation} already has a battery model with GTIN {model.gtin}") from None

    def get_model(self, model_id: str) -> ModelRecord:
        query = select(battery_models, organisations.c.slug).join(organisations).where(battery_models.c.id == model_id)
        with self.engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        if row is None:
            raise NotFound(f"no battery model {model_id}")
        return _model(row)

    def list_models(self, organisation: str | None = None) -> list[ModelRecord]:
        query = select(battery_models, organisations.c.slug).join(organisations).order_by(battery_models.c.created_at)
        if organisation is not None:
            query = query.where(organisations.c.slug == organisation)
        with self.engine.connect() as connection:
            return [_model(row) for row in connection.execute(query).mappings()]

    def get_model_version(self, model_id: str, version: int | None = None) -> ModelVersion:
        model = self.get_model(model_id)
        number = version or model.current_version
        query = select(battery_model_versions).where(
            battery_model_versions.c.model_id == model_id, battery_model_versions.c.version == number
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        if row is None:
            raise NotFound(f"no version {number} of battery model {model_id}")
        return ModelVersion(row["model_id"], row["version"], json.loads(row["document"]), row["created_at"])

    def model_links(self) -> dict[str, tuple[str, int]]:
        """Every passport built from a battery model: passport id -> (model id, model version). For exports."""
        query = select(passports.c.id, passports.c.model_id, passports.c.model_version).where(
            passports.c.model_id.is_not(None))
        with self.engine.connect() as connection:
            return {row[0]: (row[1], int(row[2])) for row in connection.execute(query)}

    def passports_of_model(self, model_id: str, below_version: int) -> list[str]:
        """Passports referencing an older version of a model (what a re-issue job must update)."""
        query = (
            select(passports.c.id)
            .where(
                passports.c.model_id == model_id,
                passports.c.model_version < below_version,
                passports.c.ceased.is_(False),
            )
            .order_by(passports.c.id)
        )
        with self.engine.connect() as connection:
            return [row[0] for row in connection.execute(query)]

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

    # --- public reads -------------------------------------------------------------------------------------------

    def version_dates(self, passport_id: str) -> list[tuple[int, dt.datetime]]:
        """(version, time) of every version, without the credentials: the history of a public page."""
        query = (
            select(passport_versions.c.version, passport_versions.c.created_at)
            .where(passport_versions.c.passport_id == passport_id)
            .order_by(passport_versions.c.version)
        )
        with self.engine.connect() as connection:
            return [(row[0], row[1]) for row in connection.execute(query)]

    # --- search ------------------------------------------------------------------------------------------------

    def search(self, query: SearchQuery, views: Sequence[str]) -> list[tuple[PassportRecord, dict[str, bytes]]]:
        """One page of passports matching ``query``, ordered by id (UUID v7: issue time), or by update time and id
        for a search by update time, each with the current version's credentials of ``views``."""
        from passport.storage.sql import holder_slug

        columns = [passport_versions.c[f"credential_{view}"].label(f"credential_{view}") for view in views]
        statement = (
            select(passports, organisations.c.slug, holder_slug(), *columns)
            .join(organisations, organisations.c.id == passports.c.organisation_id)
            .join(
                passport_versions,
                and_(
                    passport_versions.c.passport_id == passports.c.id,
                    passport_versions.c.version == passports.c.current_version,
                ),
            )
            .where(*_conditions(query))
            .order_by(*((passports.c.updated_at, passports.c.id) if query.by_update else (passports.c.id,)))
            .limit(query.limit)
        )
        with self.engine.connect() as connection:
            rows = connection.execute(statement).mappings().all()
        from passport.storage.sql import _passport

        return [(_passport(row), {view: bytes(row[f"credential_{view}"]) for view in views}) for row in rows]


def _conditions(query: SearchQuery) -> list[Any]:
    c = passports.c
    conditions: list[Any] = []
    equal = {
        "gtin": query.gtin,
        "serial": query.serial,
        "model_id": query.model_id,
        "category": query.category,
        "chemistry": query.chemistry,
        "status": query.status,
    }
    conditions += [c[name] == value for name, value in equal.items() if value is not None]
    if query.organisation is not None:
        conditions.append(organisations.c.slug == query.organisation)
    if query.holder is not None:
        holder = select(organisations.c.id).where(organisations.c.slug == query.holder).scalar_subquery()
        conditions.append(c.holder_organisation_id == holder)
    if query.updated_since is not None:
        conditions.append(c.updated_at >= query.updated_since)
    if query.updated_before is not None:
        conditions.append(c.updated_at < query.updated_before)
    if not query.include_ceased:
        conditions.append(c.ceased.is_(False))
    if query.after is not None and query.after_updated is not None:
        # a row comparison, which the (updated_at, id) index answers as a range on both engines
        conditions.append(tuple_(c.updated_at, c.id) > tuple_(
            bindparam(None, query.after_updated, UtcDateTime()), query.after))
    elif query.after is not None:
        conditions.append(c.id > query.after)
    if query.passport_ids is not None:
        conditions.append(c.id.in_(query.passport_ids))
    if query.scope is not None:
        conditions.append(scope_condition(query.scope))
    return conditions


def _api_key(row: RowMapping) -> ApiKeyRecord:
    return ApiKeyRecord(
        row["id"],
        row["slug"],
        row["role"],
        row["label"],
        row["key_hash"],
        row["prefix"],
        row["created_at"],
        row["revoked_at"],
        row["last_used_at"],
        row["expires_at"],
        tuple(json.loads(row["scopes"] or "[]")),
    )


def _model(row: RowMapping) -> ModelRecord:
    return ModelRecord(
        row["id"],
        row["slug"],
        row["gtin"],
        row["model_identifier"],
        row["current_version"],
        row["created_at"],
        row["updated_at"],
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


__all__ = ["ApiSqlMixin"]
