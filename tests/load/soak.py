"""Bounded load and soak test of the served product (issue 11; not part of ``make test``; ``make soak`` runs it).

It makes a throwaway PostgreSQL cluster (tests/pgcluster.py; ``--database sqlite`` for a file instead), prepares
the service (organisation, signing key, manufacturer API key), starts ``passport serve --workers N`` on loopback
with rate limiting off (the load comes from one address), seeds passports with a bulk import, then drives a mixed
load for ``--duration`` seconds from ``--concurrency`` client coroutines:

    resolve-json  GET /01/{gtin}/21/{serial}, Accept: application/json          (public resolver, JSON credential)
    resolve-html  the same, Accept: text/html                                    (public page)
    api-read      GET /api/v1/passports/{id} with the API key                    (full view)
    revise        PATCH /api/v1/passports/{id} with If-Match                     (a new signed version)
    issue         POST /api/v1/passports                                         (a new passport)
    import        POST /api/v1/imports, a few NDJSON lines, an Idempotency-Key  (a small bulk import)

It records throughput, p50/p99 per kind and errors by status per minute, and the resident memory (VmRSS) of the
server's processes every few seconds. With ``--outage`` it stops the database (``pg_ctl stop -m fast``) in the middle
of the run and starts it again, and measures how long the service takes to recover once the database is back.

At the end: no 5xx outside the outage (and, during it, only 503 problems with Retry-After), every acknowledged write
present, no duplicated version, every chain whole, the whole store verified (verify_store), the server exiting 0 on
SIGTERM. The results go to a JSON file (tests/load/results-*.json, git-ignored) and a table is printed. Exit status
0 when every check passed, 1 otherwise.

    python -m tests.load.soak --duration 300 --workers 2 [--outage]"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import itertools
import json
import math
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.load.harness import (
    PROBLEM_JSON,
    ROOT,
    ServerProcess,
    check_store,
    children,
    cpu_seconds,
    document,
    gtin_of,
    machine_cpu,
    ndjson,
    prepare_service,
    serial,
    service_env,
)
from tests.pgcluster import PgCluster

HERE = Path(__file__).resolve().parent
PREFIX = "SK"  # serial numbers of soak passports: SK000000001, …
MIX: dict[str, int] = {"resolve-json": 35, "resolve-html": 20, "api-read": 20, "revise": 12, "issue": 8, "import": 5}
WRITES = ("revise", "issue", "import")
RECOVERY_BOUND = 10.0  # seconds: the service recovers within this of the database's return (Must-show 2)
EXPECTED_4XX = {412}  # a revision whose If-Match went stale (another client, or a write whose answer was lost)
# Stability (Must-show 1), judged on runs of 3 minutes or more without an outage: the last minute against the first.
P99_GROWTH = 2.0  # p99 of a kind may at most double (plus P99_SLACK_MS, for kinds measured in single milliseconds)
P99_SLACK_MS = 5.0
RSS_GROWTH = 1.25  # the server's resident memory may grow by at most a quarter
CPU_GROWTH = 1.5  # server CPU per request: independent of what else the (shared) machine runs
QUIET = 0.25  # cores other processes may use for p99 comparisons to mean something


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.load.soak", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--duration", type=float, default=300, help="seconds of load")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes of passport serve")
    parser.add_argument("--concurrency", type=int, default=8, help="client coroutines sending requests")
    parser.add_argument("--database", choices=("postgres", "sqlite"), default="postgres",
                        help="a throwaway PostgreSQL cluster, or a SQLite file")
    parser.add_argument("--outage", action="store_true", help="stop the database mid-run and start it again")
    parser.add_argument("--outage-at", type=float, default=None,
                        help="seconds into the run (None: 40 %% of --duration)")
    parser.add_argument("--outage-length", type=float, default=20, help="seconds the database stays down")
    parser.add_argument("--seed", type=int, default=300, help="passports imported before the load starts")
    parser.add_argument("--import-lines", type=int, default=20, help="lines of each bulk import of the mix")
    parser.add_argument("--sample-interval", type=float, default=5, help="seconds between RSS samples")
    parser.add_argument("--timeout", type=float, default=30, help="seconds before a request counts as failed")
    parser.add_argument("--max-requests", type=int, default=500_000,
                        help="stop sending once this many requests were answered (a bound on the load, besides time)")
    parser.add_argument("--random-seed", type=int, default=11, help="seed of the request mix")
    parser.add_argument("--out", type=Path, default=None, help="results file (None: tests/load/results-<time>.json)")
    parser.add_argument("--workdir", type=Path, default=None, help="keys, database file, server log, kept (None: a "
                        "temporary directory, removed afterwards)")
    parser.add_argument("--mix", type=_mix, default=dict(MIX),
                        help="weights of the request kinds, e.g. resolve-html=1,issue=1 (kinds left out: 0)")
    args = parser.parse_args(argv)
    if args.outage and args.database != "postgres":
        parser.error("--outage needs --database postgres (a throwaway cluster the script can stop)")
    if args.outage_at is None:
        args.outage_at = 0.4 * args.duration
    if args.duration <= 0 or min(args.workers, args.concurrency, args.seed, args.max_requests) < 1:
        parser.error("--duration, --workers, --concurrency, --seed and --max-requests must be positive")
    return args


def _mix(text: str) -> dict[str, int]:
    mix = {}
    for item in text.split(","):
        kind, _, weight = item.partition("=")
        if kind.strip() not in MIX or not weight.strip().isdigit():
            raise argparse.ArgumentTypeError(f"{item!r}: kind=weight, kinds {', '.join(MIX)}")
        mix[kind.strip()] = int(weight)
    if not any(mix.values()):
        raise argparse.ArgumentTypeError("at least one kind needs a weight above 0")
    return mix


# --- what the clients know ----------------------------------------------------------------------------------------


@dataclass
class Passport:
    passport_id: str
    number: int  # its serial number is serial(PREFIX, number), its GTIN gtin_of(number)
    version: int


@dataclass
class Fleet:
    """The passports the service acknowledged, and the versions it acknowledged for each."""

    passports: list[Passport] = field(default_factory=list)
    acknowledged: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    by_id: dict[str, Passport] = field(default_factory=dict)
    busy: set[str] = field(default_factory=set)  # being revised: one writer per passport on the client side
    numbers: Iterator[int] = field(default_factory=itertools.count)

    def acknowledge(self, passport_id: str, version: int, number: int | None = None) -> None:
        self.acknowledged[passport_id].add(version)
        known = self.by_id.get(passport_id)
        if known is None and number is not None:
            known = Passport(passport_id, number, version)
            self.passports.append(known)
            self.by_id[passport_id] = known
        if known is not None:
            known.version = max(known.version, version)


@dataclass
class Sample:
    end: float  # seconds since the start of the load
    kind: str
    status: str  # "200", "503", … or "error:ReadTimeout"
    latency: float  # seconds
    problem: bool = False  # a problem+json answer with Retry-After (what a 503 must be)


@dataclass
class Outage:
    stop_begin: float | None = None
    stopped: float | None = None
    start_begin: float | None = None
    back: float | None = None  # the database accepts connections again (pg_ctl start -w returned)
    probes: list[tuple[float, str, int | str]] = field(default_factory=list)  # (time, path, status)


# --- the load -------------------------------------------------------------------------------------------------


class Load:
    def __init__(self, args: argparse.Namespace, server: ServerProcess, key: str, fleet: Fleet,
                 cluster: PgCluster | None) -> None:
        self.args = args
        self.server = server
        self.auth = {"Authorization": f"Bearer {key}"}
        self.fleet = fleet
        self.cluster = cluster
        self.samples: list[Sample] = []
        self.rss: list[dict[str, Any]] = []
        self.outage = Outage()
        self.random = random.Random(args.random_seed)
        self.start = 0.0
        self.stopping = False
        self.ran = float(args.duration)  # seconds of load actually sent (set when the load stops)
        self.import_line_failures: Counter[str] = Counter()
        self.cpu_server: dict[int, float] = {}  # process id -> CPU seconds it used (as last seen)
        self.cpu_database: dict[int, float] = {}

    def now(self) -> float:
        return time.monotonic() - self.start

    def enough(self) -> bool:
        return len(self.samples) >= int(self.args.max_requests)

    async def run(self) -> None:
        connections = self.args.concurrency + 4
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        async with httpx.AsyncClient(base_url=self.server.url, timeout=self.args.timeout, limits=limits) as client:
            self.start = time.monotonic()
            tasks = [asyncio.create_task(self.client(client)) for _ in range(self.args.concurrency)]
            tasks.append(asyncio.create_task(self.sample_rss()))
            tasks.append(asyncio.create_task(self.probe(client)))
            if self.args.outage:
                tasks.append(asyncio.create_task(self.make_outage()))
            await _sleep_unless(self.enough, self.args.duration)
            self.ran = self.now()  # the figures are per second of load: a run cut short by --max-requests is shorter
            self.stopping = True
            await asyncio.wait_for(asyncio.gather(*tasks), timeout=self.args.timeout + 60)

    async def client(self, client: httpx.AsyncClient) -> None:
        kinds, weights = list(self.args.mix), list(self.args.mix.values())
        actions: dict[str, Callable[[httpx.AsyncClient], Awaitable[tuple[str, httpx.Response | None]]]] = {
            "resolve-json": self.resolve_json, "resolve-html": self.resolve_html, "api-read": self.api_read,
            "revise": self.revise, "issue": self.issue, "import": self.bulk_import,
        }
        while not (self.stopping or self.enough()):
            kind = self.random.choices(kinds, weights)[0]
            began = time.monotonic()
            try:
                kind, response = await actions[kind](client)
                status = str(response.status_code) if response is not None else "skipped"
                problem = response is not None and _is_problem(response)
            except httpx.HTTPError as exc:
                status, problem = f"error:{type(exc).__name__}", False
            if status != "skipped":
                self.samples.append(Sample(self.now(), kind, status, time.monotonic() - began, problem))

    def pick(self) -> Passport:
        return self.fleet.passports[self.random.randrange(len(self.fleet.passports))]

    def _resolver(self, passport: Passport) -> str:
        return f"/01/{gtin_of(passport.number)}/21/{serial(PREFIX, passport.number)}"

    async def resolve_json(self, client: httpx.AsyncClient) -> tuple[str, httpx.Response]:
        return "resolve-json", await client.get(self._resolver(self.pick()), headers={"Accept": "application/json"})

    async def resolve_html(self, client: httpx.AsyncClient) -> tuple[str, httpx.Response]:
        return "resolve-html", await client.get(self._resolver(self.pick()), headers={"Accept": "text/html"})

    async def api_read(self, client: httpx.AsyncClient) -> tuple[str, httpx.Response]:
        return "api-read", await client.get(f"/api/v1/passports/{self.pick().passport_id}", headers=self.auth)

    async def revise(self, client: httpx.AsyncClient) -> tuple[str, httpx.Response | None]:
        for _ in range(5):
            passport = self.pick()
            if passport.passport_id not in self.fleet.busy:
                break
        else:
            return "revise", None
        self.fleet.busy.add(passport.passport_id)
        try:
            base = passport.version
            response = await client.patch(
                f"/api/v1/passports/{passport.passport_id}", json={"general": {"modelName": f"Soak r{base + 1}"}},
                headers={**self.auth, "If-Match": f'"v{base}-full"'})
            if response.status_code == 200:
                self.fleet.acknowledge(passport.passport_id, int(response.json()["version"]))
            elif response.status_code == 412:  # our version went stale (a write whose answer was lost): re-read
                current = await client.get(f"/api/v1/passports/{passport.passport_id}", headers=self.auth)
                if current.status_code == 200:
                    passport.version = int(current.json()["version"])
            return "revise", response
        finally:
            self.fleet.busy.discard(passport.passport_id)

    async def issue(self, client: httpx.AsyncClient) -> tuple[str, httpx.Response]:
        number = next(self.fleet.numbers)
        response = await client.post("/api/v1/passports", json=document(PREFIX, number), headers=self.auth)
        if response.status_code == 201:
            self.fleet.acknowledge(response.json()["passportId"].removeprefix("urn:uuid:"), 1, number)
        return "issue", response

    async def bulk_import(self, client: httpx.AsyncClient) -> tuple[str, httpx.Response]:
        numbers = [next(self.fleet.numbers) for _ in range(self.args.import_lines)]
        response = await client.post(
            "/api/v1/imports", content=ndjson(PREFIX, numbers),
            headers={**self.auth, "Content-Type": "application/x-ndjson", "Idempotency-Key": str(uuid.uuid4())})
        if response.status_code == 200:
            for result in response.json().get("results", ()):
                if result.get("problem"):
                    self.import_line_failures[str(result["problem"].get("type"))] += 1
                else:
                    self.fleet.acknowledge(result["passportId"].removeprefix("urn:uuid:"), int(result["version"]),
                                           numbers[result["line"] - 1])
        return "import", response

    async def sample_rss(self) -> None:
        """Every few seconds: the resident memory of the server's processes, and who used the CPU so far (the
        server, the database, this client, the whole machine: the machine is shared, and the rest is others')."""
        while not self.stopping:
            processes = self.server.rss_kib()
            busy, total = machine_cpu()
            postmaster = self.cluster.postmaster_pid() if self.cluster is not None else None
            database = [postmaster, *children(postmaster)] if postmaster else []
            for pid in processes:
                self.cpu_server[pid] = max(self.cpu_server.get(pid, 0.0), cpu_seconds(pid))
            for pid in database:  # backends come and go (and all of them with an outage): keep what each used
                self.cpu_database[pid] = max(self.cpu_database.get(pid, 0.0), cpu_seconds(pid))
            self.rss.append({
                "t": round(self.now(), 2), "totalKiB": sum(processes.values()),
                "processes": {str(pid): kib for pid, kib in sorted(processes.items())},
                "loadAverage": round(os.getloadavg()[0], 2),
                "cpu": {"server": round(sum(self.cpu_server.values()), 2),
                        "database": round(sum(self.cpu_database.values()), 2),
                        "client": round(time.process_time(), 2),
                        "machineBusy": round(busy, 2), "machineTotal": round(total, 2)},
            })
            await _sleep_unless(lambda: self.stopping, self.args.sample_interval)

    async def probe(self, client: httpx.AsyncClient) -> None:
        """/readyz and /healthz once a second, ten times a second around the outage."""
        while not self.stopping:
            for path in ("/readyz", "/healthz"):
                try:
                    status: int | str = (await client.get(path)).status_code
                except httpx.HTTPError as exc:
                    status = f"error:{type(exc).__name__}"
                self.outage.probes.append((round(self.now(), 3), path, status))
            o = self.outage
            close = o.stop_begin is not None and (o.back is None or self.now() < o.back + RECOVERY_BOUND + 5)
            await asyncio.sleep(0.1 if close else 1.0)

    async def make_outage(self) -> None:
        assert self.cluster is not None
        if not await _sleep_unless(lambda: self.stopping, self.args.outage_at):
            return
        self.outage.stop_begin = self.now()
        await asyncio.to_thread(self.cluster.stop, "fast")
        self.outage.stopped = self.now()
        await asyncio.sleep(self.args.outage_length)
        self.outage.start_begin = self.now()
        await asyncio.to_thread(self.cluster.start)
        self.outage.back = self.now()


