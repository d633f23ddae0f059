"""Security headers on every response (a pure ASGI middleware: cheap on the resolver's hot path).

The public pages run no script at all: the CSP allows only this origin's stylesheet and images. ``/docs`` (the
OpenAPI explorer) is the one exception: it loads Swagger UI and runs its script."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

STRICT_CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; "
              "frame-ancestors 'none'")
DOCS_CSP = ("default-src 'none'; script-src 'self' https://cdn.jsdelivr.net 'unsafe-inline'; "
            "style-src 'self' https://cdn.jsdelivr.net 'unsafe-inline'; "
            "img-src 'self' data: https://fastapi.tiangolo.com; "
            "connect-src 'self'; frame-ancestors 'none'")
COMMON = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts
        tls = [(b"strict-transport-security", b"max-age=31536000; includeSubDomains")] if hsts else []
        # built once: this runs on every response, the resolver's too
        self.strict = [*COMMON, (b"content-security-policy", STRICT_CSP.encode()), *tls]
        self.docs = [*COMMON, (b"content-security-policy", DOCS_CSP.encode()), *tls]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.docs if scope["path"] in ("/docs", "/docs/oauth2-redirect") else self.strict

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, with_headers)


__all__ = ["SecurityHeaders"]
