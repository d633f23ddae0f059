"""Hardening of the HTTP interface: rate limits (429 with Retry-After, per group, never blocking other routes),
client addresses behind trusted proxies only, API-key scopes and expiry, the audit trail of every write and every
authentication failure, and 503 problems (never 500) when the database cannot answer."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine

from passport.service.apikeys import create_api_key
from passport.service.context import ServiceContext
from passport.service.passports import Passports
from passport.web.app import create_app
from passport.web.proxies import client_address, trusted_networks
from passport.web.ratelimit import route_group
from tests.api_fixtures import OWNER, OWNER_ORG, seed_roles
from tests.conftest import FakeClock

pytestmark = pytest.mark.anyio
PROBLEM = "application/problem+json"


def _client(app: Any, address: str = "203.0.113.7") -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(address, 40000)), base_url="http://testserver"
    )


@pytest.fixture
async def limited(
    context_factory: Callable[..., ServiceContext], example: Callable[[str], dict[str, Any]]
) -> tuple[ServiceContext, Any, dict[str, str], str]:
    context = context_factory(
        rate_limit_enabled=True, rate_limit_resolver="5/minute", rate_limit_codes="2/minute",
        rate_limit_auth_failures="3/minute", trusted_proxies=["10.0.0.0/8"],
    )
    keys = seed_roles(context)
    issued = Passports(context).issue(OWNER_ORG, example("passport-ev"))
    return context, create_app(context.settings, context), keys, issued.passport_id


async def test_the_resolver_limit_answers_429_and_blocks_nothing_else(
    limited: tuple[ServiceContext, Any, dict[str, str], str],
) -> None:
    _, app, keys, passport_id = limited
    async with _client(app) as client:
        for _ in range(5):
            assert (await client.get(f"/p/{passport_id}", headers={"Accept": "application/json"})).status_code == 200
        refused = await client.get(f"/p/{passport_id}", headers={"Accept": "application/json"})
        assert refused.status_code == 429
        assert refused.headers["content-type"] == PROBLEM
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert refused.json()["type"] == "/problems/rate-limited" and "5 per 1 minute" in refused.json()["detail"]
        # the same address still reaches every other group: codes, the API, health
        assert (await client.get(f"/p/{passport_id}/qr.svg")).status_code == 200
        read = await client.get(f"/api/v1/passports/{passport_id}", headers={"Authorization": f"Bearer {keys[OWNER]}"})
        assert read.status_code == 200
        assert (await client.get("/healthz")).status_code == 200
        # codes have their own, smaller budget
        assert (await client.get(f"/p/{passport_id}/qr.png")).status_code == 200
        assert (await client.get(f"/p/{passport_id}/qr.png")).status_code == 429
    async with _client(app, "198.51.100.9") as other:
        assert (await other.get(f"/p/{passport_id}", headers={"Accept": "application/json"})).status_code == 200


async def test_authentication_failures_are_limited_per_address(
    limited: tuple[ServiceContext, Any, dict[str, str], str],
) -> None:
    context, app, keys, passport_id = limited
    url = f"/api/v1/passports/{passport_id}"
    async with _client(app) as client:
        for _ in range(3):
            wrong = await client.get(url, headers={"Authorization": "Bearer pp_" + "x" * 43})
            assert wrong.status_code == 401
        # past the limit even the right key waits: guessing keys is slow
        blocked = await client.get(url, headers={"Authorization": f"Bearer {keys[OWNER]}"})
        assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) >= 1
        sign_in = await client.post("/console/sign-in", data={"api_key": keys[OWNER], "csrf": "x"})
        assert sign_in.status_code == 429
        # anonymous reads carry no credentials: not blocked
        assert (await client.get(url)).status_code == 200
    async with _client(app, "198.51.100.9") as other:
        assert (await other.get(url, headers={"Authorization": f"Bearer {keys[OWNER]}"})).status_code == 200
    # behind a trusted proxy, the forwarded address is the client: another client is not blocked ...
    async with _client(app, "10.1.2.3") as proxy:
        fine = await proxy.get(url, headers={"Authorization": f"Bearer {keys[OWNER]}",
                                             "X-Forwarded-For": "192.0.2.44"})
        assert fine.status_code == 200
        # ... and the blocked client cannot hide behind it
        hidden = await proxy.get(url, headers={"Authorization": f"Bearer {keys[OWNER]}",
                                               "X-Forwarded-For": "203.0.113.7"})
        assert hidden.status_code == 429
    # an untrusted peer cannot pretend to be someone else
    async with _client(app) as client:
        spoofed = await client.get(url, headers={"Authorization": f"Bearer {keys[OWNER]}",
                                                 "X-Forwarded-For": "192.0.2.99"})
        assert spoofed.status_code == 429
    failures = [e for e in context.store.list_audit() if e.action == "auth.failed"]
    assert len(failures) == 3 and {e.details["client"] for e in failures} == {"203.0.113.7"}


def test_client_address_believes_only_trusted_proxies() -> None:
    networks = trusted_networks(["10.0.0.0/8", "127.0.0.1"])

    def scope(peer: str, forwarded: str | None) -> dict[str, Any]:
        headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded is not None else []
        return {"client": (peer, 1), "headers": headers}

    assert client_address(scope("203.0.113.7", "192.0.2.1"), networks) == "203.0.113.7"
    assert client_address(scope("10.0.0.5", "192.0.2.1"), networks) == "192.0.2.1"
    assert client_address(scope("10.0.0.5", "198.51.100.1, 192.0.2.1, 10.0.0.9"), networks) == "192.0.2.1"
    assert client_address(scope("127.0.0.1", "10.0.0.1, 10.0.0.2"), networks) == "10.0.0.1"
    assert client_address(scope("127.0.0.1", None), networks) == "127.0.0.1"
    assert client_address(scope("127.0.0.1", "not-an-ip"), networks) == "not-an-ip"
    assert client_address(scope("10.0.0.5", "192.0.2.1"), ()) == "10.0.0.5"


def test_route_groups() -> None:
    assert route_group("/01/09520123456788/21/X") == "resolver"
    assert route_group("/p/abc") == "resolver"
    assert route_group("/.well-known/gs1resolver") == "resolver"
    assert route_group("/p/abc/qr.png") == "codes" and route_group("/api/v1/labels") == "codes"
    assert route_group("/api/v1/passports") is None and route_group("/healthz") is None


def test_settings_refuse_bad_limits_and_proxies() -> None:
    from pydantic import ValidationError

    from passport.config import Settings

    with pytest.raises(ValidationError, match="a rate such as"):
        Settings(rate_limit_resolver="lots")
    with pytest.raises(ValidationError, match="not an IP address"):
        Settings(trusted_proxies=["proxy.example"])


@pytest.fixture
async def plain(
    context_factory: Callable[..., ServiceContext], example: Callable[[str], dict[str, Any]]
) -> AsyncIterator[tuple[ServiceContext, httpx.AsyncClient, dict[str, str], dict[str, Any]]]:
    context = context_factory()
    keys = seed_roles(context)
    async with _client(create_app(context.settings, context)) as client:
        yield context, client, keys, example("passport-lmt")


async def test_read_only_and_expiring_keys(
    plain: tuple[ServiceContext, httpx.AsyncClient, dict[str, str], dict[str, Any]], clock: FakeClock
) -> None:
    context, client, keys, document = plain
    admin = {"Authorization": f"Bearer {keys['admin']}"}
    made = await client.post(f"/api/v1/orgs/{OWNER_ORG}/apikeys", headers=admin, json={
        "role": "manufacturer", "label": "dashboard", "scopes": ["read"],
        "expiresAt": (clock() + dt.timedelta(days=1)).isoformat()})
    assert made.status_code == 201, made.text
    assert made.json()["scopes"] == ["read"] and made.json()["expiresAt"].startswith("2026-11-26T10:00:00")
    reader = {"Authorization": f"Bearer {made.json()['key']}"}
    assert (await client.get("/api/v1/passports?limit=1", headers=reader)).status_code == 200
    refused = await client.post("/api/v1/passports", headers=reader, json=document)
    assert refused.status_code == 403 and refused.headers["content-type"] == PROBLEM
    assert "read-only" in refused.json()["detail"]
    assert context.store.count_passports() == 0
    clock.advance(days=1, seconds=1)
    expired = await client.get("/api/v1/passports?limit=1", headers=reader)
    assert expired.status_code == 401 and expired.headers["content-type"] == PROBLEM

    for body, status in (({"role": "manufacturer", "scopes": ["delete"]}, 422),
                         ({"role": "manufacturer", "scopes": []}, 422),
                         ({"role": "manufacturer", "expiresAt": "2020-01-01T00:00:00Z"}, 400)):
        answer = await client.post(f"/api/v1/orgs/{OWNER_ORG}/apikeys", headers=admin, json=body)
        assert answer.status_code == status and answer.headers["content-type"] == PROBLEM, answer.text
    listed = await client.get(f"/api/v1/orgs/{OWNER_ORG}/apikeys", headers=admin)
    assert {tuple(k["scopes"]) for k in listed.json()} == {("read", "write"), ("read",)}


async def test_every_write_and_every_failure_is_audited(
    plain: tuple[ServiceContext, httpx.AsyncClient, dict[str, str], dict[str, Any]],
) -> None:
    _, client, keys, document = plain
    maker = {"Authorization": f"Bearer {keys[OWNER]}"}
    issued = await client.post("/api/v1/passports", headers=maker, json=document)
    assert issued.status_code == 201
    passport_id = issued.json()["passportId"].removeprefix("urn:uuid:")
    await client.get(f"/api/v1/passports/{passport_id}", headers=maker)  # a read: not audited
    await client.post("/api/v1/passports", headers={"Authorization": "Bearer pp_wrong"}, json=document)
    await client.post("/api/v1/orgs", headers=maker, json={"slug": "evil", "name": "Evil"})
    invalid = await client.post("/api/v1/passports", headers=maker, json={"general": {}})
    assert invalid.status_code == 422

    log = await client.get("/api/v1/audit-log", headers={"Authorization": f"Bearer {keys['authority']}"})
    assert log.status_code == 200
    entries = log.json()["entries"]
    by_action: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        by_action.setdefault(entry["action"], []).append(entry)
    writes = by_action["POST /api/v1/passports"]
    assert {(w["actor"], w["details"]["status"]) for w in writes} == {(OWNER_ORG, 201), (OWNER_ORG, 422)}
    assert all(w["apiKeyId"] and w["details"]["client"] == "203.0.113.7" for w in writes)
    [failed] = by_action["auth.failed"]
    assert failed["actor"] is None and failed["subject"] == "/api/v1/passports"
    [denied] = by_action["access.denied"]
    assert (denied["actor"], denied["role"], denied["subject"]) == (OWNER_ORG, "manufacturer", "/api/v1/orgs")
    assert not any(e["action"].startswith("GET") for e in entries)
    assert "pp_" not in log.text, "no key material in the audit log"
    maker_reads = await client.get("/api/v1/audit-log", headers=maker)
    assert maker_reads.status_code == 403


async def test_a_database_that_does_not_answer_is_a_503(
    plain: tuple[ServiceContext, httpx.AsyncClient, dict[str, str], dict[str, Any]],
) -> None:
    context, client, keys, document = plain
    store: Any = context.store
    working = store.engine
    store.engine = create_engine("postgresql+psycopg://postgres@127.0.0.1:1/none", pool_pre_ping=True)
    try:
        maker = {"Authorization": f"Bearer {keys[OWNER]}"}
        for method, url, body in (("GET", "/api/v1/passports?limit=5", None), ("POST", "/api/v1/passports", document),
                                  ("GET", "/readyz", None)):
            answer = await client.request(method, url, json=body, headers=maker if "api" in url else {})
            assert answer.status_code == 503, (url, answer.text)
            assert answer.headers["content-type"] == PROBLEM and answer.headers["retry-after"] == "5"
        assert (await client.get("/healthz")).status_code == 200
    finally:
        store.engine.dispose()
        store.engine = working
    assert (await client.get("/readyz")).status_code == 200
    _, token = create_api_key(context, OWNER_ORG, "manufacturer")
    again = await client.get("/api/v1/passports?limit=5", headers={"Authorization": f"Bearer {token}"})
    assert again.status_code == 200


async def test_head_answers_like_get_without_a_body(
    plain: tuple[ServiceContext, httpx.AsyncClient, dict[str, str], dict[str, Any]],
) -> None:
    context, client, _, document = plain
    issued = Passports(context).issue(OWNER_ORG, document)
    record = context.store.get_passport(issued.passport_id)
    for url, accept in ((f"/01/{record.gtin}/21/{record.serial}", "text/html"),
                        (f"/01/{record.gtin}/21/{record.serial}", "application/json"),
                        (f"/p/{issued.passport_id}/qr.svg", "*/*"), ("/.well-known/gs1resolver", "*/*"),
                        ("/01/09520123456788/21/NOPE", "application/json")):
        get = await client.get(url, headers={"Accept": accept})
        head = await client.head(url, headers={"Accept": accept})
        assert head.status_code == get.status_code, url
        assert head.content == b"", url
        for name in ("content-type", "content-length", "etag", "link", "vary"):
            assert head.headers.get(name) == get.headers.get(name), (url, name)
    assert (await client.head("/api/v1/passports", headers={"Authorization": "Bearer pp_nope"})).status_code == 401
