"""Authentication: ``Authorization: Bearer pp_…`` API keys; no header means an anonymous caller (public view)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from passport.access import Role
from passport.errors import Forbidden, Unauthorized
from passport.service.apikeys import ANONYMOUS, Caller, authenticate
from passport.web.deps import Context

READS = frozenset({"GET", "HEAD", "OPTIONS"})
bearer = HTTPBearer(auto_error=False, description="An API key (pp_…) created with `passport apikeys create`.")


async def get_caller(
    request: Request, context: Context, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Caller:
    if request.headers.get("authorization") is None:
        return ANONYMOUS
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("use 'Authorization: Bearer <API key>'")
    caller = await run_in_threadpool(authenticate, context, credentials.credentials)
    request.state.caller = caller
    if request.method not in READS and not caller.may_write:
        raise Forbidden("this API key is read-only (scope read): use a key with the scope write")
    return caller


CallerDep = Annotated[Caller, Depends(get_caller)]


def require(caller: Caller, *roles: Role) -> str:
    """The caller's organisation, if the caller has one of ``roles``; 401/403 otherwise."""
    if caller.anonymous:
        raise Unauthorized("this needs an API key")
    if caller.role not in roles or caller.organisation is None:
        raise Forbidden(f"this needs the role {' or '.join(r.value for r in roles)}")
    return caller.organisation


__all__ = ["CallerDep", "get_caller", "require"]
