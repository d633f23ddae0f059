"""Rate limits per client address (the ``limits`` library, fixed windows: one counter per client and window, the
cheapest check on the resolver's hot path; a burst of up to twice the rate can straddle two windows), on by default:

- the public resolver and pages, which anyone can call without a key (``PASSPORT_RATE_LIMIT_RESOLVER``);
- QR codes and label sheets, which cost CPU per request (``PASSPORT_RATE_LIMIT_CODES``);
- failed authentications: each 401 counts, and past ``PASSPORT_RATE_LIMIT_AUTH_FAILURES`` a client's requests that
  present credentials (an API key, a console sign-in) get 429 until the window passes, so keys cannot be guessed.

Every other route is never limited here, and one group's exhaustion never blocks another. Past a limit the answer
is a 429 problem with ``Retry-After`` (seconds until the window frees a slot). Counters live in
``PASSPORT_RATE_LIMIT_STORAGE``: per worker in memory, or shared by every worker in Redis. A pure ASGI middleware:
the resolver is the hot path."""

from __future__ import annotations

import asyncio
import json
import math
import time
import weakref
from collections.abc import Sequence
from functools import partial

from anyio import to_thread
from limits import RateLimitItem, parse
from limits.aio.strategies import FixedWindowRateLimiter as AsyncLimiter
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter as SyncLimiter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from passport.config import Settings
from passport.web.proxies import Network, client_address, trusted_networks

RESOLVER, CODES, AUTH_FAILURES = "resolver", "codes", "auth-failures"


def route_group(path: str) -> str | None:
    """The limited group of a request path, if any."""
    if path == "/api/v1/labels" or (path.startswith("/p/") and path.endswith(("/qr.png", "/qr.svg"))):
        return CODES
    if path.startswith(("/01/", "/p/")) or path == "/.well-known/gs1resolver":
        return RESOLVER
    return None


def _presents_credentials(scope: Scope) -> bool:
    if scope["method"] == "POST" and scope["path"] == "/console/sign-in":
        return True
    return any(name == b"authorization" for name, _ in scope.get("headers", ()))


class RateLimits:
    """The limiter and its per-group rates, built from the settings."""

    def __init__(self, settings: Settings) -> None:
        self.storage_uri = settings.rate_limit_storage
        self.in_memory = self.storage_uri.startswith("memory://")
        # In memory: the asyncio limiter, one per event loop (its locks belong to the loop that made them; a worker
        # has one loop). The threaded in-memory storage would start a timer thread every 10 ms to expire counters,
        # which cost the resolver's fast path more than its database read. A networked storage (Redis) is called
        # through the synchronous limiter from a worker thread.
        self._per_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncLimiter] = (
            weakref.WeakKeyDictionary())
        self._shared = None if self.in_memory else SyncLimiter(storage_from_string(self.storage_uri))
        self.rates: dict[str, RateLimitItem] = {
            RESOLVER: parse(settings.rate_limit_resolver),
            CODES: parse(settings.rate_limit_codes),
            AUTH_FAILURES: parse(settings.rate_limit_auth_failures),
        }
        self.networks: Sequence[Network] = trusted_networks(settings.trusted_proxies)

    def _local(self) -> AsyncLimiter:
        loop = asyncio.get_running_loop()
        limiter = self._per_loop.get(loop)
        if limiter is None:
            limiter = self._per_loop[loop] = AsyncLimiter(storage_from_string(f"async+{self.storage_uri}"))
        return limiter

    async def hit(self, group: str, client: str) -> bool:
        """Count one request of ``client`` in ``group``; False when it is over the limit."""
        if self._shared is None:
            return await self._local().hit(self.rates[group], group, client)
        return await to_thread.run_sync(partial(self._shared.hit, self.rates[group], group, client))

    async def allows(self, group: str, client: str) -> bool:
        """Whether ``client`` is still under ``group``'s limit (counting nothing)."""
        if self._shared is None:
            return await self._local().test(self.rates[group], group, client)
        return await to_thread.run_sync(partial(self._shared.test, self.rates[group], group, client))

    async def retry_after(self, group: str, client: str) -> int:
        if self._shared is None:
            stats = await self._local().get_window_stats(self.rates[group], group, client)
        else:
            stats = await to_thread.run_sync(partial(self._shared.get_window_stats, self.rates[group], group, client))
        return max(1, math.ceil(stats.reset_time - time.time()))


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, limits: RateLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limits, path = self.limits, scope["path"]
        client = client_address(scope, limits.networks)
        group = route_group(path)
        if group is not None and not await limits.hit(group, client):
            await self._refuse(scope, send, group, client)
            return
        credentials = _presents_credentials(scope)
        if credentials and not await limits.allows(AUTH_FAILURES, client):
            await self._refuse(scope, send, AUTH_FAILURES, client)
            return
        if not credentials:
            await self.app(scope, receive, send)
            return
        status = 0

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, watch)
        if status == 401:
            await limits.hit(AUTH_FAILURES, client)

    async def _refuse(self, scope: Scope, send: Send, group: str, client: str) -> None:
        retry = await self.limits.retry_after(group, client)
        what = "failed authentications" if group == AUTH_FAILURES else f"requests to the {group} routes"
        body = json.dumps({
            "type": "/problems/rate-limited",
            "title": "Too many requests",
            "status": 429,
            "detail": f"too many {what} from your address ({self.limits.rates[group]}); retry in {retry} s",
            "instance": scope["path"],
        }).encode()
        await send({"type": "http.response.start", "status": 429, "headers": [
            (b"content-type", b"application/problem+json"),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(retry).encode()),
            (b"cache-control", b"no-store"),
        ]})
        await send({"type": "http.response.body", "body": body})


__all__ = ["AUTH_FAILURES", "CODES", "RESOLVER", "RateLimitMiddleware", "RateLimits", "route_group"]