async def _sleep_unless(stop: Callable[[], bool], seconds: float) -> bool:
    """Sleep ``seconds`` in small steps; False if ``stop()`` became true meanwhile."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if stop():
            return False
        await asyncio.sleep(min(0.2, end - time.monotonic()))
    return not stop()


def _is_problem(response: httpx.Response) -> bool:
    media = str(response.headers.get("content-type", ""))
    return media.startswith(PROBLEM_JSON) and str(response.headers.get("retry-after", "")).isdigit()


# --- figures ------------------------------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (values in seconds; the result in milliseconds)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1))
    return round(ordered[rank] * 1000, 2)


def kind_figures(samples: list[Sample], seconds: float) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for kind in MIX:
        mine = [s for s in samples if s.kind == kind]
        ok = [s.latency for s in mine if s.status.startswith("2")]
        out[kind] = {"count": len(mine), "perSecond": round(len(mine) / seconds, 2) if seconds else 0.0,
                     "p50ms": percentile(ok, 0.50), "p99ms": percentile(ok, 0.99),
                     "statuses": dict(sorted(Counter(s.status for s in mine).items()))}
    return out


def minutes(load: Load, duration: float) -> list[dict[str, Any]]:
    last = max(0, int((duration - 1e-9) // 60))
    buckets: dict[int, list[Sample]] = defaultdict(list)
    for sample in load.samples:
        buckets[min(last, int(sample.end // 60))].append(sample)
    rows = []
    for minute in range(last + 1):
        mine = buckets.get(minute, [])
        seconds = min(60.0, duration - 60 * minute)
        rss = [r["totalKiB"] for r in load.rss if minute * 60 <= r["t"] < (minute + 1) * 60]
        loads = [r["loadAverage"] for r in load.rss if minute * 60 <= r["t"] < (minute + 1) * 60]
        window = [r for r in load.rss if minute * 60 <= r["t"] <= (minute + 1) * 60 + load.args.sample_interval]
        cores = cpu_use(window)
        rows.append({
            "minute": minute + 1,
            "seconds": round(seconds, 1),
            "requests": len(mine),
            "perSecond": round(len(mine) / seconds, 1) if seconds else 0.0,
            "statuses": dict(sorted(Counter(s.status for s in mine).items())),
            "kinds": kind_figures(mine, seconds),
            "rssMeanMiB": round(statistics.fmean(rss) / 1024, 1) if rss else None,
            "loadAverage": round(statistics.fmean(loads), 2) if loads else None,
            "cpuCores": cores,
            "rssMaxMiB": round(max(rss) / 1024, 1) if rss else None,
        })
        rows[-1]["serverCpuMsPerRequest"] = (round(cores["server"] * seconds * 1000 / len(mine), 2)
                                             if cores and mine else None)
    return rows


def cpu_use(samples: list[dict[str, Any]]) -> dict[str, float] | None:
    """Cores used on average between the first and last sample (1.0 = one core busy): by the server, the database,
    this client, and everything else on the machine."""
    if len(samples) < 2:
        return None
    a, b = samples[0]["cpu"], samples[-1]["cpu"]
    wall = (b["machineTotal"] - a["machineTotal"]) / (os.cpu_count() or 1)
    if wall <= 0:
        return None
    used = {name: (b[name] - a[name]) / wall for name in ("server", "database", "client")}
    used["others"] = max(0.0, (b["machineBusy"] - a["machineBusy"]) / wall - sum(used.values()))
    return {name: round(value, 2) for name, value in used.items()}


def outage_figures(load: Load) -> dict[str, Any]:
    o = load.outage
    if o.back is None or o.stop_begin is None:
        return {"happened": False}
    after = [s for s in load.samples if s.end >= o.back]
    first_write = min((s.end for s in after if s.kind in WRITES and s.status.startswith("2")), default=None)
    late_5xx = max((s.end for s in after if s.status.startswith("5")), default=None)
    ready = min((t for t, path, status in o.probes if path == "/readyz" and t >= o.back and status == 200),
                default=None)
    # Surely down: from the moment pg_ctl stop returned to the moment pg_ctl start began (the server accepts
    # connections a little before pg_ctl start returns).
    down_from, down_to = o.stopped or o.back, o.start_begin or o.back
    during = [s for s in load.samples if s.end - s.latency >= down_from and s.end <= down_to]
    probes_down = [(path, status) for t, path, status in o.probes if down_from <= t <= down_to]

    def since_back(t: float | None) -> float | None:
        return None if t is None else round(t - o.back, 3)  # type: ignore[operator]

    recovery = [x for x in (since_back(ready), since_back(first_write)) if x is not None]
    return {
        "happened": True,
        "stopBegin": round(o.stop_begin, 3), "stopped": round(o.stopped or 0, 3),
        "startBegin": round(o.start_begin or 0, 3), "back": round(o.back, 3),
        "downSeconds": round(o.back - o.stop_begin, 3),
        "duringStatuses": dict(sorted(Counter(s.status for s in during).items())),
        "duringProblems": sum(1 for s in during if s.status == "503" and s.problem),
        "duringRequests": len(during),
        "probesDuring": dict(sorted(Counter(f"{p} {st}" for p, st in probes_down).items())),
        "readyAfterBackSeconds": since_back(ready),
        "firstWriteAfterBackSeconds": since_back(first_write),
        "last5xxAfterBackSeconds": since_back(late_5xx),
        "recoverySeconds": max([*recovery, since_back(late_5xx) or 0.0]) if recovery else None,
    }


def in_outage(load: Load, sample: Sample) -> bool:
    o = load.outage
    return (o.stop_begin is not None and sample.end >= o.stop_begin
            and (o.back is None or sample.end <= o.back + RECOVERY_BOUND))


@dataclass
class Check:
    name: str
    ok: bool | None  # None: inconclusive (said why in the detail); does not fail the run
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


def checks(load: Load, store: dict[str, Any], exit_status: int | None, rows: list[dict[str, Any]],
           outage: dict[str, Any], duration: float) -> list[Check]:
    samples = load.samples
    outside_5xx = Counter(s.status for s in samples if s.status.startswith("5") and not in_outage(load, s))
    errors = Counter(s.status for s in samples if s.status.startswith("error"))
    unexpected_4xx = Counter(s.status for s in samples
                             if s.status.startswith("4") and int(s.status) not in EXPECTED_4XX)
    out = [
        Check("no 5xx outside the outage", not outside_5xx, _counts(outside_5xx)),
        Check("no transport errors or timeouts", not errors, _counts(errors)),
        Check("no unexpected 4xx", not unexpected_4xx, f"{_counts(unexpected_4xx)} (412 allowed: stale If-Match)"),
        Check("every import line stored", not load.import_line_failures, _counts(load.import_line_failures)),
        Check("every acknowledged write present", store["missingCount"] == 0,
              f"{store['missingCount']} missing of {sum(len(v) for v in load.fleet.acknowledged.values())}"),
        Check("no duplicated version", not store["duplicated"], ", ".join(store["duplicated"][:5]) or "none"),
        Check("every chain whole (versions 1..current)", not store["brokenChains"],
              ", ".join(store["brokenChains"][:5]) or "all"),
        Check("the whole store verifies", store["verificationError"] is None,
              f"{store['verifiedPassports']} passports, {store['versions']} versions, "
              f"{store['verifiedCredentials']} credentials; {store['verificationError'] or 'no error'}"),
        Check("passport serve exits 0 on SIGTERM", exit_status == 0, f"exit status {exit_status}"),
    ]
    if load.args.outage:
        inside = [s for s in samples if in_outage(load, s) and s.status.startswith("5")]
        improper = Counter(s.status for s in inside if not (s.status == "503" and s.problem))
        out.append(Check("the outage happened and was seen", outage.get("happened", False)
                         and outage.get("duringProblems", 0) > 0,
                         f"{outage.get('duringProblems', 0)} 503 problems while the database was down"))
        out.append(Check("5xx during the outage are 503 problem+json with Retry-After", not improper,
                         f"{len(inside)} 503 problems; others: {_counts(improper)}"))
        during = outage.get("duringStatuses", {})
        out.append(Check("requests while the database is down get 503", set(during) <= {"503"},
                         str(during)))
        recovery = outage.get("recoverySeconds")
        out.append(Check(f"recovery within {RECOVERY_BOUND:.0f} s of the database's return",
                         recovery is not None and recovery <= RECOVERY_BOUND, f"{recovery} s"))
    elif duration >= 180 and len(rows) >= 3:
        first, last = rows[0], rows[-1]
        growth = []
        for kind in MIX:
            a, b = first["kinds"][kind]["p99ms"], last["kinds"][kind]["p99ms"]
            if a and b and b > P99_GROWTH * a + P99_SLACK_MS:
                growth.append(f"{kind} {a} -> {b} ms")
        # Wall-clock latency on a shared machine moves with what else runs: when other processes took more than
        # QUIET cores in the first or the last minute, a p99 rise says nothing about the service (its CPU per
        # request, below, does), so it is reported as inconclusive rather than as a pass or a failure.
        others = max((row.get("cpuCores") or {}).get("others", 0.0) for row in (first, last))
        verdict: bool | None = not growth
        detail = "; ".join(growth) or "every kind"
        if growth and others > QUIET:
            verdict = None
            detail = f"inconclusive: others used up to {others:.2f} cores in the first or last minute; {detail}"
        out.append(Check(f"p99 stable (last minute <= {P99_GROWTH:g}x first + {P99_SLACK_MS:g} ms)", verdict, detail))
        a_cpu, b_cpu = first["serverCpuMsPerRequest"], last["serverCpuMsPerRequest"]
        out.append(Check(f"server CPU per request stable (last minute <= {CPU_GROWTH:g}x first)",
                         bool(a_cpu and b_cpu and b_cpu <= CPU_GROWTH * a_cpu), f"{a_cpu} -> {b_cpu} ms"))
        a_rss, b_rss = first["rssMeanMiB"], last["rssMeanMiB"]
        out.append(Check(f"RSS stable (last minute <= {RSS_GROWTH:g}x first)",
                         bool(a_rss and b_rss and b_rss <= RSS_GROWTH * a_rss), f"{a_rss} -> {b_rss} MiB"))
    return out


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{key}: {n}" for key, n in sorted(counter.items())) or "none"


# --- the run --------------------------------------------------------------------------------------------------


def machine(cluster: PgCluster | None) -> dict[str, Any]:
    info: dict[str, Any] = {"cores": os.cpu_count(), "python": platform.python_version(),
                            "platform": platform.platform()}
    with contextlib.suppress(OSError, ValueError, IndexError):
        info["memoryGiB"] = round(int(Path("/proc/meminfo").read_text().split()[1]) / 1024**2, 1)
    if cluster is not None:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            info["postgres"] = subprocess.run([str(cluster.bindir / "postgres"), "--version"], capture_output=True,
                                              text=True, timeout=10, check=True).stdout.strip()
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        info["commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                        text=True, timeout=10, check=True).stdout.strip()
    return info


def seed(server: ServerProcess, key: str, fleet: Fleet, count: int) -> None:
    numbers = [next(fleet.numbers) for _ in range(count)]
    response = httpx.post(f"{server.url}/api/v1/imports", content=ndjson(PREFIX, numbers), timeout=600,
                          headers={"Authorization": f"Bearer {key}", "Content-Type": "application/x-ndjson",
                                   "Idempotency-Key": "seed"})
    response.raise_for_status()
    report = response.json()
    if report["succeeded"] != count:
        raise RuntimeError(f"seeding stored {report['succeeded']} of {count} passports: {report['results'][:3]}")
    for result in report["results"]:
        fleet.acknowledge(result["passportId"].removeprefix("urn:uuid:"), result["version"],
                          numbers[result["line"] - 1])


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    out = args.out or HERE / f"results-{stamp}{'-outage' if args.outage else ''}.json"
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="passport-soak-"))
    workdir.mkdir(parents=True, exist_ok=True)
    keys = workdir / "keys"
    with contextlib.ExitStack() as stack:
        if args.workdir is None:
            stack.callback(shutil.rmtree, workdir, True)
        cluster: PgCluster | None = None
        if args.database == "postgres":
            cluster = stack.enter_context(PgCluster(durable=True, max_connections=200))
            url = cluster.url
        else:
            url = f"sqlite:///{workdir / 'passport.db'}"
        print(f"soak: {args.database} ({url}), {args.workers} workers, {args.concurrency} clients, "
              f"{args.duration:g} s{', outage' if args.outage else ''}", flush=True)
        key = prepare_service(url, keys)
        server = ServerProcess(service_env(url, keys), workdir / "server.log", workers=args.workers)
        stack.enter_context(server)
        fleet = Fleet()
        seed(server, key, fleet, args.seed)
        load = Load(args, server, key, fleet, cluster)
        asyncio.run(load.run())
        elapsed = load.now()
        exit_status: int | None
        try:
            exit_status = server.terminate()
        except subprocess.TimeoutExpired:
            exit_status = None
        if cluster is not None and not cluster.running:
            cluster.start()  # an outage cut short by the end of the run
        store = check_store(url, keys, fleet.acknowledged).as_json()
        ran = min(args.duration, load.ran)
        rows = minutes(load, ran)
        outage = outage_figures(load)
        verdicts = checks(load, store, exit_status, rows, outage, ran)
        results = {
            "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
            "machine": machine(cluster),
            "started": stamp,
            "elapsedSeconds": round(elapsed, 1),
            "requests": len(load.samples),
            "loadSeconds": round(ran, 1),
            "perSecond": round(len(load.samples) / ran, 1),
            "kinds": kind_figures(load.samples, ran),
            "statuses": dict(sorted(Counter(s.status for s in load.samples).items())),
            "minutes": rows,
            "rss": load.rss,
            "outage": outage,
            "acknowledged": {"passports": len(fleet.acknowledged),
                             "versions": sum(len(v) for v in fleet.acknowledged.values())},
            "store": store,
            "checks": [c.as_json() for c in verdicts],
            "serverLog": str(workdir / "server.log") if args.workdir else None,
        }
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(summary(results))
    print(f"results: {out}")
    return 0 if all(c.ok is not False for c in verdicts) else 1


def summary(results: dict[str, Any]) -> str:
    lines = []
    kinds = list(MIX)
    head = (f"{'min':>3} {'req/s':>7} " + " ".join(f"{k[:12]:>15}" for k in kinds)
            + f" {'5xx':>5} {'RSS MiB':>8} {'load':>5} {'srv ms/req':>10}  cores: server/db/client/others")
    lines.append("p50/p99 ms per kind, per minute (RSS: mean of the server's processes; load: the machine's load "
                 "average; srv ms/req: server CPU per request; cores: CPU used, on average, by each party)")
    lines.append(head)
    for row in results["minutes"]:
        fives = sum(n for s, n in row["statuses"].items() if s.startswith("5"))
        cells = " ".join(f"{row['kinds'][k]['p50ms']:>7.1f}/{row['kinds'][k]['p99ms']:<7.1f}" for k in kinds)
        cpu = row.get("cpuCores") or {}
        cores = "/".join(f"{cpu.get(name, 0):.2f}" for name in ("server", "database", "client", "others"))
        lines.append(f"{row['minute']:>3} {row['perSecond']:>7.1f} {cells} {fives:>5} {row['rssMeanMiB'] or 0:>8.1f} "
                     f"{row['loadAverage'] or 0:>5.1f} {row['serverCpuMsPerRequest'] or 0:>10.2f}  {cores}")
    lines.append("")
    lines.append(f"{'kind':<14} {'count':>7} {'per s':>7} {'p50 ms':>8} {'p99 ms':>8}  statuses")
    for kind, figure in results["kinds"].items():
        lines.append(f"{kind:<14} {figure['count']:>7} {figure['perSecond']:>7.1f} {figure['p50ms']:>8.1f} "
                     f"{figure['p99ms']:>8.1f}  {figure['statuses']}")
    lines.append(f"{'all':<14} {results['requests']:>7} {results['perSecond']:>7.1f}  {results['statuses']}")
    outage = results["outage"]
    if outage.get("happened"):
        lines.append("")
        lines.append(f"outage: database down {outage['downSeconds']} s; during it {outage['duringStatuses']}; "
                     f"probes {outage['probesDuring']}")
        lines.append(f"  after its return: /readyz 200 in {outage['readyAfterBackSeconds']} s, first write in "
                     f"{outage['firstWriteAfterBackSeconds']} s, last 5xx at {outage['last5xxAfterBackSeconds']} s "
                     f"-> recovery {outage['recoverySeconds']} s")
    store = results["store"]
    lines.append("")
    lines.append(f"store: {store['passports']} passports, {store['versions']} versions "
                 f"(acknowledged {results['acknowledged']['passports']} / {results['acknowledged']['versions']})")
    for check in results["checks"]:
        verdict = {True: "ok", False: "FAIL", None: "inconclusive"}[check["ok"]]
        lines.append(f"  [{verdict}] {check['name']}: {check['detail']}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
