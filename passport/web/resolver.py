"""The GS1 Digital Link resolver and the public passport pages (DESIGN §6-7).

``/01/{gtin}[/22/…][/10/{lot}]/21/{serial}``: HTML for browsers, the public credential for ``application/json`` or
``application/ld+json``, an RFC 9264 linkset for ``application/linkset+json`` or ``linkType=linkset`` (never a
redirect), a 307 to one link for ``linkType=<type>``; GTIN-8/12/13 get a 301 to the 14-digit form. ``/p/{id}`` is an
alias. ETags and 304, ``Cache-Control``, ``Link: rel=alternate``, ``Vary: Accept``. A ceased passport is 410."""

from __future__ import annotations

import zlib
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from passport.access import View
from passport.digitallink import DigitalLinkError, parse_path
from passport.errors import Gone, NotFound, PassportError
from passport.service.passports import parse_passport_id
from passport.storage import PassportRecord, VersionRecord
from passport.web.deps import Context
from passport.web.etags import etag, none_match
from passport.web.fastpath import link_header
from passport.web.i18n import negotiate as negotiate_language
from passport.web.i18n import translations
from passport.web.linkset import LINK_TYPES, LINKSET_MEDIA, linkset
from passport.web.negotiation import choose, json_media
from passport.web.pages import N_, PageRenderer
from passport.web.problems import problem_response

router = APIRouter(tags=["resolver"])
CREDENTIAL_MEDIA = "application/vc"  # what the credential endpoint answers (VC Data Model 2.0 media type)
# public data for any web app (a scanner in a browser reads the linkset): no credentials, so any origin
CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "ETag, Link, Location"}
CACHE_CONTROL = "public, max-age=60, stale-while-revalidate=300"
VersionQuery = Annotated[int | None, Query(ge=1, le=2**31 - 1, description="A version (default: current)")]


def renderer(request: Request) -> PageRenderer:
    pages: PageRenderer = request.app.state.pages
    return pages


ERROR_TITLES = {
    400: N_("This is not a valid battery passport address"),
    404: N_("Battery passport not found"),
    410: N_("This battery passport has ceased"),
}
ERROR_HINTS = {
    400: N_("Check the address: it reads /01/ followed by the 14-digit GTIN, then /21/ and the serial number."),
    404: N_("The code may belong to a battery whose passport is kept by another service."),
    410: N_("The battery was recycled, so its passport no longer applies (Regulation (EU) 2023/1542, Art. 77(8))."),
}


async def _error(request: Request, kind: str, error: PassportError) -> Response:
    if kind != "html":
        return problem_response(request, error.status, error.slug, error.title, error.detail, error.extensions())
    language = negotiate_language(request.query_params.get("lang"), request.headers.get("accept-language"))
    gettext = translations(language).gettext
    title = gettext(ERROR_TITLES.get(error.status, error.title))
    hint = gettext(ERROR_HINTS[error.status]) if error.status in ERROR_HINTS else ""
    html = renderer(request).render("error.html", language, title=title, message=error.detail, hint=hint)
    return HTMLResponse(html, status_code=error.status, headers={"Vary": "Accept, Accept-Language"})


@router.get("/01/{path:path}", summary="Resolve a GS1 Digital Link",
            responses={200: {"content": {"text/html": {}, "application/json": {}, LINKSET_MEDIA: {}}},
                       301: {"description": "To the canonical 14-digit GTIN"},
                       307: {"description": "To the link of the requested linkType"},
                       304: {"description": "Not modified"}, 400: {"description": "Not a valid Digital Link"},
                       404: {"description": "No such passport"}, 410: {"description": "The passport has ceased"}})
async def resolve_digital_link(
    path: str, request: Request, context: Context, version: VersionQuery = None,
    link_type: Annotated[str | None, Query(alias="linkType", max_length=100)] = None,
) -> Response:
    kind = choose(request.headers.get("accept"), link_type)
    try:
        parsed = parse_path(_raw_path(request, path))
        if parsed.serial is None:
            raise DigitalLinkError("a battery passport is found by GTIN and serial: /01/{GTIN}/21/{serial}")
        record = context.store.find_passport(parsed.gtin, parsed.serial)
        lot = parsed.qualifiers.get("10")
        if not parsed.canonical_gtin and kind != "linkset":
            # the lot is checked before the redirect, which goes to the battery's canonical URI (GTIN-14 + serial)
            _check_lot(record, context.store.get_version(record.passport_id, version), lot)
            target = context.urls.digital_link(parsed.gtin, parsed.serial)
            query = request.url.query
            return RedirectResponse(target + (f"?{query}" if query else ""), status_code=301, headers=CORS)
        return await _represent(request, context, record, version, kind, link_type, lot)
    except PassportError as error:
        return await _error(request, kind if kind in ("html", "json") else "json", error)


def _raw_path(request: Request, path: str) -> str:
    """The path as sent, still percent-encoded: the server has already decoded ``path``, which would turn a serial
    ``A%2FB`` into two segments and decode ``%2541`` twice."""
    raw = request.scope.get("raw_path")
    if isinstance(raw, bytes):
        text = raw.decode("latin-1")
        root = str(request.scope.get("root_path") or "")
        text = text.removeprefix(root) if root and text.startswith(root) else text
        if text.startswith("/01/"):
            return text
    return "/01/" + quote(path, safe="/")


