"""What every benchmark shares: results and their orientation, the machine and versions, uvicorn subprocesses, peak
RSS, a service set up for benchmarking, PostgreSQL databases of our own."""

from __future__ import annotations

import contextlib
import os
import platform
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
ORGANISATION = "bench"
BASE_URL = "https://bench.example"  # public base URL of every benchmark service (no request ever goes there)
ADMIN_URL = os.environ.get("BENCH_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@dataclass
class Result:
    """One line of the table. ``ratio`` is oriented so that higher is better: product ÷ floor for throughput,
    floor ÷ product for costs (time, memory), where the "floor" of a scale figure is its 10k value."""

    id: str
    product: float | None
    floor: float | None
    unit: str
    ratio: float | None
    target: float | None
    passed: bool | None
    note: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"product": _round(self.product), "floor": _round(self.floor), "unit": self.unit,
                "ratio": _round(self.ratio, 3), "target": self.target, "pass": self.passed}


def _round(value: float | None, digits: int = 4) -> float | None:
    if value is None:
        return None
    return float(f"{value:.{digits}g}") if abs(value) < 1e4 else round(value, 1)


def throughput(id_: str, product: float, floor: float, unit: str, target: float | None, *, ok: bool = True,
               note: str = "") -> Result:
    """Higher is better: ratio = product ÷ floor."""
    ratio = product / floor if floor > 0 else None
    return Result(id_, product, floor, unit, ratio, target, _judge(ratio, target, ok), note)


def cost(id_: str, product: float, floor: float, unit: str, target: float | None, *, ok: bool = True,
         note: str = "") -> Result:
    """Lower is better (time, memory): ratio = floor ÷ product."""
    ratio = floor / product if product > 0 else None
    return Result(id_, product, floor, unit, ratio, target, _judge(ratio, target, ok), note)


def _judge(ratio: float | None, target: float | None, ok: bool) -> bool | None:
    if target is None:
        return None if ok else False
    return ok and ratio is not None and ratio >= target


@dataclass
class Report:
    """Everything one run found: the table, and the details behind it (plans, percentiles, sizes, timings)."""

    mode: str
    results: list[Result] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def add(self, result: Result) -> Result:
        self.results.append(result)
        print(f"  {result.id}: {_fmt(result.product)} vs {_fmt(result.floor)} {result.unit} -> ratio "
              f"{_fmt(result.ratio)} (target {result.target}) {_verdict(result.passed)}", flush=True)
        return result


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def _verdict(passed: bool | None) -> str:
    return {True: "PASS", False: "FAIL", None: "info"}[passed]


