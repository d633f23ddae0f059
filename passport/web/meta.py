"""Service metadata: health and the published JSON Schemas."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from passport import __version__
from passport.errors import NotFound
from passport.schema import SCHEMA_NAMES, schema_text

router = APIRouter(tags=["service"])
SCHEMA_JSON = "application/schema+json"


@router.get("/healthz", summary="Liveness", response_model=dict[str, str])
async def healthz() -> dict[str, str]:
    """The process is up and answering."""
    return {"status": "ok", "version": __version__}


@router.get("/readyz", summary="Readiness: the database answers", responses={503: {"description": "Not ready"}})
def readyz(request: Request) -> JSONResponse:
    """200 when the database answers a query, else 503 with ``Retry-After`` (load balancers take the worker out)."""
    context = request.app.state.context
    try:
        context.store.ping()
    except Exception:
        return JSONResponse({"type": "/problems/service-unavailable", "title": "Not ready", "status": 503,
                             "detail": "the database does not answer", "instance": "/readyz"}, status_code=503,
                            media_type="application/problem+json", headers={"Retry-After": "5"})
    return JSONResponse({"status": "ready"})


@router.get("/metrics", summary="Prometheus metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {}}}})
def metrics(request: Request) -> Response:
    body, media = request.app.state.metrics.render()
    return Response(body, media_type=media)


@router.get(
    "/schemas/{name}.json",
    summary="A published JSON Schema",
    responses={200: {"content": {SCHEMA_JSON: {}}}, 404: {"description": "No such schema"}},
    response_class=Response,
)
async def published_schema(name: str) -> Response:
    """JSON Schema 2020-12 of the full passport, a view, or the battery model: one of
    ``passport``, ``passport-public``, ``passport-legitimate-interest``, ``passport-authority``, ``battery-model``."""
    if name not in SCHEMA_NAMES:
        raise NotFound(f"no schema named {name!r}; available: {', '.join(SCHEMA_NAMES)}")
    return Response(
        schema_text(name), media_type=SCHEMA_JSON, headers={"Cache-Control": "public, max-age=3600"}
    )
