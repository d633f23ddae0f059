"""Issue 5, Must-show 4: a 100,000-line NDJSON import into SQLite completes with a per-line report, and the server's
peak RSS is within 1.2x that of a 10,000-line import.

``python -m bench.import_rss [--small 10000] [--large 100000]``: each import goes to a fresh database served by a
fresh uvicorn process (one worker); the body is streamed from a generator and the whole per-line report is read.
Prints both peak RSS figures (VmHWM of the server process) and their ratio; exit status 1 when the large import
needs more than 1.2x the memory of the small one. The same figures are part of ``make bench`` (2-import-rss-*)."""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from bench.common import create_service, sqlite_url
from bench.imports import Imported, import_over_http

LIMIT = 1.2


def run_one(workdir: Path, lines: int) -> Imported:
    service = create_service(sqlite_url(workdir / f"import-{lines}.db"), workdir / f"keys-{lines}")
    return import_over_http(service, lines, "M", workdir / f"server-{lines}.log")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.import_rss", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=100_000)
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="passport-import-rss-"))
    try:
        results = [run_one(workdir, lines) for lines in (args.small, args.large)]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    for result in results:
        print(f"{result.lines:>7} lines: {result.succeeded} imported, {result.failed} failed, report "
              f"{result.report_bytes} bytes, {result.seconds:.1f} s ({result.per_second:.0f} lines/s), "
              f"server peak RSS {result.peak_rss_kib / 1024:.1f} MiB")
    factor = results[1].peak_rss_kib / results[0].peak_rss_kib
    complete = all(result.succeeded == result.lines for result in results)
    print(f"peak RSS {args.large} lines / {args.small} lines = {factor:.3f} (limit {LIMIT}); every line imported: "
          f"{complete}")
    return 0 if factor <= LIMIT and complete else 1


if __name__ == "__main__":
    raise SystemExit(main())
