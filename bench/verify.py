"""Benchmark 5: ``passport verify FILE`` on an export (a subprocess, as a user runs it) vs the inline floor: parse,
JCS of proof configuration and document, SHA-256, Ed25519 verify per credential, and the export's line digest.
The command's start-up time (interpreter and imports) is part of the product's figure and recorded apart."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from bench.common import PYTHON, Report, cost, create_service, sqlite_url
from bench.floor import verify_floor
from bench.resolve import populate

TARGET = 0.6


def run(report: Report, workdir: Path, count: int) -> None:
    from passport.service.dump import export

    print(f"[5] verify an export of {count} passports", flush=True)
    service = create_service(sqlite_url(workdir / "verify.db"), workdir / "keys-verify")
    populate(service, count, "V")
    dump = workdir / "export.ndjson"
    context = service.context()
    with dump.open("wb") as handle:
        export(context, handle)
    context.close()
    command = [str(Path(PYTHON).parent / "passport"), "verify", "--offline", str(dump)]
    env = {**os.environ, "PASSPORT_DATABASE_URL": sqlite_url(workdir / "verify.db"),
           "PASSPORT_KEYS_DIR": str(workdir / "keys-verify")}
    floor_times, product_times = [], []
    for _ in range(2):  # alternate: floor, product, floor, product; the best of each
        start = time.perf_counter()
        with dump.open("rb") as handle:
            credentials = verify_floor(handle)
        floor_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1800, check=False)
        product_times.append(time.perf_counter() - start)
        if done.returncode != 0 or not done.stdout.startswith("OK"):
            raise RuntimeError(f"passport verify failed: {done.stdout} {done.stderr}")
    start = time.perf_counter()
    subprocess.run([str(Path(PYTHON).parent / "passport"), "--help"], env=env, capture_output=True, timeout=120,
                   check=True)
    startup = time.perf_counter() - start
    product, floor = min(product_times), min(floor_times)
    report.details["5-verify"] = {"passports": count, "credentials": credentials, "bytes": dump.stat().st_size,
                                  "product_seconds": product_times, "floor_seconds": floor_times,
                                  "cli_startup_seconds": startup, "product_output": done.stdout.strip()}
    report.add(cost("5-verify", product, floor, "s", TARGET, note=f"{credentials} credentials"))
