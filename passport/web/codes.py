"""QR codes of passports and printable label sheets, plus the GS1 resolver description."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from passport.access import View
from passport.errors import InvalidInput
from passport.qr import ERROR_CORRECTION, QUIET_ZONE, Label, label_sheet, qr_png, qr_svg
from passport.service.passports import parse_passport_id
from passport.web.deps import Context
from passport.web.linkset import GS1, LINK_TYPES
from passport.web.pages import LruCache
from passport.web.responses import PROBLEMS

router = APIRouter(tags=["resolver"])
MAX_LABELS = 480
IMMUTABLE = "public, max-age=86400, immutable"


def _cache(request: Request) -> LruCache:
    cache: LruCache = request.app.state.qr_cache
    return cache


async def _qr(request: Request, context: Any, passport_id: str, kind: str) -> Response:
    record = context.store.get_passport(parse_passport_id(passport_id))
    key = (record.passport_id, kind)
    image = _cache(request).get(key)
    if image is None:
        uri = context.urls.digital_link(record.gtin, record.serial)
        image = await run_in_threadpool(qr_png if kind == "png" else qr_svg, uri)
        _cache(request).put(key, image)
    media = "image/png" if kind == "png" else "image/svg+xml"
    return Response(image, media_type=media, headers={"Cache-Control": IMMUTABLE,
                                                      "X-QR-Error-Correction": ERROR_CORRECTION})


@router.get("/p/{passport_id}/qr.png", summary="QR code (PNG) of the canonical Digital Link",
            response_class=Response, responses={**PROBLEMS, 200: {"content": {"image/png": {}}}})
async def qr_png_route(passport_id: str, request: Request, context: Context) -> Response:
    return await _qr(request, context, passport_id, "png")


@router.get("/p/{passport_id}/qr.svg", summary="QR code (SVG) of the canonical Digital Link",
            response_class=Response, responses={**PROBLEMS, 200: {"content": {"image/svg+xml": {}}}})
async def qr_svg_route(passport_id: str, request: Request, context: Context) -> Response:
    return await _qr(request, context, passport_id, "svg")


def labels_for(context: Any, passport_ids: list[str]) -> bytes:
    labels = []
    for passport_id in passport_ids:
        record = context.store.get_passport(parse_passport_id(passport_id))
        public = context.store.get_version(record.passport_id).credential_json(View.PUBLIC.value)
        general = public["credentialSubject"]["passport"]["general"]
        labels.append(Label(context.urls.digital_link(record.gtin, record.serial), record.gtin, record.serial,
                            general.get("modelName") or general["modelIdentifier"]))
    return label_sheet(labels)


@router.get("/api/v1/labels", summary="Printable A4 label sheet (PDF) for passports", response_class=Response,
            tags=["passports"], responses={**PROBLEMS, 200: {"content": {"application/pdf": {}}}})
async def labels(
    context: Context,
    ids: Annotated[str, Query(max_length=MAX_LABELS * 46, description="Comma-separated passport ids")],
) -> Response:
    """24 labels per page (70 × 37 mm): the QR code of the canonical Digital Link, model name, GTIN and serial."""
    wanted = [part.strip() for part in ids.split(",") if part.strip()]
    if not 1 <= len(wanted) <= MAX_LABELS:
        raise InvalidInput(f"ids: 1 to {MAX_LABELS} passport ids")
    pdf = await run_in_threadpool(labels_for, context, wanted)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": 'inline; filename="passport-labels.pdf"'})


@router.get("/.well-known/gs1resolver", summary="GS1-conformant resolver description")
def resolver_description(context: Context) -> JSONResponse:
    return JSONResponse({
        "name": "passport: EU battery passport resolver",
        "resolverRoot": context.urls.base,
        "supportedPrimaryKeys": ["01"],
        "supportedKeyQualifiers": {"01": ["22", "10", "21"]},
        "linkTypeDefaultCanBeLinkset": True,
        "supportedLinkType": [f"gs1:{name}" for name in LINK_TYPES],
        "linkTypeNamespace": GS1,
        "supportedContextValuesEnumerated": [],
        "validatingQrCodes": {"errorCorrection": ERROR_CORRECTION, "quietZoneModules": QUIET_ZONE},
    }, headers={"Cache-Control": "public, max-age=3600"})
