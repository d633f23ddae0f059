"""Must show 3 of the API issue: on PostgreSQL, 20 concurrent PATCHes with the same ETag through the HTTP app give
exactly one 200 and nineteen 412, and the passport's chains still verify."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from typing import Any

import anyio
import httpx
import pytest

from passport.service.verification import verify_passport
from passport.web.app import create_app
from tests.api_fixtures import OWNER, ApiFactory

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]
WRITERS = 20


async def test_concurrent_patches_with_one_etag(api_factory: ApiFactory, postgres_schema_url: str,
                                                example: Any) -> None:
    api = await api_factory(postgres_schema_url)
    pid = await api.issue(example("passport-ev"))
    etag = (await api.current(pid)).headers["etag"]
    url = f"/api/v1/passports/{pid}"
    statuses: list[int] = []
    types: list[str] = []

    async def patch(index: int) -> None:
        response = await api.request(OWNER, "PATCH", url, json={"general": {"modelName": f"Writer {index}"}},
                                     headers={"If-Match": etag})
        statuses.append(response.status_code)
        if response.status_code != 200:
            types.append(response.json()["type"])

    async with anyio.create_task_group() as group:  # the store is synchronous: requests meet in the thread pool
        for index in range(WRITERS):
            group.start_soon(patch, index)

    assert Counter(statuses) == {200: 1, 412: WRITERS - 1}, Counter(types)
    assert set(types) == {"/problems/precondition-failed"}
    current = await api.current(pid)
    assert current.json()["version"] == 2
    assert current.json()["passport"]["general"]["modelName"].startswith("Writer ")
    report = verify_passport(api.context, pid)
    assert report.versions == 2


def test_concurrent_patches_from_threads(context_factory: Any, postgres_schema_url: str, example: Any) -> None:
    """The same race from 20 threads, each with its own event loop and client over one app: the requests reach
    the database at the same moment (a barrier releases them together)."""
    from tests.api_fixtures import seed_roles

    context = context_factory(postgres_schema_url)
    keys = seed_roles(context)
    app = create_app(context.settings, context)
    headers = {"Authorization": f"Bearer {keys[OWNER]}"}
    barrier = threading.Barrier(WRITERS)
    statuses: list[int] = []

    async def issue() -> str:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
            response = await client.post("/api/v1/passports", json=example("passport-lmt"), headers=headers)
            assert response.status_code == 201, response.text
            return str(response.json()["passportId"]).removeprefix("urn:uuid:")

    pid = asyncio.run(issue())

    def writer(index: int) -> None:
        async def run() -> None:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                barrier.wait(timeout=30)
                response = await client.patch(f"/api/v1/passports/{pid}", json={"general": {"modelName": f"T{index}"}},
                                              headers={**headers, "If-Match": '"v1-full"'})
                statuses.append(response.status_code)

        asyncio.run(run())

    threads = [threading.Thread(target=writer, args=(index,)) for index in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert Counter(statuses) == {200: 1, 412: WRITERS - 1}
    assert verify_passport(context, pid).versions == 2
