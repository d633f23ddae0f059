"""Benchmark 3: the public resolver ``GET /01/{gtin}/21/{serial}`` (JSON: the stored public credential; HTML: the
page, cached per version) with uvicorn (one worker) under loopback load, vs the bare Starlette floor
(bench/floor_app.py) serving the same stored bytes from the same database. Floor and product alternate in rounds."""

from __future__ import annotations

from pathlib import Path

from bench.common import (
    FLOOR_APP,
    ORGANISATION,
    PRODUCT_APP,
    Report,
    Server,
    Service,
    cost,
    create_service,
    recreate_database,
    sqlite_url,
    throughput,
)
from bench.documents import document_bytes
from bench.load import Load, run_load

TARGETS = {"json": 0.6, "html": 0.4}
ACCEPT = {"json": "application/json", "html": "text/html"}


def populate(service: Service, count: int, prefix: str, batch: int = 500) -> list[tuple[str, str]]:
    """Issue ``count`` passports through the product (validated and signed), stored in batches; their codes."""
    from passport.service.passports import Passports

    context = service.context()
    passports = Passports(context)
    codes: list[tuple[str, str]] = []
    pending = []
    for number in range(count):
        append, _ = passports.prepare_issue(ORGANISATION, document_bytes(number, prefix))
        pending.append(append)
        codes.append((append[0].gtin, append[0].serial))
        if len(pending) >= batch:
            context.store.add_versions(pending)
            pending = []
    if pending:
        context.store.add_versions(pending)
    context.close()
    return codes


def paths_of(codes: list[tuple[str, str]]) -> list[str]:
    return [f"/01/{gtin}/21/{serial}" for gtin, serial in codes]


def run(report: Report, workdir: Path, backends: list[str], count: int, seconds: float, rounds: int,
        connections: int, tool: str, admin_url: str) -> None:
    for backend in backends:
        print(f"[3] resolve, {backend}: {count} passports, {rounds} rounds of {seconds:g} s per side, "
              f"{connections} connections", flush=True)
        url = (sqlite_url(workdir / "resolve.db") if backend == "sqlite"
               else recreate_database("bench_passport_resolve", admin_url))
        service = create_service(url, workdir / f"keys-resolve-{backend}")
        paths = paths_of(populate(service, count, "R"))
        loads: dict[str, list[Load]] = {"floor": [], "json": [], "html": []}
        with Server(FLOOR_APP, {"BENCH_FLOOR_DATABASE_URL": url}, log=workdir / "floor-app.log") as floor, \
                Server(PRODUCT_APP, service.env(), log=workdir / f"server-resolve-{backend}.log") as product:
            # Warm-up: every path once on each side (up to a minute), so that the rounds measure the steady state
            # of a resolver whose passports have been scanned before: database pages read, and on the product the
            # page of each passport rendered once. A 2-second warm-up reached a few hundred of the 3,000 pages, so
            # the HTML rounds measured mostly first renders; that first pass is kept, as "html-first" (info).
            first: dict[str, Load] = {}
            for name, target, accept in (("floor", floor.url, ACCEPT["json"]), ("json", product.url, ACCEPT["json"]),
                                         ("html", product.url, ACCEPT["html"])):
                first[name] = run_load(target, paths, accept, seconds=60.0, connections=connections, tool=tool,
                                       max_requests=len(paths))
            for _ in range(rounds):
                loads["floor"].append(run_load(floor.url, paths, ACCEPT["json"], seconds=seconds,
                                               connections=connections, tool=tool))
                for kind in ("json", "html"):
                    loads[kind].append(run_load(product.url, paths, ACCEPT[kind], seconds=seconds,
                                                connections=connections, tool=tool))
        floor_load = _combine(loads["floor"])
        report.details[f"3-resolve-{backend}"] = {
            "passports": count, "connections": connections, "tool": floor_load.tool,
            "floor": floor_load.__dict__, **{kind: _combine(loads[kind]).__dict__ for kind in ("json", "html")},
            "first_pass": {name: load.__dict__ for name, load in first.items()}}
        for kind in ("json", "html"):
            load = _combine(loads[kind])
            ok = load.ok and floor_load.ok
            note = f"errors: product {load.errors}, floor {floor_load.errors}"
            report.add(throughput(f"3-resolve-{kind}-{backend}", load.per_second, floor_load.per_second, "req/s",
                                  TARGETS[kind], ok=ok, note=note))
            report.add(cost(f"3-resolve-{kind}-{backend}-p50", load.p50_ms, floor_load.p50_ms, "ms", None, ok=ok))
            report.add(cost(f"3-resolve-{kind}-{backend}-p99", load.p99_ms, floor_load.p99_ms, "ms", None, ok=ok))
        # the first scan of each passport's page (rendered, its badge checked) against the floor's first pass
        cold, cold_floor = first["html"], first["floor"]
        report.add(throughput(f"3-resolve-html-first-{backend}", cold.per_second, cold_floor.per_second, "req/s",
                              None, ok=cold.ok and cold_floor.ok, note="each page's first rendering"))


def _combine(loads: list[Load]) -> Load:
    """Rounds added up: requests and time summed; percentiles: the median round's (rounds are alike)."""
    requests = sum(load.requests for load in loads)
    seconds = sum(load.seconds for load in loads)
    middle = sorted(loads, key=lambda load: load.per_second)[len(loads) // 2]
    return Load(loads[0].tool, requests, seconds, requests / seconds if seconds else 0.0, middle.p50_ms,
                middle.p99_ms, sum(load.errors for load in loads))
