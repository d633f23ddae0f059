"""``python -m bench [--quick]``: every benchmark and its floor in the same run; prints the table and writes
bench/results.json. ``make bench`` (full, after ``make bench-data``) and ``make bench-quick`` (small sizes, short
durations) call it. Not part of ``make test`` (tests/test_bench_smoke.py runs a tiny SQLite-only version)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import ADMIN_URL, ROOT, Report, Result, commit, machine, postgres_available, table, versions

RESULTS = ROOT / "bench" / "results.json"


@dataclass(frozen=True)
class Sizes:
    issue: int
    issue_rounds: int
    import_small: int
    import_large: int
    import_floor: int
    resolve_passports: int
    resolve_seconds: float
    resolve_rounds: int
    connections: int
    verify_passports: int
    scale_seconds: float
    scale_requests: int


FULL = Sizes(issue=3000, issue_rounds=3, import_small=10_000, import_large=100_000, import_floor=25_000,
             resolve_passports=3000, resolve_seconds=8.0, resolve_rounds=2, connections=8, verify_passports=5000,
             scale_seconds=5.0, scale_requests=40)
QUICK = Sizes(issue=300, issue_rounds=3, import_small=500, import_large=5000, import_floor=5000,
              resolve_passports=300, resolve_seconds=3.0, resolve_rounds=1, connections=8, verify_passports=300,
              scale_seconds=2.0, scale_requests=10)
TINY = Sizes(issue=30, issue_rounds=1, import_small=20, import_large=200, import_floor=200, resolve_passports=30,
             resolve_seconds=0.5, resolve_rounds=1, connections=2, verify_passports=20, scale_seconds=0.5,
             scale_requests=3)
BENCHMARKS = ("issue", "import", "resolve", "scale", "verify")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="small sizes, short durations (development)")
    mode.add_argument("--tiny", action="store_true", help="a smoke run of the code (the test suite's)")
    parser.add_argument("--only", nargs="*", choices=BENCHMARKS, help="run only these benchmarks")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only (no PostgreSQL figures)")
    parser.add_argument("--postgres-admin-url", default=ADMIN_URL,
                        help="a PostgreSQL URL allowed to create and drop the bench_* databases")
    parser.add_argument("--load", choices=("auto", "wrk", "python"), default="auto",
                        help="load generator for the resolver (auto: wrk if installed)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the results (JSON)")
    parser.add_argument("--workdir", type=Path, help="keep the databases and logs here (default: a temporary one)")
    args = parser.parse_args(argv)
    name, sizes = ("tiny", TINY) if args.tiny else ("quick", QUICK) if args.quick else ("full", FULL)
    selected = args.only or list(BENCHMARKS)
    postgres = not args.no_postgres and postgres_available(args.postgres_admin_url)
    if not args.no_postgres and not postgres:
        print(f"PostgreSQL not reachable at {args.postgres_admin_url}: SQLite figures only", file=sys.stderr)
    backends = ["sqlite", "postgres"] if postgres else ["sqlite"]
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="passport-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    report = Report(name)
    started = time.perf_counter()
    failures: dict[str, str] = {}
    print(f"passport benchmarks ({name}), work directory {workdir}", flush=True)
    about = {"machine": machine(), "versions": versions(args.postgres_admin_url if postgres else None),
             "commit": commit()}
    for benchmark in selected:
        try:
            _run(benchmark, report, workdir, sizes, backends, args, postgres)
        except Exception as exc:  # one failed benchmark must not hide the others
            traceback.print_exc()
            failures[benchmark] = f"{type(exc).__name__}: {exc}"
            report.results.append(Result(f"{benchmark}-error", None, None, "", None, None, False, str(exc)))
        _write(args.out, about, report, failures, backends, time.perf_counter() - started)  # what is done so far
    elapsed = time.perf_counter() - started
    _write(args.out, about, report, failures, backends, elapsed)
    print()
    print(table(report.results))
    print(f"\n{len(report.results)} figures in {elapsed:.0f} s; written to {args.out}")
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failures else 0


def _write(out: Path, about: dict[str, Any], report: Report, failures: dict[str, str], backends: list[str],
           elapsed: float) -> None:
    document = {
        **about, "mode": report.mode, "duration_seconds": round(elapsed, 1), "backends": backends,
        "load_average_at_end": list(os.getloadavg()),
        "benchmarks": {result.id: result.as_json() for result in report.results},
        "notes": {result.id: result.note for result in report.results if result.note},
        "failures": failures, "details": report.details,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")


def _run(benchmark: str, report: Report, workdir: Path, sizes: Sizes, backends: list[str], args: Any,
         postgres: bool) -> None:
    if benchmark == "issue":
        from bench import issue

        issue.run(report, workdir, sizes.issue, sizes.issue_rounds)
    elif benchmark == "import":
        from bench import imports

        imports.run(report, workdir, backends, sizes.import_small, sizes.import_large, sizes.import_floor,
                    args.postgres_admin_url)
    elif benchmark == "resolve":
        from bench import resolve

        resolve.run(report, workdir, backends, sizes.resolve_passports, sizes.resolve_seconds, sizes.resolve_rounds,
                    sizes.connections, args.load, args.postgres_admin_url)
    elif benchmark == "scale":
        if not postgres:
            print("[4] scale: needs PostgreSQL, skipped", flush=True)
            return
        from bench import scale

        scale.run(report, workdir, report.mode, sizes.scale_seconds, sizes.scale_requests, args.load,
                  args.postgres_admin_url)
    elif benchmark == "verify":
        from bench import verify

        verify.run(report, workdir, sizes.verify_passports)


if __name__ == "__main__":
    raise SystemExit(main())
