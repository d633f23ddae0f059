"""Reading request bodies: media type checked (415), size bounded while streaming (413), JSON parsed strictly."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from fastapi import Request

from passport import jsonio
from passport.errors import PayloadTooLarge, UnsupportedMediaType

JSON_LIMIT = 1024 * 1024  # 1 MiB: a complete passport is about 12 KiB
JSON_TYPES = ("application/json",)
MERGE_PATCH_TYPES = ("application/merge-patch+json", "application/json")


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def require_media_type(request: Request, accepted: tuple[str, ...]) -> str:
    kind = media_type(request)
    if kind not in accepted:
        raise UnsupportedMediaType(f"Content-Type must be {' or '.join(accepted)}, not {kind or 'missing'}")
    return kind


async def limited_stream(request: Request, limit: int) -> AsyncIterator[bytes]:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body is larger than {limit} bytes")
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise PayloadTooLarge(f"the body is larger than {limit} bytes")
        yield chunk


async def read_body(request: Request, limit: int = JSON_LIMIT) -> bytes:
    return b"".join([chunk async for chunk in limited_stream(request, limit)])


async def read_json(request: Request, accepted: tuple[str, ...] = JSON_TYPES, limit: int = JSON_LIMIT) -> Any:
    require_media_type(request, accepted)
    return jsonio.loads(await read_body(request, limit))


__all__ = ["JSON_LIMIT", "MERGE_PATCH_TYPES", "limited_stream", "media_type", "read_body", "read_json",
           "require_media_type"]
