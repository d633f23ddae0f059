"""Bulk import over HTTP: NDJSON or CSV streamed in, validated per line, committed in batches, idempotent."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Iterator
from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from passport.access import Role
from passport.errors import IdempotencyKeyReused, InvalidInput, NotFound
from passport.service.context import ServiceContext
from passport.service.imports import BATCH, Importer, Splitter, finish, open_import, report_head, result_json
from passport.storage import ImportRecord
from passport.web.auth import CallerDep, require
from passport.web.bodies import limited_stream, require_media_type
from passport.web.deps import Context
from passport.web.openapi import free_body
from passport.web.responses import PROBLEMS
from passport.web.schemas import ImportReport

router = APIRouter(prefix="/api/v1/imports", tags=["bulk import"])
IMPORT_LIMIT = 2 * 1024**3  # 2 GiB per request; memory stays bounded whatever the size
NDJSON = ("application/x-ndjson", "application/ndjson", "application/jsonl")
CSV = ("text/csv",)


def report_stream(context: ServiceContext, record: ImportRecord) -> Iterator[bytes]:
    """The report as one JSON object, written piece by piece: memory does not grow with the number of lines."""
    head = json.dumps(report_head(record))[:-1]
    yield (head + ', "results": [').encode()
    for index, result in enumerate(context.store.import_results(record.import_id)):
        yield ((", " if index else "") + json.dumps(result_json(result))).encode()
    yield b"]}\n"


async def _batches(request: Request, splitter: Splitter) -> AsyncIterator[list[tuple[int, object]]]:
    """Numbered records in batches, read as the body arrives (about 256 KiB at a time)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in limited_stream(request, IMPORT_LIMIT):
        chunks.append(chunk)
        size += len(chunk)
        if size >= 256 * 1024:
            yield splitter.feed(chunks)
            chunks, size = [], 0
    yield splitter.feed(chunks, final=True)


@router.post("", response_model=ImportReport, summary="Bulk import passports and events",
             responses=PROBLEMS, openapi_extra=free_body({"type": "string"}, *NDJSON, *CSV))
async def bulk_import(
    request: Request, context: Context, caller: CallerDep,
    # Optional to FastAPI so that authentication answers first (401 before a 4xx about the header); required
    # below.
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200,
                                                  description="Required. Same key, same import: re-sending returns "
                                                              "the same report and creates nothing twice")] = None,
) -> StreamingResponse:
    """NDJSON (one passport document, ``{"modelId", "passport"}`` or event line per line) or CSV (rows of item data
    with a ``modelId`` column, or event rows with ``passportId``). The response is a per-line report: line number and
    passport id and version, or the problem."""
    require(caller, Role.MANUFACTURER)
    if not idempotency_key:
        raise InvalidInput("send an Idempotency-Key header (1 to 200 characters) naming this import")
    kind = "csv" if require_media_type(request, NDJSON + CSV) in CSV else "ndjson"
    session, complete = await run_in_threadpool(open_import, context, caller, idempotency_key)
    if not complete:
        importer = Importer(session)
        async for batch in _batches(request, Splitter(session, kind)):
            if batch:
                await run_in_threadpool(importer.run, batch)
        await run_in_threadpool(importer.flush)
        record = await run_in_threadpool(finish, session)
    else:
        # the body was already imported under this key: read it only to check it is the same body
        digest = hashlib.sha256()
        async for chunk in limited_stream(request, IMPORT_LIMIT):
            digest.update(chunk)
        record = session.record
        if record.request_hash and digest.hexdigest() != record.request_hash:
            raise IdempotencyKeyReused(
                f"Idempotency-Key {idempotency_key!r} was used for another body: use a new key for a new import")
    return StreamingResponse(report_stream(context, record), media_type="application/json",
                             headers={"Location": f"/api/v1/imports/{record.import_id}"})


@router.get("/{import_id}", response_model=ImportReport, summary="The report of an import", responses=PROBLEMS)
def read_import(import_id: str, context: Context, caller: CallerDep) -> StreamingResponse:
    organisation = require(caller, Role.MANUFACTURER)
    record = context.store.get_import(import_id)
    if record.organisation != organisation:
        # 404 like any job of another organisation (was a 400): whether the import exists is not theirs to know.
        raise NotFound(f"no import {import_id}")
    return StreamingResponse(report_stream(context, record), media_type="application/json")


__all__ = ["BATCH", "router"]
