"""Benchmark 1: issuing in-process (``Passports(context).issue``, SQLite) vs the inline floor.

The floor commits once per passport, as each ``issue`` call must (its passport is durable when it returns); the
same floor committing every 500 passports is recorded in the details, to show what the per-passport commit costs."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from bench.common import ORGANISATION, Report, create_service, sqlite_url, throughput
from bench.documents import document_bytes
from bench.floor import IssueFloor

TARGET = 0.6


def floor_for(database: Path, keys_dir: Path) -> tuple[IssueFloor, Any]:
    """An inline floor writing into its own database (the product's schema, the benchmark organisation)."""
    from passport.service.organisations import signer_for

    service = create_service(sqlite_url(database), keys_dir)
    context = service.context()
    signer = signer_for(context, ORGANISATION)
    urls = context.urls
    context.close()
    connection = sqlite3.connect(database)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("PRAGMA foreign_keys=ON")
    organisation_id = connection.execute("SELECT id FROM organisations WHERE slug = ?", (ORGANISATION,)).fetchone()[0]
    return IssueFloor(connection, urls, signer, ORGANISATION, organisation_id), connection


def run(report: Report, workdir: Path, count: int, rounds: int) -> None:
    from passport.service.passports import Passports

    print(f"[1] issue in-process: {count} passports in {rounds} interleaved rounds", flush=True)
    product_service = create_service(sqlite_url(workdir / "issue-product.db"), workdir / "keys-issue-product")
    context = product_service.context()
    passports = Passports(context)
    floor, connection = floor_for(workdir / "issue-floor.db", workdir / "keys-issue-floor")
    batched, batched_connection = floor_for(workdir / "issue-floor-batched.db", workdir / "keys-issue-floor-b")
    warm = 20
    for number in range(warm):  # imports, caches, first pages of the database
        passports.issue(ORGANISATION, document_bytes(number, "W"))
        floor.issue([document_bytes(number, "W")], batch=1)
        batched.issue([document_bytes(number, "W")], batch=500)
    per_round = max(1, count // rounds)
    times = {"product": 0.0, "floor": 0.0, "floor_batched": 0.0}
    cpu = dict.fromkeys(times, 0.0)
    issued = 0

    def timed(name: str, work: Any) -> None:
        start, used = time.perf_counter(), time.process_time()
        work()
        times[name] += time.perf_counter() - start
        cpu[name] += time.process_time() - used

    for round_ in range(rounds):
        numbers = range(round_ * per_round, (round_ + 1) * per_round)
        timed("floor", lambda numbers=numbers: floor.issue((document_bytes(n, "I") for n in numbers), batch=1))
        timed("product", lambda numbers=numbers: [passports.issue(ORGANISATION, document_bytes(n, "I"))
                                                  for n in numbers])
        timed("floor_batched", lambda numbers=numbers: batched.issue((document_bytes(n, "I") for n in numbers),
                                                                     batch=500))
        issued += len(numbers)
    stored = context.store.count_passports()
    context.close()
    connection.close()
    batched_connection.close()
    rates = {name: issued / seconds for name, seconds in times.items()}
    report.details["1-issue"] = {"passports": issued, "rounds": rounds, "seconds": times, "cpu_seconds": cpu,
                                 "per_second": rates, "stored": stored,
                                 "floor_commit_every_500_per_second": rates["floor_batched"],
                                 "cpu_ratio": cpu["floor"] / cpu["product"] if cpu["product"] else None}
    report.add(throughput("1-issue-sqlite", rates["product"], rates["floor"], "passports/s", TARGET,
                          ok=stored == issued + warm))
