"""Bulk import: NDJSON or CSV, streamed line by line, validated per line, committed in batches, idempotent.

Lines are passports to issue (a complete document; ``{"modelId", "passport"}`` with item data; a CSV row with a
``modelId`` column) or events for existing passports (``{"passportId" | "gtin"+"serialNumber", "event": {…}}``).
Each batch's versions and the batch's per-line results are stored in one transaction, so an import killed at any
moment resumes, with the same Idempotency-Key, exactly where it stopped: no line lost, none duplicated."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from passport import jsonio
from passport.clock import truncate_ms, uuid7
from passport.errors import Conflict, InvalidInput, PassportError
from passport.service.apikeys import Caller
from passport.service.context import ServiceContext
from passport.service.csvimport import CsvRows
from passport.service.lifecycle import Lifecycle, parse_event
from passport.service.passports import Append, Passports, full_document, parse_passport_id
from passport.storage import ImportRecord, ImportResult, PassportRecord, VersionRecord

BATCH = 500
HEARTBEAT_TIMEOUT = dt.timedelta(seconds=60)
MAX_LINE = 1_000_000


@dataclass
class ImportSession:
    """One import being processed: what is already done, and the running hash of the request body."""

    context: ServiceContext
    caller: Caller
    record: ImportRecord
    done: set[int] = field(default_factory=set)
    digest: Any = field(default_factory=hashlib.sha256)
    resumed: bool = False
    csv: CsvRows = field(default_factory=CsvRows)

    @property
    def organisation(self) -> str:
        assert self.caller.organisation is not None
        return self.caller.organisation


def open_import(context: ServiceContext, caller: Caller, idempotency_key: str) -> tuple[ImportSession, bool]:
    """The session for ``idempotency_key``; the flag says whether the import is already complete (its report is
    then returned as it was, and nothing is processed again)."""
    if caller.organisation is None:
        raise InvalidInput("imports need an organisation")
    if not 1 <= len(idempotency_key) <= 200:
        raise InvalidInput("Idempotency-Key: 1 to 200 characters")
    now = truncate_ms(context.clock())
    existing = context.store.find_import(caller.organisation, idempotency_key)
    if existing is None:
        record = ImportRecord(str(uuid7()), caller.organisation, idempotency_key, "", "running", now, now)
        context.store.start_import(record)
        return ImportSession(context, caller, record), False
    if existing.status == "done":
        return ImportSession(context, caller, existing), True
    if not context.store.claim_import(existing.import_id, now - HEARTBEAT_TIMEOUT, now):
        raise Conflict(f"import {idempotency_key!r} is still running; retry when it has finished")
    return ImportSession(context, caller, existing, context.store.done_lines(existing.import_id), resumed=True), False


class Splitter:
    """Cuts a body arriving in chunks into numbered records: NDJSON lines (bytes), or CSV records (text; a quoted
    cell may span lines). Memory holds one chunk and one unfinished record. Blank lines are skipped but counted.

    No line and no CSV record may be longer than :data:`MAX_LINE` bytes, however the body is cut into chunks: the
    limit used to be checked only on the unfinished end of a chunk, so a line that arrived whole in one large chunk
    (an ASGI server may pass any size) was parsed whatever its size. A CSV record spanning many physical lines (a
    quoted cell with newlines) was re-joined and its quotes re-counted for every line it grew by: quadratic time,
    a few megabytes of newlines in one quoted cell held a worker for hours, and nothing bounded its size."""

    def __init__(self, session: ImportSession, kind: str) -> None:
        self.session = session
        self.kind = kind
        self.pending = b""
        self.number = 0
        self.record: list[str] = []  # CSV: physical lines of a record whose quotes are not yet balanced
        self._record_size = 0
        self._record_quotes = 0

    def feed(self, chunks: Iterable[bytes], final: bool = False) -> list[tuple[int, Any]]:
        out: list[tuple[int, Any]] = []
        for chunk in chunks:
            self.session.digest.update(chunk)
            if b"\n" not in chunk:
                self._hold(chunk)
                continue
            first, *complete, last = chunk.split(b"\n")
            self._hold(first)
            self._line(self.pending, out)
            for line in complete:
                if len(line) > MAX_LINE:
                    self._too_long()
                self._line(line, out)
            self.pending = b""
            self._hold(last)
        if final and self.pending:
            self._line(self.pending, out)
            self.pending = b""
        if final and self.record:
            raise InvalidInput(f"the CSV ends inside a quoted cell (record {self.number + 1})")
        return out

    def _hold(self, piece: bytes) -> None:
        """Keep the start of a line whose end has not arrived yet."""
        if len(self.pending) + len(piece) > MAX_LINE:
            self._too_long()
        self.pending += piece

    def _too_long(self) -> None:
        what = "line" if self.kind == "ndjson" else "CSV record"
        raise InvalidInput(f"{what} {self.number + 1} is longer than {MAX_LINE} bytes")

    def _line(self, line: bytes, out: list[tuple[int, Any]]) -> None:
        if self.kind == "ndjson":
            self.number += 1
            if line.strip():
                out.append((self.number, line))
            return
        try:
            text = line.decode("utf-8").rstrip("\r")
        except UnicodeDecodeError:
            raise InvalidInput(f"CSV record {self.number + 1} is not valid UTF-8") from None
        quotes = text.count('"')
        if self.record or quotes % 2:
            # a record whose quoted cell spans lines: its quotes are counted once per line, its parts joined once
            self._record_size += len(line) + 1
            if self._record_size > MAX_LINE:
                self._too_long()
            self.record.append(text)
            self._record_quotes += quotes
            if self._record_quotes % 2:
                return
            text = "\n".join(self.record)
            self.record, self._record_size, self._record_quotes = [], 0, 0
        if not text.strip():
            return
        self.number += 1
        if self.session.csv.header is None:
            self.session.csv.take_header(text.lstrip("\ufeff"))
        else:
            out.append((self.number, text))


class Importer:
    """Turns lines into appends and per-line results, batch by batch."""

    def __init__(self, session: ImportSession) -> None:
        self.session = session
        self.passports = Passports(session.context, reuse_signers=True)
        self.lifecycle = Lifecycle(self.passports)
        # versions prepared in the current batch, so that two lines about one passport chain correctly
        self._pending: dict[str, tuple[PassportRecord, VersionRecord]] = {}
        # ... and the passports issued in it by GTIN and serial: an event line naming a battery by GTIN and serial
        # found it only once its batch was committed, so whether it failed (404) depended on batch boundaries.
        self._pending_ids: dict[tuple[str, str], str] = {}
        self._batch: list[tuple[int, Any]] = []

    def run(self, lines: Iterable[tuple[int, Any]]) -> None:
        """Take lines; commit each time a batch is full (call :meth:`flush` at the end)."""
        for number, line in lines:
            if number in self.session.done:
                continue
            self._batch.append((number, line))
            if len(self._batch) >= BATCH:
                self.commit(self._batch)
                self._batch = []

    def flush(self) -> None:
        if self._batch:
            self.commit(self._batch)
            self._batch = []

    def commit(self, batch: list[tuple[int, Any]]) -> None:
        appends, results = self._prepare(batch)
        store, now = self.session.context.store, truncate_ms(self.session.context.clock())
        try:
            store.record_import_batch(self.session.record.import_id, appends, results, now)
        except Conflict:
            # One line clashes with stored data (a duplicate GTIN and serial, a concurrent change): take the
            # batch line by line so that only that line fails.
            self._forget()
            for item in batch:
                appends, results = self._prepare([item])
                try:
                    store.record_import_batch(self.session.record.import_id, appends, results, now)
                except Conflict as exc:
                    store.record_import_batch(self.session.record.import_id, [], [_failure(item[0], exc)], now)
                    self._forget()  # what this line prepared was not stored: later lines must not build on it
        self._forget()

    def _forget(self) -> None:
        self._pending.clear()
        self._pending_ids.clear()
        self.passports.forget_signers()

    def _prepare(self, batch: list[tuple[int, Any]]) -> tuple[list[Append], list[ImportResult]]:
        appends: list[Append] = []
        results: list[ImportResult] = []
        for number, line in batch:
            try:
                append = self._line(line)
            except PassportError as exc:
                results.append(_failure(number, exc))
                continue
            appends.append(append)
            self._pending[append[0].passport_id] = (append[0], append[1])
            self._pending_ids[(append[0].gtin, append[0].serial)] = append[0].passport_id
            results.append(ImportResult(number, append[0].passport_id, append[1].version))
        return appends, results

    def _line(self, line: Any) -> Append:
        if isinstance(line, str):
            value: Any = self.session.csv.line(line)
        else:
            value = jsonio.loads(line) if isinstance(line, bytes) else line
        if not isinstance(value, Mapping):
            raise InvalidInput("a line is a JSON object")
        if "event" in value:
            return self._event(value)
        organisation = self.session.organisation
        if "passport" in value:
            model_id = value.get("modelId")
            if model_id is not None and not isinstance(model_id, str):
                raise InvalidInput("modelId: a string")
            return self.passports.prepare_issue(organisation, _object(value["passport"]), model_id)[0]
        return self.passports.prepare_issue(organisation, value)[0]

    def _event(self, value: Mapping[str, Any]) -> Append:
        passport_id = self._target(value)
        event = parse_event(jsonio.dumps_for_validation(value["event"]))
        record, previous = self._pending.get(passport_id) or self._stored(passport_id)
        return self.lifecycle.prepare(record, previous, self.session.organisation, event)

    def _target(self, value: Mapping[str, Any]) -> str:
        if isinstance(value.get("passportId"), str):
            return parse_passport_id(value["passportId"])
        gtin, serial = value.get("gtin"), value.get("serialNumber")
        if isinstance(gtin, str) and isinstance(serial, str):
            pending = self._pending_ids.get((gtin, serial))
            return pending or self.passports.find(gtin, serial).passport_id
        raise InvalidInput("an event line names its passport: passportId, or gtin and serialNumber")

    def _stored(self, passport_id: str) -> tuple[PassportRecord, VersionRecord]:
        record = self.passports.context.store.get_passport(passport_id)
        return record, self.passports.context.store.get_version(passport_id, record.current_version)


def _object(value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidInput("passport: a JSON object")
    return value


def _failure(number: int, error: PassportError) -> ImportResult:
    problem: dict[str, Any] = {"type": f"/problems/{error.slug}", "title": error.title, "status": error.status,
                               "detail": error.detail}
    problem.update(error.extensions())
    return ImportResult(number, problem=problem)


def finish(session: ImportSession) -> ImportRecord:
    context = session.context
    context.store.finish_import(session.record.import_id, truncate_ms(context.clock()), session.digest.hexdigest())
    return context.store.get_import(session.record.import_id)


def report_head(record: ImportRecord) -> dict[str, Any]:
    return {"importId": record.import_id, "idempotencyKey": record.idempotency_key, "status": record.status,
            "lines": record.lines, "succeeded": record.succeeded, "failed": record.failed}


def result_json(result: ImportResult) -> dict[str, Any]:
    if result.problem is not None:
        return {"line": result.line, "problem": dict(result.problem)}
    return {"line": result.line, "passportId": f"urn:uuid:{result.passport_id}", "version": result.version}


__all__ = ["BATCH", "ImportSession", "Importer", "Splitter", "finish", "full_document", "open_import", "report_head",
           "result_json"]
