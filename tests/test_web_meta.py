"""The service skeleton over HTTP: health, published schemas, and the problem shape of errors."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from passport.schema import schema_text
from passport.service.context import ServiceContext
from passport.web.app import create_app

pytestmark = pytest.mark.anyio


@pytest.fixture
async def client(context_factory: Callable[..., ServiceContext]) -> AsyncIterator[httpx.AsyncClient]:
    context = context_factory()
    app = create_app(context.settings, context)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


@pytest.mark.parametrize("name", ["passport", "passport-public", "battery-model"])
async def test_schemas_are_served_as_committed(client: httpx.AsyncClient, name: str) -> None:
    response = await client.get(f"/schemas/{name}.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/schema+json")
    assert response.text == schema_text(name)


async def test_unknown_schema_is_a_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/schemas/nope.json")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert set(body) == {"type", "title", "status", "detail", "instance"}
    assert body["type"] == "/problems/not-found"
    assert body["status"] == 404
    assert body["instance"] == "/schemas/nope.json"


async def test_unknown_route_is_a_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/no/such/route")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/not-found"


async def test_openapi_documents_the_routes(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert spec["openapi"].startswith("3.1")
    assert "/healthz" in spec["paths"] and "/schemas/{name}.json" in spec["paths"]
