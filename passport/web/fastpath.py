"""The scan of a QR code, answered without the framework: ``GET /01/{GTIN-14}/21/{serial}`` with no query, asking
for JSON (the stored public credential) or HTML (the public page, when the resolver has rendered this version in
this language within the badge's lifetime). One indexed read (passport/storage/public.py), pre-built headers.

Everything else, and anything unusual on this path (percent-encoding, a query, another media type, an unknown,
ceased or unreadable passport, a page not yet rendered), falls through to the resolver route
(passport/web/resolver.py), which answers exactly as this does (same bytes, same headers: the resolver tests run
through both). The rate limits, security headers and metrics around the application apply to both."""

from __future__ import annotations

import re
import time
import zlib
from functools import lru_cache
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from passport.rules import gtin_is_valid
from passport.service.context import ServiceContext
from passport.storage.public import PublicReader
from passport.web.etags import etag, none_match
from passport.web.i18n import negotiate as negotiate_language
from passport.web.negotiation import choose, json_media

# A serial of characters that need no percent-encoding (RFC 3986 unreserved, within GS1 character set 82): the
# common case, whose path is its own canonical form.
CANONICAL = re.compile(r"/01/([0-9]{14})/21/([A-Za-z0-9._-]{1,20})")
CACHE_CONTROL = b"public, max-age=60, stale-while-revalidate=300"
VARY = b"Accept, Accept-Language"
CORS = [(b"access-control-allow-origin", b"*"), (b"access-control-expose-headers", b"ETag, Link, Location")]
CREDENTIAL_MEDIA = "application/vc"
LINKSET_MEDIA = "application/linkset+json"
_gtin_ok = lru_cache(maxsize=8192)(gtin_is_valid)  # a few thousand battery models are scanned over and over


def link_header(base: str, passport_id: str, version: int, canonical: str) -> str:
    """The resolver's Link header (the same string passport/web/resolver.py sends)."""
    json_link = f"{base}/api/v1/passports/{passport_id}/credential?view=public&version={version}"
    return (f'<{json_link}>; rel="alternate"; type="{CREDENTIAL_MEDIA}", '
            f'<{canonical}?linkType=linkset>; rel="linkset"; type="{LINKSET_MEDIA}", <{canonical}>; rel="canonical"')


class ResolverFastPath:
    def __init__(self, app: ASGIApp, context: ServiceContext, pages: Any, route: Any) -> None:
        self.app = app
        self.context = context
        self.pages = pages  # PageRenderer: its current_pages cache, filled by the resolver route
        self.route = route  # the resolver route, for the metrics' route label
        settings = context.settings
        try:
            self.reader: PublicReader | None = PublicReader(settings.database_read_url or settings.database_url)
        except ValueError:
            self.reader = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope["method"] != "GET" or scope["query_string"] or self.reader is None
                or not scope["path"].startswith("/01/")):
            await self.app(scope, receive, send)
            return
        match = CANONICAL.fullmatch(scope["path"])
        raw = scope.get("raw_path")
        if match is None or (raw is not None and raw != scope["path"].encode()) or not _gtin_ok(match[1]):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        accept = _text(headers.get(b"accept"))
        kind = choose(accept, None)
        if kind == "json":
            done = await self._json(scope, send, match[1], match[2], accept, _text(headers.get(b"if-none-match")))
        elif kind == "html":
            done = await self._html(scope, send, match[1], match[2], _text(headers.get(b"accept-language")),
                                    _text(headers.get(b"if-none-match")))
        else:
            done = False
        if not done:
            await self.app(scope, receive, send)

    def _read(self, gtin: str, serial: str, with_credential: bool) -> Any:
        assert self.reader is not None
        try:
            current = self.reader.current(gtin, serial, with_credential=with_credential)
        except Exception:  # the database cannot answer: the resolver route says so (503), not this shortcut
            return None
        return current if current is not None and not current.ceased else None

    def _common(
        self, scope: Scope, gtin: str, serial: str, passport_id: str, version: int
    ) -> list[tuple[bytes, bytes]]:
        scope["route"] = self.route
        return [*self._headers(gtin, serial, passport_id, version)]

    @lru_cache(maxsize=4096)  # noqa: B019 - one middleware per application, kept for its lifetime
    def _headers(self, gtin: str, serial: str, passport_id: str, version: int) -> tuple[tuple[bytes, bytes], ...]:
        urls = self.context.urls
        link = link_header(urls.base, passport_id, version, urls.digital_link(gtin, serial))
        return ((b"cache-control", CACHE_CONTROL), (b"vary", VARY), (b"link", link.encode()), *CORS)

    async def _json(self, scope: Scope, send: Send, gtin: str, serial: str, accept: str | None,
                    if_none_match: str | None) -> bool:
        current = self._read(gtin, serial, True)
        if current is None:
            return False
        media = json_media(accept)
        tag = etag(current.version, "public")
        if media != "application/json":
            tag = f'{tag[:-1]}-{media.rpartition("/")[2].removesuffix("+json")}"'
        headers = self._common(scope, gtin, serial, current.passport_id, current.version)
        headers.append((b"etag", tag.encode()))
        if none_match(if_none_match, tag):
            await _send(send, 304, headers, b"")
        else:
            headers.append((b"content-type", media.encode()))
            await _send(send, 200, headers, current.credential)
        return True

    async def _html(self, scope: Scope, send: Send, gtin: str, serial: str, accept_language: str | None,
                    if_none_match: str | None) -> bool:
        current = self._read(gtin, serial, False)
        if current is None:
            return False
        language = negotiate_language(None, accept_language)
        cached = self.pages.current_pages.get((current.passport_id, current.version, language))
        if cached is None or cached[0] <= time.monotonic():
            return False  # not rendered yet, or its badge is due for another check: the resolver route renders it
        _, tag, compressed = cached
        headers = self._common(scope, gtin, serial, current.passport_id, current.version)
        headers.append((b"etag", tag.encode()))
        if none_match(if_none_match, tag):
            await _send(send, 304, headers, b"")
        else:
            headers += [(b"content-type", b"text/html; charset=utf-8"), (b"content-language", language.encode())]
            await _send(send, 200, headers, zlib.decompress(compressed))
        return True


def _text(value: bytes | None) -> str | None:
    return value.decode("latin-1") if value is not None else None


async def _send(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    if status != 304:
        headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


__all__ = ["ResolverFastPath", "link_header"]
