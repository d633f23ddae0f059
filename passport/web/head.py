"""HEAD on every GET route (RFC 9110 §9.3.2): the same status and headers as GET, without the body. GS1 resolver
clients and link checkers probe with HEAD; FastAPI's routes answer only the methods they declare, so a HEAD would be
a 405. A pure ASGI middleware: the request runs as GET and its body is not sent."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        # In place, so that the outer middlewares see the route and the caller (metrics count it as a GET).
        scope["method"] = "GET"
        await self.app(scope, receive, without_body)


__all__ = ["HeadAsGet"]
