"""``create_app(settings)``: the one place the FastAPI application is assembled."""

from __future__ import annotations

from fastapi import FastAPI

from passport import __version__
from passport.config import Settings
from passport.web import meta
from passport.web.problems import add_problem_handlers


def create_app(settings: Settings) -> FastAPI:
    app = FastAPI(
        title="passport",
        version=__version__,
        summary="EU battery digital product passports: issue, sign, store, resolve and verify.",
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    add_problem_handlers(app)
    app.include_router(meta.router)
    return app


def app_from_environment() -> FastAPI:
    """Factory for uvicorn: settings from PASSPORT_* environment variables."""
    return create_app(Settings())


__all__ = ["app_from_environment", "create_app"]
