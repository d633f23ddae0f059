"""Bulk import over HTTP: NDJSON and CSV (rows referencing a battery model), event lines for a fleet, a per-line
report, idempotency, a bad line failing alone; and Must show 4 (small version): a real server killed with SIGKILL in
the middle of an import leaves only whole passports that verify, and re-sending with the same Idempotency-Key
finishes without duplicates."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from passport.config import Settings
from passport.service.context import open_context
from passport.service.models import item_part, model_part
from passport.service.verification import verify_store
from tests.api_fixtures import NDJSON, OTHER, OWNER, Api

API = "/api/v1"


def lmt_passport(example: Any, serial: str) -> dict[str, Any]:
    document: dict[str, Any] = example("passport-lmt")
    document.pop("passportId")
    document["general"]["serialNumber"] = serial
    return document


def soh(value: float, when: str = "2026-11-24T08:00:00Z") -> dict[str, Any]:
    return {"type": "state-of-health", "condition": {"stateOfCharge": {"value": value, "lastUpdate": when}}}


async def post_import(api: Api, body: str | bytes, key: str, media: str = NDJSON, role: str = OWNER) -> dict[str, Any]:
    response = await api.request(role, "POST", f"{API}/imports", content=body,
                                 headers={"Content-Type": media, "Idempotency-Key": key})
    assert response.status_code == 200, response.text
    assert response.headers["location"].startswith(f"{API}/imports/")
    return dict(response.json())


def by_line(report: Mapping[str, Any]) -> dict[int, dict[str, Any]]:
    return {result["line"]: result for result in report["results"]}


@pytest.mark.anyio
async def test_ndjson_passports_models_events_and_bad_lines(api: Api, example: Any) -> None:
    existing = await api.issue(lmt_passport(example, "IMP-EXISTING"))
    model = await api.request(OWNER, "POST", f"{API}/models", json=model_part(example("passport-lmt")))
    model_item = item_part(lmt_passport(example, "IMP-0003"))
    gtin = example("passport-lmt")["general"]["gtin"]
    lines = [
        json.dumps(lmt_passport(example, "IMP-0001")),  # 1
        json.dumps(lmt_passport(example, "IMP-0002")),  # 2
        json.dumps({"modelId": model.json()["modelId"], "passport": model_item}),  # 3
        json.dumps({"bad": 1}),  # 4: not a passport
        "{not json",  # 5
        "",  # 6: blank, skipped but counted
        json.dumps({"passportId": existing, "event": soh(40.0)}),  # 7
        json.dumps({"gtin": gtin, "serialNumber": "IMP-0001", "event": soh(41.0)}),  # 8: issued by line 1
        json.dumps({"passportId": f"urn:uuid:{existing}", "event": {  # 9: on top of line 7
            "type": "negative-event", "negativeEvent": "Dropped", "lastUpdate": "2026-11-24T09:00:00Z"}}),
        json.dumps(lmt_passport(example, "IMP-0002")),  # 10: the same battery again
        json.dumps({"gtin": gtin, "serialNumber": "NOPE", "event": soh(1.0)}),  # 11: no such passport
        json.dumps({"passportId": existing, "event": {"type": "recycled"}}),  # 12: not waste
    ]
    # An event line may name, by GTIN and serial, a battery issued earlier in the same batch.
    same_batch = [json.dumps(lmt_passport(example, "IMP-0000")),
                  json.dumps({"gtin": gtin, "serialNumber": "IMP-0000", "event": soh(39.0)})]
    report = await post_import(api, "\n".join(same_batch), "fleet-0")
    assert [(r["passportId"], r["version"]) for r in report["results"]] == [
        (report["results"][0]["passportId"], 1), (report["results"][0]["passportId"], 2)]

    before = api.context.store.count_passports()
    report = await post_import(api, "\n".join(lines) + "\n", "fleet-1")
    results = by_line(report)
    assert sorted(results) == [1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12]
    assert (report["lines"], report["succeeded"], report["failed"], report["status"]) == (11, 6, 5, "done")
    for line in (1, 2, 3):
        assert results[line]["version"] == 1
    assert results[7] == {"line": 7, "passportId": f"urn:uuid:{existing}", "version": 2}
    assert results[8]["passportId"] == results[1]["passportId"]
    assert results[8]["version"] == 2
    assert results[9]["version"] == 3
    expected = {4: (422, "document-invalid"), 5: (400, "invalid-input"), 10: (409, "conflict"),
                11: (404, "not-found"), 12: (409, "transition-not-allowed")}
    for line, (status, slug) in expected.items():
        problem = results[line]["problem"]
        assert (problem["status"], problem["type"]) == (status, f"/problems/{slug}"), problem
        assert {"type", "title", "status", "detail"} <= set(problem)
    assert api.context.store.count_passports() == before + 3
    condition = (await api.current(existing)).json()["passport"]["condition"]
    assert condition["stateOfCharge"]["value"] == 40.0
    assert condition["negativeEvents"][-1]["negativeEvent"] == "Dropped"

    # the same key again: the same report, nothing created twice
    again = await post_import(api, "\n".join(lines) + "\n", "fleet-1")
    assert again == report
    assert api.context.store.count_passports() == before + 3
    stored = await api.request(OWNER, "GET", f"{API}/imports/{report['importId']}")
    assert stored.json() == report
    assert (await api.request(OTHER, "GET", f"{API}/imports/{report['importId']}")).status_code == 404
    assert verify_store(api.context).passports == before + 3


def flatten(document: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Dotted CSV columns of a document (lists and language maps as one JSON cell)."""
    cells: dict[str, str] = {}
    for key, value in document.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            cells.update(flatten(value, name + "."))
        elif isinstance(value, list):
            cells[name] = json.dumps(value)
        elif isinstance(value, bool):
            cells[name] = str(value).lower()
        else:
            cells[name] = str(value)
    return cells


