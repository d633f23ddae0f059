"""Must show 3 of issue 11, the malformed-input corpus: every route that reads a body (JSON, NDJSON, CSV, form) and
every query parameter, fed hostile input (huge numbers, deep nesting, invalid and overlong UTF-8, lone surrogates,
NaN and infinities, duplicate keys, enormous strings, BOMs, NUL bytes, zip-bomb-like CSV, a 50 MB NDJSON line,
wrong content types, truncated bodies), answers with a 4xx ``application/problem+json`` (forms: a 4xx HTML error
page or problem), never a 5xx, and never makes the process grow by more than :data:`MEMORY_BOUND` bytes of peak RSS
while answering (measured per request: the kernel's high-water mark reset before each one).

The bulk import reports per line: hostile *lines* give 200 with every line failed (a 4xx problem each); a hostile
*body* (a line or CSV record beyond the line limit, invalid CSV framing) gives a 4xx problem.

On PostgreSQL, which cannot store NUL in text, NUL characters in body fields, query and path parameters are sent to
every route as well: strict JSON reading (passport.jsonio) and the CSV import refuse them where the input is, and a
value the database refuses all the same (a path or query parameter, a member of a body read by Pydantic) is a 400
problem (passport.web.problems maps sqlalchemy's DataError), never a 500, with nothing written."""

from __future__ import annotations

import faulthandler
import json
import re
import tempfile
import tracemalloc
import urllib.parse
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from passport.access import Role
from passport.config import Settings
from passport.service import access_management
from passport.service.apikeys import Caller
from passport.service.context import ServiceContext, open_context
from passport.service.models import BatteryModels, item_part, model_part
from passport.service.passports import Passports
from passport.service.sessions import sign_in
from passport.web.app import create_app
from tests.api_fixtures import ADMIN, LEGITIMATE, OWNER, OWNER_ORG, PROBLEM_JSON, ROLE_KEYS, seed_roles
from tests.conftest import EXAMPLES, FakeClock, postgres_url

pytestmark = pytest.mark.anyio

MB = 1024 * 1024
MEMORY_BOUND = 300 * MB
HANG_GUARD_SECONDS = 900  # a hang dumps every thread's stack and ends the run: it never blocks CI silently
NDJSON, CSV, FORM = "application/x-ndjson", "text/csv", "application/x-www-form-urlencoded"
API = "/api/v1"


# --- measuring a request's peak memory ----------------------------------------------------------------------------


