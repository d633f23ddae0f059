"""Benchmark 2: bulk import over HTTP (``POST /api/v1/imports``, NDJSON streamed from a generator, uvicorn with one
worker in a subprocess) vs the inline floor committing every 500 passports, on SQLite and PostgreSQL; and the peak
RSS of the server process (VmHWM) importing a small and a ten times larger file, each into a fresh server."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.common import (
    ORGANISATION,
    PRODUCT_APP,
    Report,
    Server,
    Service,
    cost,
    create_service,
    drop_database,
    recreate_database,
    sqlite_url,
    throughput,
)
from bench.documents import document_bytes, ndjson_body
from bench.floor import IssueFloor

TARGETS = {"sqlite": 0.5, "postgres": 0.4}
RSS_TARGET = 0.83  # RSS(small) / RSS(large): within 1.2x
BATCH = 500  # the product's import batch (passport/service/imports.py)


@dataclass
class Imported:
    lines: int
    seconds: float
    succeeded: int
    failed: int
    peak_rss_kib: int
    report_bytes: int
    server_cpu_seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return self.lines / self.seconds


def import_over_http(service: Service, count: int, prefix: str, log: Path | None = None) -> Imported:
    """Start a server on ``service``'s database, import ``count`` NDJSON lines, read the whole per-line report."""
    with Server(PRODUCT_APP, service.env(), log=log) as server:
        headers = {"Authorization": f"Bearer {service.api_key}", "Content-Type": "application/x-ndjson",
                   "Idempotency-Key": f"bench-{uuid.uuid4()}"}
        cpu = server.cpu_seconds()
        start = time.perf_counter()
        with httpx.Client(timeout=httpx.Timeout(600.0)) as client, client.stream(
                "POST", f"{server.url}/api/v1/imports", content=ndjson_body(count, prefix), headers=headers) as reply:
            body = reply.read()
            status = reply.status_code
        seconds = time.perf_counter() - start
        cpu = server.cpu_seconds() - cpu
        rss = server.peak_rss_kib()
    if status != 200:
        raise RuntimeError(f"import answered {status}: {body[:500]!r}")
    report: dict[str, Any] = orjson.loads(body)
    if len(report["results"]) != count:
        raise RuntimeError(f"the report has {len(report['results'])} lines, not {count}")
    return Imported(count, seconds, report["succeeded"], report["failed"], rss, len(body), cpu)


def floor_rate(backend: str, workdir: Path, count: int, admin_url: str, tag: str) -> tuple[float, float]:
    """Lines per second of the inline floor (batches of 500) into a fresh database of ``backend``, by the clock and
    by this process's CPU time."""
    from passport.service.organisations import signer_for

    if backend == "sqlite":
        from bench.issue import floor_for

        floor, connection = floor_for(workdir / f"import-floor-{tag}.db", workdir / f"keys-import-floor-{tag}")
    else:
        import psycopg

        url = recreate_database("bench_passport_import_floor", admin_url)
        service = create_service(url, workdir / f"keys-import-floor-pg-{tag}")
        context = service.context()
        signer, urls = signer_for(context, ORGANISATION), context.urls
        context.close()
        connection = psycopg.connect(url)
        row = connection.execute("SELECT id FROM organisations WHERE slug = %s", (ORGANISATION,)).fetchone()
        assert row is not None
        floor = IssueFloor(connection, urls, signer, ORGANISATION, row[0])
    floor.issue((document_bytes(n, "W") for n in range(50)), batch=BATCH)
    start, cpu = time.perf_counter(), time.process_time()
    floor.issue((document_bytes(n, "F") for n in range(count)), batch=BATCH)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    connection.close()
    if backend == "postgres":
        drop_database("bench_passport_import_floor", admin_url)
    return count / seconds, count / cpu


def product_import(backend: str, workdir: Path, count: int, admin_url: str, tag: str) -> Imported:
    if backend == "sqlite":
        service = create_service(sqlite_url(workdir / f"import-{tag}.db"), workdir / f"keys-import-{tag}")
    else:
        name = f"bench_passport_import_{tag}"
        service = create_service(recreate_database(name, admin_url), workdir / f"keys-import-{tag}")
    try:
        return import_over_http(service, count, "M", workdir / f"server-import-{backend}-{tag}.log")
    finally:
        if backend == "postgres":
            drop_database(f"bench_passport_import_{tag}", admin_url)


def run(report: Report, workdir: Path, backends: list[str], small: int, large: int, floor_lines: int,
        admin_url: str) -> None:
    """The floor's rate is taken over ``floor_lines`` lines (its cost per line does not grow with the file)."""
    for backend in backends:
        print(f"[2] bulk import over HTTP, {backend}: {small} and {large} lines", flush=True)
        # the floor runs half before and half after the product's imports, so that a change of load on the machine
        # during the run weighs on both sides alike
        before = floor_rate(backend, workdir, floor_lines // 2, admin_url, "before")
        few = product_import(backend, workdir, small, admin_url, f"{backend}-small")
        many = product_import(backend, workdir, large, admin_url, f"{backend}-large")
        after = floor_rate(backend, workdir, floor_lines - floor_lines // 2, admin_url, "after")
        floor = floor_lines / ((floor_lines // 2) / before[0] + (floor_lines - floor_lines // 2) / after[0])
        floor_per_cpu_second = floor_lines / ((floor_lines // 2) / before[1]
                                              + (floor_lines - floor_lines // 2) / after[1])
        product_per_cpu_second = many.lines / many.server_cpu_seconds if many.server_cpu_seconds else 0.0
        report.details[f"2-import-{backend}"] = {
            "small": few.__dict__, "large": many.__dict__, "floor_lines_per_second": floor, "floor_lines": floor_lines,
            "product_lines_per_second": many.per_second, "product_small_lines_per_second": few.per_second,
            # CPU time is less sensitive than the clock to other load on the machine
            "floor_lines_per_cpu_second": floor_per_cpu_second,
            "product_lines_per_server_cpu_second": product_per_cpu_second,
            "cpu_ratio": product_per_cpu_second / floor_per_cpu_second if floor_per_cpu_second else None}
        ok = many.succeeded == large and few.succeeded == small
        report.add(throughput(f"2-import-{backend}", many.per_second, floor, "lines/s", TARGETS[backend], ok=ok))
        report.add(cost(f"2-import-rss-{backend}", many.peak_rss_kib / 1024, few.peak_rss_kib / 1024, "MiB",
                        RSS_TARGET, ok=ok, note=f"{small} vs {large} lines"))
