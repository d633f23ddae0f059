"""The audit trail of the HTTP interface: every write (POST, PUT, PATCH, DELETE under /api and /console) with who
made it, its route and its outcome, and every authentication failure (401) and refusal (403) with the client's
address. Readable by authorities and administrators at ``GET /api/v1/audit-log``.

Written after the response has been sent, so it never delays a caller; if the database cannot take the entry (it is
down: the request itself got a 503), the failure is logged (the type, never the content) and the request stands.
The services add their own, finer entries for access decisions (grant.created, owner.set, …)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from fastapi.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from passport.clock import ordered_uuid7, truncate_ms
from passport.service.apikeys import Caller
from passport.service.context import ServiceContext
from passport.storage import AuditEntry
from passport.web.proxies import Network, client_address

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
log = logging.getLogger("passport.audit")


def _action(scope: Scope, status: int) -> str | None:
    if status == 401:
        return "auth.failed"
    if status == 403:
        return "access.denied"
    if scope["method"] in WRITES and scope["path"].startswith(("/api/", "/console/")):
        route = scope.get("route")
        return f"{scope['method']} {getattr(route, 'path', None) or 'unmatched'}"
    return None


class AuditMiddleware:
    def __init__(self, app: ASGIApp, context: ServiceContext, networks: Sequence[Network]) -> None:
        self.app = app
        self.context = context
        self.networks = networks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 0

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            action = _action(scope, status)
            if action is not None:
                await self._record(scope, action, status)

    async def _record(self, scope: Scope, action: str, status: int) -> None:
        caller = (scope.get("state") or {}).get("caller")
        caller = caller if isinstance(caller, Caller) else None
        now = truncate_ms(self.context.clock())
        entry = AuditEntry(
            str(ordered_uuid7(now)),
            now,
            caller.organisation if caller else None,
            caller.role.value if caller else None,
            caller.key_id if caller else None,
            action,
            # a NUL as sent (%00): PostgreSQL holds it in no text, and the write would fail, losing the entry of
            # a request that probes with NUL characters
            scope["path"][:200].replace("\x00", "%00"),
            {"method": scope["method"], "status": status, "client": client_address(scope, self.networks)},
        )
        try:
            await run_in_threadpool(self.context.store.audit, entry)
        except Exception as exc:  # the request has been answered: the audit must not turn it into a 500
            log.warning("audit entry %s not written: %s", action, type(exc).__name__)


__all__ = ["AuditMiddleware"]