@router.get("/p/{passport_id}", summary="A passport's public page or credential (alias of its Digital Link)",
            responses={200: {"content": {"text/html": {}, "application/json": {}, LINKSET_MEDIA: {}}},
                       304: {"description": "Not modified"}, 404: {"description": "No such passport"},
                       410: {"description": "The passport has ceased"}})
async def passport_alias(
    passport_id: str, request: Request, context: Context, version: VersionQuery = None,
    link_type: Annotated[str | None, Query(alias="linkType", max_length=100)] = None,
) -> Response:
    kind = choose(request.headers.get("accept"), link_type)
    try:
        record = context.store.get_passport(parse_passport_id(passport_id))
        return await _represent(request, context, record, version, kind, link_type, None)
    except PassportError as error:
        return await _error(request, kind if kind in ("html", "json") else "json", error)


async def _represent(
    request: Request, context: Any, record: PassportRecord, version: int | None, kind: str, link_type: str | None,
    lot: str | None,
) -> Response:
    if record.ceased:
        raise Gone("this passport has ceased: the battery was recycled (Regulation (EU) 2023/1542, Art. 77(8))")
    stored: VersionRecord = context.store.get_version(record.passport_id, version)
    _check_lot(record, stored, lot)
    canonical = context.urls.digital_link(record.gtin, record.serial)
    links = _links(context, record, stored.version, canonical)
    headers = {"Cache-Control": CACHE_CONTROL, "Vary": "Accept, Accept-Language",
               "Link": _link_header(context, record, stored.version, links), **CORS}
    if kind == "linkset":
        return JSONResponse(linkset(canonical, links, _public(stored)), media_type=LINKSET_MEDIA, headers=headers)
    if kind == "redirect":
        target = _link_target(links, _public(stored), str(link_type))
        return RedirectResponse(target, status_code=307, headers={"Vary": "Accept", **CORS})
    if kind == "json":
        return _credential(request, stored, headers)
    return _page(request, context, record, stored, links, headers)


def _credential(request: Request, stored: VersionRecord, headers: dict[str, str]) -> Response:
    """The stored bytes of the public credential, labelled with the JSON media type the client asked for."""
    media = json_media(request.headers.get("accept"))
    tag = etag(stored.version, View.PUBLIC.value)  # the API's tag of the same bytes as application/json
    if media != "application/json":
        tag = f'{tag[:-1]}-{media.rpartition("/")[2].removesuffix("+json")}"'
    if none_match(request.headers.get("if-none-match"), tag):
        return Response(status_code=304, headers={**headers, "ETag": tag})
    return Response(stored.credential(View.PUBLIC.value), media_type=media, headers={**headers, "ETag": tag})


def _page(request: Request, context: Any, record: PassportRecord, stored: VersionRecord, links: dict[str, str],
          headers: dict[str, str]) -> Response:
    language = negotiate_language(request.query_params.get("lang"), request.headers.get("accept-language"))
    latest = record.current_version
    # the page of an older version also shows the history, so its tag names the latest version too; and the badge
    # can change without a new version (a key revoked later), so the tag says what the badge shows
    verified = "ok" if renderer(request).badge(record, stored).verified else "unverified"
    tag = f'"v{stored.version}-public-{language}-of-{latest}-{verified}"'
    if none_match(request.headers.get("if-none-match"), tag):
        return Response(status_code=304, headers={**headers, "ETag": tag})
    history = [(n, at.date().isoformat()) for n, at in context.store.version_dates(record.passport_id)]
    pages = renderer(request)
    html = pages.passport_page(record, stored, latest, language, history, links)
    if stored.version == latest and not request.url.query:
        # what the fast path may serve for this URL until the badge is checked again
        pages.current_pages.put((record.passport_id, latest, language),
                                (pages.badge_expiry(record, stored), tag, zlib.compress(html.encode("utf-8"))))
    return HTMLResponse(html, headers={**headers, "ETag": tag, "Content-Language": language})


def _public(stored: VersionRecord) -> dict[str, Any]:
    return stored.credential_json(View.PUBLIC.value)["credentialSubject"]["passport"]  # type: ignore[no-any-return]


def _check_lot(record: PassportRecord, stored: VersionRecord, lot: str | None) -> None:
    """A ``/10/{lot}`` qualifier must name the battery's batch: otherwise the link names no battery we know."""
    if lot is not None and _public(stored)["general"].get("batchNumber") != lot:
        raise NotFound(f"no battery with serial {record.serial} in lot {lot}")


def _links(context: Any, record: PassportRecord, version: int, canonical: str) -> dict[str, str]:
    pid = record.passport_id
    return {
        "canonical": canonical,
        "page": context.urls.passport_page(pid),
        "json": f"{context.urls.base}/api/v1/passports/{pid}/credential?"
                + urlencode({"view": "public", "version": version}),
        "linkset": f"{canonical}?linkType=linkset",
        "qr": f"/p/{pid}/qr.svg",
    }


def _link_header(context: Any, record: PassportRecord, version: int, links: dict[str, str]) -> str:
    return link_header(context.urls.base, record.passport_id, version, links["canonical"])


def _link_target(links: dict[str, str], public: dict[str, Any], link_type: str) -> str:
    wanted = link_type.removeprefix("gs1:").removeprefix("https://gs1.org/voc/")
    targets = LINK_TYPES.get(wanted)
    if targets is None:
        raise NotFound(f"unknown linkType {link_type!r}; this resolver offers: "
                       + ", ".join(f"gs1:{name}" for name in LINK_TYPES) + " and linkset")
    for target in targets(links, public):
        return str(target["href"])
    raise NotFound(f"this passport has no link of type gs1:{wanted}")