def table(results: list[Result]) -> str:
    header = ("id", "product", "floor", "unit", "ratio", "target", "pass")
    rows = [header] + [(r.id, _fmt(r.product), _fmt(r.floor), r.unit, _fmt(r.ratio),
                        "-" if r.target is None else f"≥ {r.target}", _verdict(r.passed)) for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def markdown_table(results: list[Result]) -> str:
    lines = ["| id | product | floor | unit | ratio | target | pass |", "|---|---:|---:|---|---:|---:|---|"]
    lines += [f"| {r.id} | {_fmt(r.product)} | {_fmt(r.floor)} | {r.unit} | {_fmt(r.ratio)} | "
              f"{'-' if r.target is None else '≥ ' + str(r.target)} | {_verdict(r.passed)} |" for r in results]
    return "\n".join(lines)


# --- the machine, versions and commit -----------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    with contextlib.suppress(OSError):
        memory = Path("/proc/meminfo").read_text().splitlines()[0].split(":", 1)[1].strip()
    return {"platform": platform.platform(), "cpu": cpu, "cores": os.cpu_count(), "memory": memory,
            "python": platform.python_version(), "load_average_at_start": list(os.getloadavg())}


PACKAGES = ("fastapi", "starlette", "uvicorn", "uvloop", "httptools", "sqlalchemy", "psycopg", "pydantic",
            "pydantic-core", "orjson", "cryptography", "httpx", "jinja2")


def versions(postgres_url: str | None) -> dict[str, Any]:
    import sqlite3

    found: dict[str, Any] = {}
    for name in PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            found[name] = metadata.version(name)
    found["sqlite"] = sqlite3.sqlite_version
    if postgres_url:
        with contextlib.suppress(Exception):
            import psycopg

            with psycopg.connect(postgres_url, connect_timeout=3) as connection:
                row = connection.execute("SHOW server_version").fetchone()
                found["postgresql"] = row[0] if row else None
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(["wrk", "--version"], capture_output=True, text=True, timeout=5, check=False)
        found["wrk"] = (out.stdout + out.stderr).split("[")[0].strip() or None
    return found


def commit() -> str:
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10,
                             check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return sha + ("-dirty" if dirty else "")


# --- processes ----------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def peak_rss_kib(pid: int) -> int:
    """VmHWM: the peak resident set size of a process so far (KiB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmHWM for process {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (seconds)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    """A uvicorn server (one worker, no reload, no access log) in a subprocess of its own, on a free loopback port."""

    def __init__(self, app: str, env: Mapping[str, str], *, ready_path: str = "/healthz", log: Path | None = None):
        self.app = app
        self.env = {**os.environ, **env}
        self.ready_path = ready_path
        self.port = free_port()
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def __enter__(self) -> Server:
        command = [PYTHON, "-m", "uvicorn", "--factory", self.app, "--host", "127.0.0.1", "--port", str(self.port),
                   "--workers", "1", "--log-level", "warning", "--no-access-log", "--timeout-keep-alive", "30"]
        if self.log is None:
            self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL)
        else:
            with self.log.open("ab") as output:  # the child has its own copy of the descriptor
                self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=output, stderr=output)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.app} exited with {self.process.returncode} (log: {self.log})")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + self.ready_path, timeout=2).status_code == 200:
                    return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.app} did not start within 60 s")

    def __exit__(self, *_: object) -> None:
        self.stop()

    def peak_rss_kib(self) -> int:
        return peak_rss_kib(self.pid)

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)


# All the load comes from one loopback address: the per-client rate limits stay on (their cost is measured) but
# high enough never to answer 429.
UNLIMITED = "1000000/second"


def product_env(database_url: str, keys_dir: Path) -> dict[str, str]:
    return {"PASSPORT_DATABASE_URL": database_url, "PASSPORT_KEYS_DIR": str(keys_dir),
            "PASSPORT_PUBLIC_BASE_URL": BASE_URL, "PASSPORT_ENV": "development",
            "PASSPORT_RATE_LIMIT_RESOLVER": UNLIMITED, "PASSPORT_RATE_LIMIT_CODES": UNLIMITED,
            "PASSPORT_RATE_LIMIT_AUTH_FAILURES": UNLIMITED}


PRODUCT_APP = "passport.web.app:app_from_environment"
FLOOR_APP = "bench.floor_app:create_app"


# --- a service to benchmark ---------------------------------------------------------------------------------------


@dataclass
class Service:
    """A database with the benchmark organisation, its signing key and a manufacturer API key."""

    database_url: str
    keys_dir: Path
    api_key: str

    def env(self) -> dict[str, str]:
        return product_env(self.database_url, self.keys_dir)

    def context(self) -> Any:
        from passport.config import Settings
        from passport.service.context import open_context

        return open_context(Settings(database_url=self.database_url, keys_dir=self.keys_dir,
                                     public_base_url=BASE_URL))


def create_service(database_url: str, keys_dir: Path) -> Service:
    """A new database (must be empty) with organisation ``bench`` and a manufacturer key."""
    from passport.service.apikeys import create_api_key
    from passport.service.organisations import create_organisation

    service = Service(database_url, keys_dir, "")
    context = service.context()
    try:
        create_organisation(context, ORGANISATION, "Benchmark data (not real batteries)")
        _, service.api_key = create_api_key(context, ORGANISATION, "manufacturer", "bench")
    finally:
        context.close()
    return service


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


# --- PostgreSQL databases of our own ------------------------------------------------------------------------------


def postgres_available(admin_url: str = ADMIN_URL) -> bool:
    try:
        import psycopg

        with psycopg.connect(admin_url, connect_timeout=3):
            return True
    except Exception:  # any failure means: no PostgreSQL here
        return False


def database_url(name: str, admin_url: str = ADMIN_URL) -> str:
    """The URL of database ``name`` on the server of ``admin_url``."""
    from sqlalchemy.engine import make_url

    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def recreate_database(name: str, admin_url: str = ADMIN_URL) -> str:
    """Drop (if there) and create database ``name``; only ever names starting with ``bench_``."""
    import psycopg

    if not name.startswith("bench_"):
        raise ValueError(f"refusing to drop {name!r}: benchmark databases start with bench_")
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return database_url(name, admin_url)


def drop_database(name: str, admin_url: str = ADMIN_URL) -> None:
    import psycopg

    if not name.startswith("bench_"):
        raise ValueError(f"refusing to drop {name!r}: benchmark databases start with bench_")
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def database_exists(name: str, admin_url: str = ADMIN_URL) -> bool:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as connection:
        return connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


@contextlib.contextmanager
def stopwatch() -> Iterator[list[float]]:
    """``with stopwatch() as elapsed: …``; then ``elapsed[0]`` holds the seconds."""
    box: list[float] = []
    start = time.perf_counter()
    try:
        yield box
    finally:
        box.append(time.perf_counter() - start)
