"""Prometheus metrics: requests and their durations per route template and status, served at ``/metrics``.

A pure ASGI middleware (cheap on the resolver's hot path); route templates, not raw paths, label the series, so a
scan of a million packs does not create a million series."""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("passport_http_requests_total", "HTTP requests", ("method", "route", "status"),
                                registry=self.registry)
        self.duration = Histogram("passport_http_request_duration_seconds", "HTTP request duration",
                                  ("method", "route"), registry=self.registry,
                                  buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10))
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def series(self, method: str, route: str, status: int) -> tuple[Any, Any]:
        """The counter and histogram children of one (method, route, status), kept: looking up labels costs more
        than counting (the resolver's fast path answers in tens of microseconds)."""
        key = (method, route, status)
        found = self._children.get(key)
        if found is None:
            found = (self.requests.labels(method, route, str(status)), self.duration.labels(method, route))
            self._children[key] = found
        return found

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    @staticmethod
    def _route(scope: Scope) -> str:
        # the router records the route it matched in the (shared) scope
        route = scope.get("route")
        return str(getattr(route, "path", None) or getattr(route, "path_format", None) or "unmatched")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            requests, duration = self.metrics.series(scope["method"], self._route(scope), status)
            requests.inc()
            duration.observe(time.perf_counter() - started)


__all__ = ["Metrics", "MetricsMiddleware"]
