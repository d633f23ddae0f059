"""The resolver's fast path answers a canonical scan exactly as the resolver route does (same status, headers and
bytes), falls through for everything else, and never hides an outage: a database it cannot read sends the request
to the route, which answers 503."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from passport.service.context import ServiceContext
from passport.service.passports import Passports
from passport.storage.public import PublicReader
from passport.web.app import create_app
from passport.web.pages import LruCache, PageRenderer
from tests.api_fixtures import OWNER_ORG, seed_roles

pytestmark = pytest.mark.anyio
COMPARED = ("content-type", "content-length", "etag", "link", "vary", "cache-control", "content-language",
            "access-control-allow-origin", "access-control-expose-headers", "content-security-policy")


@pytest.fixture
async def scan(
    context_factory: Callable[..., ServiceContext], example: Callable[[str], dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[tuple[httpx.AsyncClient, ServiceContext, str, str, list[str]]]:
    context = context_factory()
    seed_roles(context)
    document = example("passport-ev")
    document["general"]["serialNumber"] = "ABC-123.x_9"
    issued = Passports(context).issue(OWNER_ORG, document)
    fast: list[str] = []
    original = PublicReader.current

    def counted(self: PublicReader, gtin: str, serial: str, *, with_credential: bool = True) -> Any:
        fast.append(serial)
        return original(self, gtin, serial, with_credential=with_credential)

    monkeypatch.setattr(PublicReader, "current", counted)
    record = context.store.get_passport(issued.passport_id)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(context.settings, context)),
                                 base_url="http://testserver") as client:
        yield client, context, f"/01/{record.gtin}/21/ABC-123.x_9", f"/01/{record.gtin}/21/%41BC-123.x_9", fast


@pytest.mark.parametrize("accept", ["application/json", "application/ld+json", "application/vc",
                                    "text/html", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"])
async def test_the_fast_path_answers_like_the_route(
    scan: tuple[httpx.AsyncClient, ServiceContext, str, str, list[str]], accept: str,
) -> None:
    client, _, canonical, encoded, fast = scan
    for language in ("en", "de"):
        headers = {"Accept": accept, "Accept-Language": language}
        slow = await client.get(encoded, headers=headers)  # percent-encoded: always the route
        assert slow.status_code == 200, slow.text
        calls = len(fast)
        quick = await client.get(canonical, headers=headers)
        assert len(fast) == calls + 1, "the canonical URL went through the fast path"
        assert quick.status_code == 200
        assert quick.content == slow.content
        for name in COMPARED:
            assert quick.headers.get(name) == slow.headers.get(name), name
        not_modified = await client.get(canonical, headers={**headers, "If-None-Match": quick.headers["etag"]})
        assert not_modified.status_code == 304 and not_modified.content == b""
        assert not_modified.headers["etag"] == quick.headers["etag"]


async def test_everything_else_falls_through(
    scan: tuple[httpx.AsyncClient, ServiceContext, str, str, list[str]],
) -> None:
    client, _, canonical, _, fast = scan
    gtin = canonical.split("/")[2]
    for url, accept, status in (
        (f"/01/{gtin}/21/NOPE", "application/json", 404),
        (f"/01/{gtin}/21/NOPE", "text/html", 404),
        (f"/01/{gtin[:-1]}0/21/ABC-123.x_9", "application/json", 400),  # a wrong check digit
        (f"{canonical}?linkType=linkset", "application/json", 200),
        (canonical, "application/linkset+json", 200),
        (f"{canonical}?linkType=gs1:sustainabilityInfo", "application/json", 307),
    ):
        answer = await client.get(url, headers={"Accept": accept})
        assert answer.status_code == status, (url, answer.text)
        if status >= 400:
            assert answer.headers["content-type"].startswith(("application/problem+json", "text/html"))
    assert fast == ["NOPE", "NOPE"], "only canonical scans asking for JSON or HTML try the fast path"


async def test_an_unreadable_database_goes_to_the_route(
    scan: tuple[httpx.AsyncClient, ServiceContext, str, str, list[str]], monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, _, canonical, _, _ = scan

    def broken(self: PublicReader, gtin: str, serial: str, *, with_credential: bool = True) -> Any:
        raise OSError("the database went away")

    monkeypatch.setattr(PublicReader, "current", broken)
    answer = await client.get(canonical, headers={"Accept": "application/json"})
    assert answer.status_code == 200, "the route read it through the store instead"
    assert answer.json()["credentialSubject"]["passport"]["general"]["serialNumber"] == "ABC-123.x_9"


def test_the_reader_reconnects(context_factory: Callable[..., ServiceContext], example: Any) -> None:
    context = context_factory()
    seed_roles(context)
    issued = Passports(context).issue(OWNER_ORG, example("passport-lmt"))
    record = context.store.get_passport(issued.passport_id)
    reader = PublicReader(context.settings.database_url)
    first = reader.current(record.gtin, record.serial)
    assert first is not None and first.version == 1 and first.passport_id == issued.passport_id
    assert first.credential == context.store.get_version(issued.passport_id).credential("public")
    reader._connection.close()  # a connection that died under it
    with pytest.raises(Exception):  # noqa: B017, PT011 - whatever the driver raises
        reader.current(record.gtin, record.serial)
    again = reader.current(record.gtin, record.serial, with_credential=False)
    assert again is not None and again.credential == b"" and again.version == 1
    assert reader.current(record.gtin, "NOPE") is None
    with pytest.raises(ValueError, match="in-memory"):
        PublicReader("sqlite://")


def test_page_caches_are_bounded_by_bytes() -> None:
    """The soak test saw workers grow by 100 MiB and more while the page caches filled: they hold bytes, bounded."""
    cache = LruCache(100, max_bytes=1000)
    for n in range(50):
        cache.put(n, "x" * 100)
    assert cache.bytes <= 1000 and len(cache.items) == 10
    assert cache.get(49) is not None and cache.get(0) is None  # the oldest went first
    cache.put(49, "y" * 300)  # replacing an entry counts its new size only
    assert cache.bytes == sum(len(v) for v in cache.items.values()) <= 1000
    cache.put("huge", "z" * 2000)  # larger than the whole cache: not kept, nothing evicted for it
    assert cache.get("huge") is None and cache.get(49) == "y" * 300
    for name in ("pages", "current_pages"):  # the renderer's own caches are bounded so
        made = PageRenderer.__dataclass_fields__[name].default_factory()  # type: ignore[operator]
        assert made.max_bytes is not None and made.max_bytes <= 64 * 1024 * 1024
