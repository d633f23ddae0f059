"""``create_app(settings)``: the one place the FastAPI application is assembled."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from passport import __version__
from passport.config import Settings
from passport.service.context import ServiceContext, open_context
from passport.web import (
    api_access,
    api_admin,
    api_circularity,
    api_imports,
    api_models,
    api_passports,
    codes,
    console,
    console_access,
    identity,
    meta,
    openapi,
    resolver,
)
from passport.web.audit import AuditMiddleware
from passport.web.fastpath import ResolverFastPath
from passport.web.head import HeadAsGet
from passport.web.metrics import Metrics, MetricsMiddleware
from passport.web.pages import STATIC, LruCache, PageRenderer
from passport.web.problems import add_problem_handlers
from passport.web.proxies import trusted_networks
from passport.web.ratelimit import RateLimitMiddleware, RateLimits
from passport.web.security import SecurityHeaders


def create_app(settings: Settings, context: ServiceContext | None = None) -> FastAPI:
    """The application. ``context`` may be given (tests share one); otherwise it is opened from ``settings``,
    which also brings the database schema up to date."""
    app = FastAPI(
        title="passport",
        version=__version__,
        summary="EU battery digital product passports: issue, sign, store, resolve and verify.",
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        # passport exports Prometheus metrics itself (/metrics); FastAPI's OpenTelemetry hooks would cost every
        # request an environment lookup for nothing
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.context = context or open_context(settings)
    add_problem_handlers(app)
    app.state.pages = PageRenderer(app.state.context)
    app.state.qr_cache = LruCache(4096, max_bytes=8 * 1024 * 1024)  # PNG and SVG codes of 1 to 30 KB
    for module in (meta, identity, resolver, codes, api_passports, api_models, api_imports, api_circularity,
                   api_access, api_admin, console, console_access):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(HeadAsGet)
    networks = trusted_networks(settings.trusted_proxies)
    app.add_middleware(AuditMiddleware, context=app.state.context, networks=networks)
    app.add_middleware(ResolverFastPath, context=app.state.context, pages=app.state.pages,
                       route=next(r for r in resolver.router.routes if getattr(r, "path", "") == "/01/{path:path}"))
    if settings.rate_limit_enabled:
        app.add_middleware(RateLimitMiddleware, limits=RateLimits(settings))
    app.add_middleware(SecurityHeaders, hsts=settings.public_base_url.startswith("https://"))
    app.state.metrics = Metrics()
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    openapi.install(app)
    return app


def app_from_environment() -> FastAPI:
    """Factory for uvicorn: settings from PASSPORT_* environment variables."""
    return create_app(Settings())


__all__ = ["app_from_environment", "create_app"]