def csv_text(rows: Sequence[Mapping[str, str]]) -> str:
    buffer = io.StringIO()
    columns = list(rows[0])
    writer = csv.DictWriter(buffer, columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


@pytest.mark.anyio
async def test_csv_rows_reference_a_model_and_events_follow(api: Api, example: Any) -> None:
    lmt = example("passport-lmt")
    model_id = (await api.request(OWNER, "POST", f"{API}/models", json=model_part(lmt))).json()["modelId"]
    rows = []
    for index in range(5):
        item = item_part(lmt_passport(example, f"CSV-{index:04d}"))
        item.pop("passportId", None)
        rows.append({"modelId": model_id, **flatten(item)})
    rows[2]["general.manufacturingDate"] = "2026-02-30"  # this row alone fails
    rows[3]["general.operatorInformation.contactName"] = 'Quoted, "with" a\nnewline'
    report = await post_import(api, csv_text(rows), "csv-1", "text/csv")
    assert (report["lines"], report["succeeded"], report["failed"]) == (5, 4, 1)
    results = by_line(report)
    assert results[4]["problem"]["status"] == 422  # line 1 is the header: rows are lines 2 to 6
    created = [results[line]["passportId"].removeprefix("urn:uuid:") for line in (2, 3, 5, 6)]
    envelope = (await api.current(created[2])).json()
    assert envelope["modelId"] == model_id
    assert envelope["passport"]["general"]["operatorInformation"]["contactName"] == 'Quoted, "with" a\nnewline'
    assert envelope["passport"]["performance"] == lmt["performance"]  # from the model

    events = csv_text([{"passportId": created[0], "event.type": "state-of-health",
                        "event.condition.stateOfCharge.value": "12.5",
                        "event.condition.stateOfCharge.lastUpdate": "2026-11-24T08:00:00Z"}])
    by_serial = csv_text([{"gtin": lmt["general"]["gtin"], "serialNumber": f"CSV-{index:04d}",
                           "event.type": "state-of-health", "event.condition.numberOfFullCycles.value": str(index),
                           "event.condition.numberOfFullCycles.lastUpdate": "2026-11-24T08:00:00Z"}
                          for index in (0, 1, 2)])
    first = await post_import(api, events, "csv-events", "text/csv")
    assert first["results"] == [{"line": 2, "passportId": f"urn:uuid:{created[0]}", "version": 2}]
    second = await post_import(api, by_serial, "csv-events-2", "text/csv")
    assert [r.get("version") for r in second["results"]] == [3, 2, None]  # CSV-0002 was never issued
    current = (await api.current(created[0])).json()["passport"]["condition"]
    assert current["stateOfCharge"]["value"] == 12.5
    assert current["numberOfFullCycles"]["value"] == 0
    again = await post_import(api, csv_text(rows), "csv-1", "text/csv")
    assert again == report
    assert verify_store(api.context).passports == 4


# --- Must show 4: SIGKILL in the middle of an import ---------------------------------------------------------------

LINES = 2000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cli(env: Mapping[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "passport", *args], env=dict(env), capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


class Server:
    """``passport serve`` in a subprocess of its own process group; always killed in the end."""

    def __init__(self, env: Mapping[str, str], port: int) -> None:
        self.env, self.port = env, port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(  # our own interpreter and package
            [sys.executable, "-m", "passport", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=dict(self.env), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)
        raise AssertionError("the server did not start")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def import_rows(database: Path) -> tuple[str, int] | None:
    """(status, results) of the one import, read the way an operator would: straight from the database."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as connection:
        try:
            row = connection.execute("SELECT id, status FROM imports").fetchone()
            if row is None:
                return None
            count = connection.execute("SELECT count(*) FROM import_results WHERE import_id = ?", (row[0],))
            return str(row[1]), int(count.fetchone()[0])
        except sqlite3.OperationalError:  # tables not there yet
            return None


def test_sigkill_mid_import_then_resend(tmp_path: Path, example: Any) -> None:
    started = time.monotonic()
    database = tmp_path / "kill.db"
    port = free_port()
    env = {**os.environ, "PASSPORT_DATABASE_URL": f"sqlite:///{database}", "PASSPORT_KEYS_DIR": str(tmp_path / "keys"),
           "PASSPORT_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", "PASSPORT_ENV": "development"}
    cli(env, "orgs", "create", "acme", "--name", "ACME")
    key = cli(env, "apikeys", "create", "--org", "acme", "--role", "manufacturer", "--quiet").strip()
    body = "".join(json.dumps(lmt_passport(example, f"KILL-{n:05d}")) + "\n" for n in range(LINES)).encode()
    headers = {"Authorization": f"Bearer {key}", "Content-Type": NDJSON, "Idempotency-Key": "kill-test"}
    url = f"http://127.0.0.1:{port}{API}/imports"

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 64 * 1024):
            yield body[start:start + 64 * 1024]

    server = Server(env, port)
    try:
        server.start()
        outcome: list[object] = []

        def send() -> None:
            try:
                outcome.append(httpx.post(url, content=chunks(), headers=headers, timeout=60))
            except httpx.HTTPError as exc:  # the server dies under it
                outcome.append(exc)

        sender = threading.Thread(target=send)
        sender.start()
        while (state := import_rows(database)) is None or state[1] == 0:  # wait for the first committed batch
            # a bound on the wait, not a timing assertion: a server that commits nothing must not hang the suite
            assert time.monotonic() - started < 300, "no batch was committed in 5 minutes"
            time.sleep(0.01)
        server.kill()
        sender.join(timeout=30)
        assert outcome
        assert isinstance(outcome[0], httpx.HTTPError), "the import finished before the kill"
        status, committed = import_rows(database) or ("?", 0)
        assert status == "running"
        assert 0 < committed < LINES

        # Only whole passports, each one verifying, one per committed line.
        context = open_context(Settings(database_url=f"sqlite:///{database}", keys_dir=tmp_path / "keys",
                                        public_base_url=f"http://127.0.0.1:{port}"))
        try:
            assert context.store.count_passports() == committed
            assert verify_store(context).passports == committed
        finally:
            context.close()

        # The lease of the killed worker (60 s without a heartbeat) is what lets another take the import over;
        # simulate its expiry rather than wait for it.
        server.start()
        busy = httpx.post(url, content=body, headers=headers, timeout=60)
        assert busy.status_code == 409  # before the lease expires: still someone else's
        with sqlite3.connect(database, timeout=5) as connection:
            connection.execute("UPDATE imports SET heartbeat_at = '2000-01-01 00:00:00.000000'")
        resent = httpx.post(url, content=body, headers=headers, timeout=60)
        assert resent.status_code == 200, resent.text
        report = resent.json()
        assert (report["status"], report["lines"], report["succeeded"], report["failed"]) == ("done", LINES, LINES, 0)
        assert [r["line"] for r in report["results"]] == list(range(1, LINES + 1))
    finally:
        server.kill()

    context = open_context(Settings(database_url=f"sqlite:///{database}", keys_dir=tmp_path / "keys",
                                    public_base_url=f"http://127.0.0.1:{port}"))
    try:
        assert context.store.count_passports() == LINES  # each serial once
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
            serials = connection.execute("SELECT count(DISTINCT serial), count(*) FROM passports").fetchone()
        assert tuple(serials) == (LINES, LINES)
        assert verify_store(context).passports == LINES
    finally:
        context.close()
