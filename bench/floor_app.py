"""The resolver's floor: a bare Starlette route answering ``/01/{gtin}/21/{serial}`` with the stored public credential
bytes of the current version, read with one indexed query through the bare DB-API driver from the same database as
the product. Served like the product (uvicorn, one worker): ``uvicorn --factory bench.floor_app:create_app`` with
``BENCH_FLOOR_DATABASE_URL`` set."""

from __future__ import annotations

import os
import sqlite3
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

QUERY = ("SELECT v.credential_public FROM passports p JOIN passport_versions v "
         "ON v.passport_id = p.id AND v.version = p.current_version WHERE p.gtin = {0} AND p.serial = {0}")


def _connect(url: str) -> tuple[Any, str]:
    if url.startswith("sqlite:///"):
        connection = sqlite3.connect(url.removeprefix("sqlite:///"), check_same_thread=False)
        return connection, QUERY.format("?")
    import psycopg

    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True), QUERY.format("%s")


def create_app() -> Starlette:
    connection, query = _connect(os.environ["BENCH_FLOOR_DATABASE_URL"])

    async def resolve(request: Request) -> Response:
        row = connection.execute(query, (request.path_params["gtin"], request.path_params["serial"])).fetchone()
        if row is None:
            return Response(b'{"status":404}', status_code=404, media_type="application/json")
        return Response(bytes(row[0]), media_type="application/json")

    async def healthz(_: Request) -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    return Starlette(routes=[Route("/01/{gtin}/21/{serial}", resolve), Route("/healthz", healthz)])