def _status_kb(field_name: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    raise LookupError(field_name)


def _can_reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        _status_kb("VmHWM")
    except (OSError, LookupError):
        return False
    return True


class PeakMemory:
    """Peak resident memory growth while something runs: the kernel's high-water mark (VmHWM), reset before it
    through /proc/self/clear_refs; where that is not available, the peak of Python allocations (tracemalloc)."""

    def __init__(self) -> None:
        self.kernel = _can_reset_peak()

    async def measure(self, action: Callable[[], Any]) -> tuple[Any, int]:
        if self.kernel:
            Path("/proc/self/clear_refs").write_text("5")
            before = _status_kb("VmRSS")
            result = await action()
            return result, (_status_kb("VmHWM") - before) * 1024
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            result = await action()
            return result, tracemalloc.get_traced_memory()[1] - before
        finally:
            tracemalloc.stop()


# --- the world the corpus is sent to --------------------------------------------------------------------------------


@dataclass
class World:
    context: ServiceContext
    app: Any
    keys: dict[str, str]
    ids: dict[str, str]  # path parameter name -> a real value
    memory: PeakMemory = field(default_factory=PeakMemory)
    peaks: dict[str, int] = field(default_factory=dict)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app, raise_app_exceptions=False),
                                 base_url="http://testserver",
                                 timeout=None)

    def url(self, template: str, **override: str) -> str:
        ids = {**self.ids, **override}
        return re.sub(r"\{(\w+)(?::path)?\}", lambda m: ids[m.group(1)], template)

    def headers(self, role: str | None, **extra: str) -> dict[str, str]:
        out = {k.replace("_", "-"): v for k, v in extra.items()}
        if role is not None:
            out["Authorization"] = f"Bearer {self.keys[role]}"
        return out

    async def send(self, label: str, client: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> httpx.Response:
        response, peak = await self.memory.measure(lambda: client.request(method, url, **kwargs))
        self.peaks[label] = peak
        assert peak < MEMORY_BOUND, f"{label}: peak memory grew by {peak // MB} MB"
        return response  # type: ignore[no-any-return]


def build_world(database_url: str, root: Path) -> World:
    clock = FakeClock()
    settings = Settings(database_url=database_url, keys_dir=root / "keys", public_base_url="http://testserver",
                        rate_limit_enabled=False)
    context = open_context(settings, clock=clock)
    keys = seed_roles(context)
    example = json.loads((EXAMPLES / "passport-lmt.json").read_text("utf-8"))
    example.pop("passportId")
    passports = Passports(context)
    passport_id = passports.issue(OWNER_ORG, example).passport_id
    model, _ = BatteryModels(context).register(OWNER_ORG, model_part(example))
    item = item_part(example)
    item["general"]["serialNumber"] = "CORPUS-2"
    passports.issue(OWNER_ORG, item, model.model_id)
    legitimate = Caller(Role.LEGITIMATE_INTEREST, ROLE_KEYS[LEGITIMATE][0])
    request = access_management.request_access(context, legitimate, "passport", passport_id, "recycler", "corpus")
    grant = context.store.list_grants(grantor=OWNER_ORG)[0]
    ids = {"passport_id": passport_id, "model_id": model.model_id, "request_id": request.request_id,
           "grant_id": grant.grant_id, "slug": OWNER_ORG, "organisation": ROLE_KEYS[LEGITIMATE][0],
           "purpose": "recycler", "decision": "approve", "key_id": "no-such-key", "job_id": "no-such-job",
           "import_id": "no-such-import", "name": "passport",
           "path": f"{example['general']['gtin']}/21/{example['general']['serialNumber']}"}
    return World(context, create_app(settings, context), keys, ids)


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with tempfile.TemporaryDirectory() as directory:
        made = build_world(f"sqlite:///{Path(directory) / 'corpus.db'}", Path(directory))
        faulthandler.dump_traceback_later(HANG_GUARD_SECONDS, exit=True)
        try:
            yield made
        finally:
            faulthandler.cancel_dump_traceback_later()
            made.context.close()


# --- every route that reads a body ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    method: str
    path: str
    role: str | None  # who may call it, so that the body is read past authentication
    kind: str  # "json" (read strictly by passport.jsonio), "model" (a Pydantic body), "import", "form", "none"
    media: str = "application/json"


TARGETS = [
    Target("POST", "/api/v1/passports", OWNER, "json"),
    Target("PATCH", "/api/v1/passports/{passport_id}", OWNER, "json", "application/merge-patch+json"),
    Target("POST", "/api/v1/passports/{passport_id}/events", OWNER, "json"),
    Target("POST", "/api/v1/passports/{passport_id}/repurpose", OWNER, "json"),
    Target("POST", "/api/v1/models", OWNER, "json"),
    Target("PUT", "/api/v1/models/{model_id}", OWNER, "json"),
    Target("POST", "/api/v1/verify", None, "json"),
    Target("POST", "/api/v1/orgs/{slug}/purposes", LEGITIMATE, "model"),
    Target("POST", "/api/v1/grants", OWNER, "model"),
    Target("POST", "/api/v1/access-requests", LEGITIMATE, "model"),
    Target("POST", "/api/v1/access-requests/{request_id}/approve", OWNER, "model"),
    Target("POST", "/api/v1/access-requests/{request_id}/refuse", OWNER, "model"),
    Target("PUT", "/api/v1/passports/{passport_id}/owner", OWNER, "model"),
    Target("POST", "/api/v1/orgs", ADMIN, "model"),
    Target("POST", "/api/v1/orgs/{slug}/apikeys", ADMIN, "model"),
    Target("POST", "/api/v1/imports", OWNER, "import", NDJSON),
    Target("POST", "/api/v1/orgs/{slug}/purposes/{purpose}/{decision}", ADMIN, "none"),
    Target("POST", "/api/v1/orgs/{slug}/keys/rotate", ADMIN, "none"),
    Target("DELETE", "/api/v1/grants/{grant_id}", OWNER, "none"),
    Target("DELETE", "/api/v1/apikeys/{key_id}", ADMIN, "none"),
    # forms: the role of the console session they are sent in
    Target("POST", "/console/sign-in", OWNER, "form", FORM),
    Target("POST", "/console/sign-out", OWNER, "form", FORM),
    Target("POST", "/console/access/requests", LEGITIMATE, "form", FORM),
    Target("POST", "/console/access/requests/{request_id}/approve", OWNER, "form", FORM),
    Target("POST", "/console/access/requests/{request_id}/refuse", OWNER, "form", FORM),
    Target("POST", "/console/access/grants/{grant_id}/revoke", OWNER, "form", FORM),
    Target("POST", "/console/access/purposes/{organisation}/{purpose}/{decision}", ADMIN, "form", FORM),
]
BY_KIND = {kind: [t for t in TARGETS if t.kind == kind] for kind in ("json", "model", "import", "form", "none")}


def routes(app: Any) -> Iterator[tuple[str, str, Any]]:
    """(method, path, endpoint) of every route of the app."""
    for route in app.routes:
        contexts = route.effective_route_contexts() if hasattr(route, "effective_route_contexts") else [route]
        for context in contexts:
            for method in sorted(getattr(context, "methods", None) or ()):
                yield method, context.path, getattr(context, "endpoint", None)


def test_every_route_that_reads_a_body_is_in_the_corpus(world: World) -> None:
    writes = {(method, path) for method, path, _ in routes(world.app) if method in ("POST", "PUT", "PATCH", "DELETE")}
    listed = {(t.method, t.path) for t in TARGETS}
    assert writes == listed, f"not in TARGETS: {sorted(writes - listed)}; no longer routes: {sorted(listed - writes)}"


# --- the corpus -----------------------------------------------------------------------------------------------------


async def chunks_of(data: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    """A body as a client streams it (no Content-Length), in chunks like an ASGI server's."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


ENORMOUS = b'{"a": "' + b"x" * (11 * MB) + b'"}'
WELL_FORMED = json.dumps({"general": {"modelName": 5}}).encode()  # valid JSON, valid for no route

JSON_CORPUS: dict[str, bytes] = {
    "exponent beyond a double": b'{"a": 1e400}',
    "negative exponent beyond a double": b'{"a": [-1.5e99999]}',
    "integer of 4001 digits": b'{"a": 1' + b"0" * 4000 + b"}",
    "integer of 5000 digits": b'{"a": ' + b"9" * 5000 + b"}",
    "100k nested arrays": b"[" * 100_000 + b"]" * 100_000,
    "100k nested objects": b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
    "100k unclosed brackets": b"[" * 100_000,
    "invalid UTF-8": b'{"a": "\xff\xfe"}',
    "overlong UTF-8": b'{"a": "\xc0\xaf"}',
    "UTF-8 encoded surrogate": b'{"a": "\xed\xa0\x80"}',
    "escaped lone surrogate": b'{"a": "\\ud800"}',
    "escaped lone surrogate as a key": b'{"\\udc00": 1}',
    "NaN": b'{"a": NaN}',
    "Infinity": b'{"a": Infinity}',
    "-Infinity": b'[-Infinity]',
    "duplicate keys": b'{"a": 1, "a": 2}',
    "duplicate keys deep": b'{"general": {"modelName": "x", "modelName": "y"}}',
    "enormous string": ENORMOUS,
    "BOM": b'\xef\xbb\xbf{"a": 1}',
    "UTF-16 with BOM": '{"a": 1}'.encode("utf-16"),
    "raw NUL in a string": b'{"a": "\x00"}',
    "NUL alone": b"\x00",
    "escaped NUL": b'{"a": "\\u0000"}',
    "truncated": WELL_FORMED[: len(WELL_FORMED) // 2],
    "empty": b"",
    "whitespace": b" \n\t ",
    "an array": b"[1, 2]",
    "a string": b'"x"',
    "null": b"null",
    "two documents": b"{} {}",
    "control character in a string": b'{"a": "\x01"}',
}
WRONG_TYPES = ["text/plain", "application/xml", "multipart/form-data; boundary=x", FORM, "application/json-seq",
               "application/json; charset=utf-16", ""]


def assert_problem(response: httpx.Response, label: str) -> None:
    assert 400 <= response.status_code < 500, f"{label}: {response.status_code} {response.text[:300]}"
    assert response.headers.get("content-type") == PROBLEM_JSON, f"{label}: {response.headers.get('content-type')}"
    problem = response.json()
    assert problem["status"] == response.status_code, label
    assert problem["type"].startswith("/problems/"), label


@pytest.mark.parametrize("target", BY_KIND["json"] + BY_KIND["model"], ids=lambda t: f"{t.method} {t.path}")
async def test_json_bodies(world: World, target: Target) -> None:
    url = world.url(target.path)
    async with world.client() as client:
        for name, body in JSON_CORPUS.items():
            label = f"{target.method} {url} {name}"
            headers = world.headers(target.role, content_type=target.media, if_match="*")
            response = await world.send(label, client, target.method, url, content=body, headers=headers)
            assert_problem(response, label)
        label = f"{target.method} {url} enormous string, streamed"
        response = await world.send(label, client, target.method, url, content=chunks_of(ENORMOUS),
                                    headers=world.headers(target.role, content_type=target.media, if_match="*"))
        assert_problem(response, label)
        for media in WRONG_TYPES:
            label = f"{target.method} {url} Content-Type {media!r}"
            headers = world.headers(target.role, if_match="*", **({"content_type": media} if media else {}))
            response = await world.send(label, client, target.method, url, content=WELL_FORMED, headers=headers)
            assert_problem(response, label)


@pytest.mark.parametrize("target", BY_KIND["none"], ids=lambda t: f"{t.method} {t.path}")
async def test_routes_without_a_body_ignore_one(world: World, target: Target) -> None:
    """Routes that read no body never trip over one. (Sent as another organisation's admin would not succeed: the
    ids are unknown or the caller may not, so nothing changes.)"""
    url = world.url(target.path, slug="no-such-org", grant_id="no-such-grant")
    async with world.client() as client:
        for name in ("100k nested arrays", "invalid UTF-8", "enormous string", "NUL alone"):
            label = f"{target.method} {url} {name}"
            response = await world.send(label, client, target.method, url, content=JSON_CORPUS[name],
                                        headers=world.headers(target.role, content_type="application/json"))
            assert_problem(response, label)


# --- bulk import: NDJSON and CSV ------------------------------------------------------------------------------------

LINE_LIMIT = 1_000_000
CSV_HEADER = b"general.serialNumber,performance.expectedLifetime,condition.numberOfFullCycles.value," \
             b"composition.batteryMaterials\n"


def csv_row(serial: bytes = b"S-1", lifetime: bytes = b"10", cycles: bytes = b"5", materials: bytes = b"") -> bytes:
    return b",".join((serial, lifetime, cycles, materials)) + b"\n"


# whole bodies the import must refuse with one 4xx problem
IMPORT_REFUSED: dict[str, tuple[str, Callable[[], Any]]] = {
    "NDJSON line of 50 MB": (NDJSON, lambda: b'{"a": "' + b"x" * (50 * MB) + b'"}\n'),
    "NDJSON line of 50 MB, streamed": (NDJSON, lambda: chunks_of(b'{"a": "' + b"x" * (50 * MB) + b'"}\n')),
    "NDJSON line of 50 MB, never ended": (NDJSON, lambda: chunks_of(b"[" * (50 * MB))),
    "CSV header of 5 million commas": (CSV, lambda: b"," * 5_000_000 + b"\n"),
    "CSV header of 900 000 commas": (CSV, lambda: b"," * 900_000 + b"\n"),
    "CSV quoted cell over 2 million lines": (CSV, lambda: CSV_HEADER + b'"' + b"x\n" * 2_000_000 + b'",1,1,\n'),
    "CSV quoted cell over 2 million lines, streamed": (
        CSV, lambda: chunks_of(CSV_HEADER + b'"' + b"\n" * 4_000_000 + b'",1,1,\n')),
    "CSV quoted cell never closed": (CSV, lambda: CSV_HEADER + b'"S-1,1,1,\n' * 1001),
    "CSV invalid UTF-8": (CSV, lambda: CSV_HEADER + csv_row(b"\xff\xfe")),
    "CSV overlong UTF-8": (CSV, lambda: CSV_HEADER + csv_row(b"\xc0\xaf")),
    "CSV header of unknown columns": (CSV, lambda: b"a,b,c\n1,2,3\n"),
    "CSV header with a carriage return inside a cell": (CSV, lambda: b"general.serialNumber\rx,y\n"),
    "JSON instead": ("application/json", lambda: b'{"passport": {}}'),
    "no Content-Type": ("", lambda: b"{}\n"),
}

def _line_of(body: bytes) -> Callable[[], bytes]:
    return lambda: body.replace(b"\n", b" ") + b"\n"


# bodies whose every line fails on its own (200, a 4xx problem per line)
IMPORT_LINES_FAIL: dict[str, tuple[str, Callable[[], bytes]]] = {
    **{f"NDJSON {name}": (NDJSON, _line_of(body))
       for name, body in JSON_CORPUS.items() if name not in ("empty", "whitespace", "enormous string")},
    "NDJSON line just under the limit": (NDJSON, lambda: b'{"a": "' + b"x" * (LINE_LIMIT - 20) + b'"}\n'),
    "NDJSON event with a huge number": (
        NDJSON, lambda: b'{"passportId": "x", "event": {"type": "state-of-health", "condition": 1e400}}\n'),
    "CSV row of 900 000 commas": (CSV, lambda: CSV_HEADER + b"," * 900_000 + b"\n"),
    "CSV quoted cell of 500 000 characters": (CSV, lambda: CSV_HEADER + csv_row(b'"' + b"x" * 500_000 + b'"')),
    "CSV NUL bytes": (CSV, lambda: CSV_HEADER + csv_row(b"S\x00-1", b"1\x000")),
    "CSV number beyond a double": (CSV, lambda: CSV_HEADER + csv_row(lifetime=b"1e400")),
    "CSV NaN": (CSV, lambda: CSV_HEADER + csv_row(lifetime=b"NaN")),
    "CSV integer of 4000 digits": (CSV, lambda: CSV_HEADER + csv_row(cycles=b"9" * 4000)),
    "CSV integer of 5000 digits": (CSV, lambda: CSV_HEADER + csv_row(cycles=b"9" * 5000)),
    "CSV JSON cell nested 100k deep": (CSV, lambda: CSV_HEADER + csv_row(materials=b"[" * 100_000)),
    "CSV JSON cell with duplicate keys": (
        CSV, lambda: CSV_HEADER + csv_row(materials=b'"[{""a"": 1, ""a"": 2}]"')),
    "CSV carriage return inside an unquoted cell": (CSV, lambda: CSV_HEADER + csv_row(b"S\r-1")),
    "CSV stray quotes": (CSV, lambda: CSV_HEADER + b'S"-1,1"0,1,\n'),
    "CSV too few cells": (CSV, lambda: CSV_HEADER + b"S-1\n"),
    "CSV BOM and a row": (CSV, lambda: b"\xef\xbb\xbf" + CSV_HEADER + csv_row()),
}

# bodies with nothing to import
IMPORT_EMPTY: dict[str, tuple[str, Callable[[], Any]]] = {
    "CSV header and 2 million empty lines": (CSV, lambda: CSV_HEADER + b"\n" * 2_000_000),
    "CSV header and 500 000 empty lines, streamed": (CSV, lambda: chunks_of(CSV_HEADER + b"\r\n" * 500_000)),
    "NDJSON of a million empty lines": (NDJSON, lambda: b"\n" * 1_000_000),
    "empty body": (NDJSON, lambda: b""),
}


async def import_body(world: World, client: httpx.AsyncClient, label: str, media: str, body: Any) -> httpx.Response:
    headers = world.headers(OWNER, idempotency_key=f"corpus {label}"[:200],
                            **({"content_type": media} if media else {}))
    return await world.send(label, client, "POST", f"{API}/imports", content=body, headers=headers)


async def test_import_refuses_hostile_bodies(world: World) -> None:
    async with world.client() as client:
        for label, (media, body) in IMPORT_REFUSED.items():
            assert_problem(await import_body(world, client, label, media, body()), label)


async def test_import_fails_hostile_lines_one_by_one(world: World) -> None:
    async with world.client() as client:
        for label, (media, body) in IMPORT_LINES_FAIL.items():
            response = await import_body(world, client, label, media, body())
            assert response.status_code == 200, f"{label}: {response.status_code} {response.text[:300]}"
            report = response.json()
            assert report["lines"] >= 1, (label, report)
            assert report["succeeded"] == 0, (label, report)
            for result in report["results"]:
                assert 400 <= result["problem"]["status"] < 500, (label, result)
                assert len(json.dumps(result)) < 4096, f"{label}: a line's problem echoes the line"


async def test_import_of_nothing(world: World) -> None:
    async with world.client() as client:
        for label, (media, body) in IMPORT_EMPTY.items():
            response = await import_body(world, client, label, media, body())
            assert response.status_code == 200, f"{label}: {response.status_code} {response.text[:300]}"
            assert response.json()["succeeded"] == 0, label


# --- console forms --------------------------------------------------------------------------------------------------


def _fields(token: bytes, passport_id: bytes, value: bytes) -> bytes:
    """A valid CSRF token and a valid request (a recycler's request for a passport) around one hostile value in
    every free field."""
    valid = b"scope_kind=passport&purpose=recycler&scope_value=" + passport_id
    names = (b"justification", b"reason", b"expires", b"api_key")
    return b"&".join([b"csrf=" + token, valid, *(name + b"=" + value for name in names)])


def _multipart(token: bytes, size: int) -> bytes:
    return (b'--B\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n' + token + b"\r\n--B\r\n"
            b'Content-Disposition: form-data; name="justification"\r\n\r\n' + b"x" * size + b"\r\n--B--\r\n")


# name -> (Content-Type, body from the session's CSRF token and a passport id)
FORM_CORPUS: dict[str, tuple[str, Callable[[bytes, bytes], bytes]]] = {
    "percent-encoded invalid UTF-8": (FORM, lambda t, p: _fields(t, p, b"%FF%FE")),
    "raw invalid UTF-8": (FORM, lambda t, p: _fields(t, p, b"\xff\xfe")),
    "overlong UTF-8": (FORM, lambda t, p: _fields(t, p, b"%C0%AF")),
    "UTF-8 encoded surrogate": (FORM, lambda t, p: _fields(t, p, b"%ED%A0%80")),
    "NUL": (FORM, lambda t, p: _fields(t, p, b"a%00b")),
    "a field of 10 MB": (FORM, lambda t, p: _fields(t, p, b"x" * (10 * MB))),
    "100 000 fields": (FORM, lambda t, p: b"csrf=" + t + b"&x=1" * 100_000),
    "a huge number": (FORM, lambda t, p: _fields(t, p, b"1e400")),
    "a CSRF token of invalid UTF-8": (FORM, lambda t, p: b"csrf=%FF%FE&justification=x"),
    "a CSRF token of 10 MB": (FORM, lambda t, p: b"csrf=" + b"x" * (10 * MB)),
    "two CSRF tokens": (FORM, lambda t, p: b"csrf=" + t + b"&csrf=other&justification=x"),
    "BOM": (FORM, lambda t, p: b"\xef\xbb\xbf" + _fields(t, p, b"x")),
    "truncated percent escape": (FORM, lambda t, p: _fields(t, p, b"%E")),
    "JSON body": ("application/json", lambda t, p: b'{"csrf": "' + t + b'"}'),
    "multipart with a 10 MB part": ("multipart/form-data; boundary=B", lambda t, p: _multipart(t, 10 * MB)),
    "truncated multipart": ("multipart/form-data; boundary=B", lambda t, p: _multipart(t, 10)[:60]),
    "multipart without a boundary": ("multipart/form-data", lambda t, p: b"--B\r\n\r\n"),
    "no Content-Type": ("", lambda t, p: _fields(t, p, b"x")),
}


def form_params() -> Iterator[Any]:
    for target in BY_KIND["form"]:
        for name in FORM_CORPUS:
            yield pytest.param(target, name, id=f"{target.path} {name}")


@pytest.mark.parametrize(("target", "name"), list(form_params()))
async def test_console_forms(world: World, target: Target, name: str) -> None:
    """Forms answer a 4xx (an HTML error page, or a problem) or do what was asked with the text as sent (303): never
    a 5xx. The session (of the role the form is for) and its CSRF token are valid, so the values reach the
    services."""
    url = world.url(target.path)
    assert target.role is not None
    cookie, session = sign_in(world.context, world.keys[target.role])  # sign-out ends it: a new one each time
    media, make = FORM_CORPUS[name]
    body = make(session.csrf.encode(), world.ids["passport_id"].encode())
    label = f"POST {url} {name}"
    headers = {"Cookie": f"passport_session={cookie}; passport_login_csrf={session.csrf}",
               **({"Content-Type": media} if media else {})}
    async with world.client() as client:
        response = await world.send(label, client, "POST", url, content=body, headers=headers)
    assert response.status_code < 500, f"{label}: {response.status_code} {response.text[:300]}"
    if response.status_code >= 400:
        kind = response.headers.get("content-type", "")
        assert kind == PROBLEM_JSON or kind.startswith("text/html"), f"{label}: {kind}"
    if target.path.endswith("/approve"):
        assert response.status_code != 303, f"{label}: a malformed form approved the request"


# --- query parameters -----------------------------------------------------------------------------------------------

QUERY_VALUES = {
    "invalid UTF-8": "%FF%FE",
    "overlong UTF-8": "%C0%AF",
    "UTF-8 encoded surrogate": "%ED%A0%80",
    "NUL": "a%00b",
    "exponent beyond a double": "1e400",
    "integer of 4001 digits": "1" + "0" * 4000,
    "NaN": "NaN",
    "Infinity": "Infinity",
    "BOM": "%EF%BB%BF1",
    "a value of 30 000 characters": "x" * 30_000,
    "control characters": "%01%1F%7F",
}


QUERY_PATHS = [
    "/01/{path}", "/p/{passport_id}", "/api/v1/labels", "/api/v1/passports", "/api/v1/passports/{passport_id}",
    "/api/v1/passports/{passport_id}/credential", "/api/v1/inventory", "/api/v1/reports/recycled-content",
    "/api/v1/reports/recovery", "/api/v1/grants", "/api/v1/access-requests", "/api/v1/access-log",
    "/api/v1/audit-log",
]
ADMIN_PATHS = ("/api/v1/orgs", "/api/v1/audit-log")


def query_parameters(app: Any, path: str) -> list[tuple[str, dict[str, Any]]]:
    """(name, schema) of the query parameters of a GET operation, from the OpenAPI document."""
    operation = app.openapi()["paths"][path]["get"]
    return [(p["name"], p.get("schema", {})) for p in operation.get("parameters", []) if p["in"] == "query"]


def test_every_query_parameter_is_in_the_corpus(world: World) -> None:
    paths = {path for path, item in world.app.openapi()["paths"].items()
             if any(p["in"] == "query" for p in item.get("get", {}).get("parameters", []))}
    assert paths == set(QUERY_PATHS)


def strictly_typed(schema: dict[str, Any]) -> bool:
    """A parameter whose garbage values must be refused: a number, an enumeration, a timestamp."""
    options = schema.get("anyOf", [schema])
    return any(o.get("type") in ("integer", "number", "boolean") or "enum" in o or o.get("format") == "date-time"
               for o in options if o.get("type") != "null")


@pytest.mark.parametrize("path", QUERY_PATHS)
async def test_query_parameters(world: World, path: str) -> None:
    url = world.url(path)
    role = ADMIN if url.startswith(ADMIN_PATHS) else OWNER
    parameters = query_parameters(world.app, path)
    async with world.client() as client:
        for name, schema in parameters:
            for value_name, value in QUERY_VALUES.items():
                for query in (f"{name}={value}",) + ((f"{name}=1&{name}={value}",) if value_name == "NaN" else ()):
                    label = f"GET {url}?{query[:60]} ({value_name})"
                    response = await world.send(label, client, "GET", f"{url}?{query}",
                                                headers=world.headers(role, accept="application/json"))
                    assert response.status_code < 500, f"{label}: {response.status_code} {response.text[:300]}"
                    if response.status_code >= 400:
                        assert_problem(response, label)
                    elif strictly_typed(schema) and not _acceptable(schema, urllib.parse.unquote(value)):
                        pytest.fail(f"{label}: {response.status_code}, a {schema} parameter took it")
    assert parameters


def _acceptable(schema: dict[str, Any], value: str) -> bool:
    """Whether a garbage value happens to be valid for a typed parameter (an integer of 4001 digits has no upper
    bound to break in a number without ``maximum``)."""
    options = [o for o in schema.get("anyOf", [schema]) if o.get("type") != "null"]
    return any(option.get("type") == "integer" and value.isdigit() and "maximum" not in option for option in options)


# --- PostgreSQL: NUL characters, which it cannot store in text ------------------------------------------------------

# Every one of these answered 500 on PostgreSQL (psycopg: "PostgreSQL text fields cannot contain NUL (0x00) bytes", a
# sqlalchemy DataError no handler mapped) until passport.jsonio and the CSV import refused NUL and DataError became a
# 400 problem.

@dataclass(frozen=True)
class NulCase:
    label: str
    method: str
    path: str
    role: str | None
    body: dict[str, Any] | None = None
    query: str = ""

    def __str__(self) -> str:
        return self.label


NUL = "a\u0000b"
NUL_CASES = [
    NulCase("access request justification", "POST", "/api/v1/access-requests", LEGITIMATE,
            {"scope": {"kind": "manufacturer", "id": OWNER_ORG}, "purpose": "recycler", "justification": NUL}),
    NulCase("access request scope", "POST", "/api/v1/access-requests", LEGITIMATE,
            {"scope": {"kind": "model", "id": NUL}, "purpose": "recycler", "justification": "x"}),
    NulCase("refusal reason", "POST", "/api/v1/access-requests/{request_id}/refuse", OWNER, {"reason": NUL}),
    NulCase("grant scope", "POST", "/api/v1/grants", OWNER,
            {"grantee": "recycler", "scope": {"kind": "model", "id": NUL}, "purpose": "recycler",
             "expiresAt": "2027-01-01T00:00:00Z"}),
    NulCase("organisation name", "POST", "/api/v1/orgs", ADMIN, {"slug": "nulco", "name": NUL}),
    NulCase("API key label", "POST", "/api/v1/orgs/{slug}/apikeys", ADMIN, {"role": "authority", "label": NUL}),
    NulCase("passport text fields", "POST", "/api/v1/passports", OWNER, {"nul": True}),
    NulCase("event note", "POST", "/api/v1/passports/{passport_id}/events", OWNER,
            {"type": "transfer", "to": "recycler", "note": NUL}),
    NulCase("issue with a model id", "POST", "/api/v1/passports", OWNER, {"nul": True}, f"modelId={NUL}"),
    *[NulCase(f"path {path}", "GET", path.replace("{" + name + "}", NUL), role)
      for path, name, role in [
          ("/api/v1/passports/{passport_id}", "passport_id", OWNER),
          ("/api/v1/models/{model_id}", "model_id", OWNER),
          ("/api/v1/jobs/{job_id}", "job_id", OWNER),
          ("/api/v1/imports/{import_id}", "import_id", OWNER),
          ("/api/v1/orgs/{slug}", "slug", ADMIN),
          ("/orgs/{slug}/did.json", "slug", None),
          ("/p/{passport_id}", "passport_id", None),
      ]],
    NulCase("revoke a grant", "DELETE", f"/api/v1/grants/{NUL}", OWNER),
    NulCase("import of a passport with NUL text", "POST", "/api/v1/imports", OWNER, {"nul": True}),
    NulCase("approve a request", "POST", f"/api/v1/access-requests/{NUL}/approve", OWNER,
            {"expiresAt": "2027-01-01T00:00:00Z"}),
]


def nul_passport() -> dict[str, Any]:
    document = json.loads((EXAMPLES / "passport-industrial.json").read_text("utf-8"))
    document.pop("passportId")
    document["general"]["modelName"] += NUL
    document["general"]["manufacturingPlace"]["facilityName"] += NUL
    for material in document["composition"]["batteryMaterials"]:
        material["batteryMaterialName"] += NUL
    return dict(document)


@pytest.fixture(scope="module")
def postgres_world() -> Iterator[World]:
    from sqlalchemy import create_engine, text

    from passport.storage.sql import normalise_url

    base = postgres_url()
    assert base is not None
    schema = f"corpus_{__import__('uuid').uuid4().hex[:10]}"
    admin = create_engine(normalise_url(base))
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in base else "?"
    try:
        with tempfile.TemporaryDirectory() as directory:
            made = build_world(f"{base}{separator}options=-csearch_path%3D{schema}", Path(directory))
            try:
                yield made
            finally:
                made.context.close()
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def row_counts(world: World) -> dict[str, int]:
    """Rows per table, but the audit log (which records refused writes too, as it should)."""
    from sqlalchemy import inspect, text

    engine = world.context.store.engine  # type: ignore[attr-defined]
    with engine.connect() as connection:
        tables = [t for t in inspect(connection).get_table_names() if t != "audit_log"]
        return {t: connection.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in tables}


@pytest.mark.postgres
@pytest.mark.parametrize("case", NUL_CASES, ids=str)
async def test_nul_characters_on_postgresql(postgres_world: World, case: NulCase) -> None:
    """A 4xx problem (the import: 200, its line failed with one), and nothing written: no row, no key file."""
    world = postgres_world
    url = world.url(case.path.replace(NUL, "%00")) + (f"?{case.query.replace(NUL, '%00')}" if case.query else "")
    body = nul_passport() if case.body == {"nul": True} else case.body
    before = row_counts(world)
    keys_before = sorted(p.name for p in world.context.settings.keys_dir.rglob("*"))
    async with world.client() as client:
        kwargs: dict[str, Any] = {"headers": world.headers(case.role, accept="application/json")}
        if body is not None:
            kwargs["content"] = json.dumps(body).encode() + b"\n"
            kwargs["headers"]["Content-Type"] = "application/json"
        if case.path.endswith("/imports"):
            kwargs["headers"].update({"Content-Type": NDJSON, "Idempotency-Key": "nul"})
        response = await world.send(case.label, client, case.method, url, **kwargs)
    if case.path.endswith("/imports"):
        assert response.status_code == 200, f"{case.label}: {response.status_code} {response.text[:300]}"
        report = response.json()
        assert report["succeeded"] == 0 and report["results"], report
        assert all(400 <= r["problem"]["status"] < 500 for r in report["results"]), report
    else:
        assert 400 <= response.status_code < 500, f"{case.label}: {response.status_code} {response.text[:300]}"
        assert response.headers.get("content-type") == PROBLEM_JSON, case.label
        after = row_counts(world)
        assert after == before, f"{case.label}: rows written: {set(after.items()) - set(before.items())}"
    assert sorted(p.name for p in world.context.settings.keys_dir.rglob("*")) == keys_before, case.label


@pytest.mark.postgres
@pytest.mark.parametrize("path", QUERY_PATHS)
async def test_nul_in_query_parameters_on_postgresql(postgres_world: World, path: str) -> None:
    world = postgres_world
    url = world.url(path)
    role = ADMIN if url.startswith(ADMIN_PATHS) else OWNER
    failures = []
    async with world.client() as client:
        for name, _ in query_parameters(world.app, path):
            label = f"GET {url}?{name}=a%00b"
            response = await world.send(label, client, "GET", f"{url}?{name}=a%00b",
                                        headers=world.headers(role, accept="application/json"))
            if response.status_code >= 500 or (
                    response.status_code >= 400 and response.headers.get("content-type") != PROBLEM_JSON):
                failures.append(f"{name}: {response.status_code}")
    assert not failures, f"{path}: {failures}"
