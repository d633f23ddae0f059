"""The resolver's hot read: a battery's current public credential by GTIN and serial, in one indexed SELECT that
reads only the public column, through one DB-API connection kept by the process (no pool checkout, no liveness
ping, no ORM rows: on PostgreSQL a statement psycopg prepares after a few runs). Scanning a QR code is the most
frequent request the service answers; everything else goes through the store.

Reads go to the read replica when ``PASSPORT_DATABASE_READ_URL`` names one. A connection that fails is dropped and
made again on the next call; the caller answers that request by the ordinary path (which reports the outage)."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import make_url

_SELECT = ("SELECT p.id, p.current_version, p.ceased{bytes} FROM passports p JOIN passport_versions v "
           "ON v.passport_id = p.id AND v.version = p.current_version WHERE p.gtin = {mark} AND p.serial = {mark}")
CONNECT_TIMEOUT = 5


@dataclass(frozen=True)
class PublicCurrent:
    passport_id: str
    version: int
    ceased: bool
    credential: bytes  # the public credential's stored bytes (empty when not asked for)


class PublicReader:
    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self.backend = parsed.get_backend_name()
        if self.backend == "sqlite":
            if not parsed.database or parsed.database == ":memory:":
                raise ValueError("an in-memory SQLite database is private to its connection")
            self._target = parsed.database
            mark = "?"
        else:
            query = dict(parsed.query)
            query.setdefault("connect_timeout", str(CONNECT_TIMEOUT))
            self._target = parsed.set(drivername="postgresql", query=query).render_as_string(hide_password=False)
            mark = "%s"
        self._with_bytes = _SELECT.format(bytes=", v.credential_public", mark=mark)
        self._without_bytes = _SELECT.format(bytes="", mark=mark)
        self._connection: Any = None
        self._lock = threading.Lock()

    def _connect(self) -> Any:
        if self.backend == "sqlite":
            return sqlite3.connect(self._target, check_same_thread=False)
        import psycopg

        return psycopg.connect(self._target, autocommit=True)

    def current(self, gtin: str, serial: str, *, with_credential: bool = True) -> PublicCurrent | None:
        """The current version of the battery's passport (None: no such battery). Raises the driver's error when
        the database cannot answer, after dropping the connection."""
        with self._lock:
            try:
                if self._connection is None:
                    self._connection = self._connect()
                row = self._connection.execute(self._with_bytes if with_credential else self._without_bytes,
                                               (gtin, serial)).fetchone()
            except Exception:
                self.close()
                raise
        if row is None:
            return None
        return PublicCurrent(str(row[0]), int(row[1]), bool(row[2]), bytes(row[3]) if with_credential else b"")

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):  # closing a broken connection may fail too; it is dropped anyway
                connection.close()


__all__ = ["PublicCurrent", "PublicReader"]
