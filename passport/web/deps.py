"""``Annotated`` dependencies: route signatures read like prose (``context: Context``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from passport.service.context import ServiceContext


def get_context(request: Request) -> ServiceContext:
    context: ServiceContext = request.app.state.context
    return context


Context = Annotated[ServiceContext, Depends(get_context)]

__all__ = ["Context", "get_context"]
