"""SQL for the HTTP API's data: organisations with their first key, API keys, console sessions, battery models and
the public history of a passport. Mixed into :class:`~passport.storage.sql.SqlStore`, which provides ``engine`` and
``_organisation_id``; jobs and imports are in imports_sql.py, search in search_sql.py."""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, RowMapping, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from passport.errors import Conflict, NotFound
from passport.storage.api_records import (
    ApiKeyRecord,
    ModelRecord,
    ModelVersion,
)
from passport.storage.api_tables import (
    api_keys,
    battery_model_versions,
    battery_models,
    console_sessions,
)
from passport.storage.records import KeyRecord, Organisation
from passport.storage.tables import organisations, passport_versions, passports


class ApiSqlMixin:
    engine: Engine

    if TYPE_CHECKING:  # what the other parts of SqlStore provide (a body here would shadow them in the MRO)
        def _organisation_id(self, connection: Connection, slug: str) -> int: ...  # provided by SqlStore

        def _insert_key(self, connection: Connection, key: KeyRecord) -> None: ...  # provided by SqlStore

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


__all__ = ["ApiSqlMixin"]
