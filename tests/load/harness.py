"""What the fault tests (tests/test_faults.py) and the soak script (tests/load/soak.py) share: a service prepared on a
database (organisation, signing key, manufacturer API key), ``passport serve`` in a subprocess on a loopback port,
passport documents with serial numbers of their own, the resident memory of the server's processes, and the check
that a store holds every acknowledged write exactly once and verifies."""

from __future__ import annotations

import contextlib
import copy
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import IO, Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ("passport-ev", "passport-lmt", "passport-industrial")
ORGANISATION = "soak"
BASE_URL = "http://127.0.0.1:8000"  # the public base URL the credentials name (did:web of a loopback host)
PROBLEM_JSON = "application/problem+json"
GRACE = 30  # seconds: `passport serve` lets in-flight requests finish for this long after SIGTERM


# --- documents ----------------------------------------------------------------------------------------------------


@cache
def _example(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((ROOT / "docs" / "examples" / f"{name}.json").read_text(encoding="utf-8"))
    document.pop("passportId", None)
    return document


def serial(prefix: str, number: int) -> str:
    """A GS1 AI 21 serial number (at most 20 characters)."""
    text = f"{prefix}{number:09d}"
    assert len(text) <= 20, text
    return text


def document(prefix: str, number: int) -> dict[str, Any]:
    """Passport ``number`` of a series: the documented examples in turn, each with a serial of its own."""
    result = copy.deepcopy(_example(EXAMPLES[number % len(EXAMPLES)]))
    result["general"]["serialNumber"] = serial(prefix, number)
    return result


def gtin_of(number: int) -> str:
    return str(_example(EXAMPLES[number % len(EXAMPLES)])["general"]["gtin"])


def ndjson(prefix: str, numbers: Iterable[int]) -> bytes:
    return b"".join(json.dumps(document(prefix, n), separators=(",", ":")).encode() + b"\n" for n in numbers)


# --- a service on a database --------------------------------------------------------------------------------------


def service_env(database_url: str, keys_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a served passport service. Rate limits are off: the load comes from one address."""
    return {
        "PASSPORT_DATABASE_URL": database_url,
        "PASSPORT_KEYS_DIR": str(keys_dir),
        "PASSPORT_PUBLIC_BASE_URL": BASE_URL,
        "PASSPORT_ENV": "development",
        "PASSPORT_RATE_LIMIT_ENABLED": "false",
        **extra,
    }


def prepare_service(database_url: str, keys_dir: Path, organisation: str = ORGANISATION) -> str:
    """Create the schema, the organisation with its signing key and a manufacturer API key; return the key."""
    from passport.config import Settings
    from passport.service.apikeys import create_api_key
    from passport.service.context import open_context
    from passport.service.organisations import create_organisation

    context = open_context(Settings(database_url=database_url, keys_dir=keys_dir, public_base_url=BASE_URL,
                                    rate_limit_enabled=False))
    try:
        create_organisation(context, organisation, "Soak and fault tests (not real batteries)")
        return create_api_key(context, organisation, "manufacturer", "load")[1]
    finally:
        context.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    """``python -m passport serve --workers N`` on a free loopback port, its output in ``log``."""

    env: Mapping[str, str]
    log: Path
    workers: int = 1
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    _output: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, timeout: float = 60) -> ServerProcess:
        command = [sys.executable, "-m", "passport", "serve", "--host", "127.0.0.1", "--port", str(self.port),
                   "--workers", str(self.workers)]
        self._output = self.log.open("ab")
        self.process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **self.env}, stdout=self._output,
                                        stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"passport serve exited with {self.process.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200 and self._all_workers_up():
                    return self
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"passport serve did not answer within {timeout} s:\n{self.log_tail()}")

    def _all_workers_up(self) -> bool:
        if self.workers == 1:
            return True
        return self.log.read_bytes().count(b"Application startup complete") >= self.workers

    def terminate(self, timeout: float = GRACE + 10) -> int:
        """SIGTERM, then wait (bounded) for the exit status."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self.kill()

    def kill(self) -> None:
        """SIGKILL our server and its workers if they still run (by process id), then close the log."""
        if self.process is not None and self.process.poll() is None:
            for pid in children(self.process.pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            self.process.kill()
            self.process.wait(timeout=30)
        if self._output is not None:
            self._output.close()
            self._output = None

    def processes(self) -> list[int]:
        """The server's process and its worker processes."""
        return [self.pid, *children(self.pid)] if self.process is not None else []

    def rss_kib(self) -> dict[int, int]:
        """Resident memory (VmRSS, KiB) of each of the server's processes."""
        return {pid: rss for pid in self.processes() if (rss := rss_kib(pid)) is not None}

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *_: object) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.terminate(timeout=GRACE + 5)
        self.kill()


def children(pid: int) -> list[int]:
    """Direct children of a process (uvicorn's workers, multiprocessing's resource tracker), from /proc."""
    out: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                out.extend(int(c) for c in (task / "children").read_text().split())
    return out


def rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, every core (from /proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    total = sum(values[:8])  # user nice system idle iowait irq softirq steal
    busy = total - values[3] - values[4]
    tick = os.sysconf("SC_CLK_TCK")
    return busy / tick, total / tick


# --- waiting ------------------------------------------------------------------------------------------------------


def poll(check: Any, timeout: float, interval: float = 0.1) -> float | None:
    """Call ``check()`` until it is true, at most ``timeout`` seconds; the time it took, or None on timeout."""
    start = time.monotonic()
    while True:
        with contextlib.suppress(httpx.HTTPError, OSError):
            if check():
                return time.monotonic() - start
        if time.monotonic() - start > timeout:
            return None
        time.sleep(interval)


def refuses_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except ConnectionRefusedError:
        return True


# --- what the store holds -----------------------------------------------------------------------------------------


@dataclass
class StoreCheck:
    """The store against the acknowledged writes: every one present, no version twice, chains whole, verified."""

    passports: int
    versions: int
    current: dict[str, int]  # passport id -> its current version, as stored
    missing: list[str]
    duplicated: list[str]
    broken_chains: list[str]
    verified_passports: int
    verified_credentials: int
    verification_error: str | None

    @property
    def ok(self) -> bool:
        return not (self.missing or self.duplicated or self.broken_chains or self.verification_error)

    def as_json(self) -> dict[str, Any]:
        return {"passports": self.passports, "versions": self.versions, "missing": self.missing[:50],
                "missingCount": len(self.missing), "duplicated": self.duplicated[:50],
                "brokenChains": self.broken_chains[:50], "verifiedPassports": self.verified_passports,
                "verifiedCredentials": self.verified_credentials, "verificationError": self.verification_error,
                "ok": self.ok}


def check_store(database_url: str, keys_dir: Path, acknowledged: Mapping[str, Iterable[int]],
                public_base_url: str = BASE_URL) -> StoreCheck:
    """Compare the store with ``acknowledged`` (passport id -> versions the service answered 2xx for), look for
    duplicated versions and gaps, and verify every credential of every version (verify_store)."""
    from sqlalchemy import func, select

    from passport.config import Settings
    from passport.errors import VerificationError
    from passport.service.context import open_context
    from passport.service.verification import verify_store
    from passport.storage.tables import passport_versions, passports

    context = open_context(Settings(database_url=database_url, keys_dir=keys_dir, public_base_url=public_base_url,
                                    rate_limit_enabled=False), migrate=False)
    try:
        engine: Any = context.store.engine  # type: ignore[attr-defined]
        with engine.connect() as connection:
            stored: dict[str, list[int]] = {}
            for passport_id, version in connection.execute(
                    select(passport_versions.c.passport_id, passport_versions.c.version)):
                stored.setdefault(str(passport_id), []).append(int(version))
            current = {str(p): int(v) for p, v in connection.execute(
                select(passports.c.id, passports.c.current_version))}
            duplicated = [f"{p} v{v} x{n}" for p, v, n in connection.execute(
                select(passport_versions.c.passport_id, passport_versions.c.version, func.count())
                .group_by(passport_versions.c.passport_id, passport_versions.c.version)
                .having(func.count() > 1))]
        missing = [f"{p} v{v}" for p, versions in acknowledged.items() for v in versions
                   if v not in set(stored.get(p, ()))]
        broken = [p for p, versions in stored.items()
                  if sorted(versions) != list(range(1, len(versions) + 1)) or current.get(p) != max(versions)]
        broken += [p for p in current if p not in stored]
        error = None
        report_passports = report_credentials = 0
        try:
            report = verify_store(context)
            report_passports, report_credentials = report.passports, report.credentials
        except VerificationError as exc:
            error = f"{exc.reason}: {exc}"
        return StoreCheck(len(current), sum(len(v) for v in stored.values()), current, missing, duplicated, broken,
                          report_passports, report_credentials, error)
    finally:
        context.close()


def acknowledged_from_report(report: Mapping[str, Any]) -> Iterator[tuple[str, int]]:
    """(passport id, version) of every line an import report says was stored."""
    for result in report.get("results", ()):
        if result.get("passportId") and result.get("version") and not result.get("problem"):
            yield str(result["passportId"]).removeprefix("urn:uuid:"), int(result["version"])


__all__ = [
    "BASE_URL",
    "GRACE",
    "ORGANISATION",
    "PROBLEM_JSON",
    "ROOT",
    "ServerProcess",
    "StoreCheck",
    "acknowledged_from_report",
    "check_store",
    "children",
    "cpu_seconds",
    "document",
    "free_port",
    "gtin_of",
    "machine_cpu",
    "ndjson",
    "poll",
    "prepare_service",
    "refuses_connections",
    "rss_kib",
    "serial",
    "service_env",
]
