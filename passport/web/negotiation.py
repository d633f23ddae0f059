"""Content negotiation of the resolver: which representation an ``Accept`` header (and ``linkType``) asks for."""

from __future__ import annotations

from functools import lru_cache

HTML = ("text/html", "application/xhtml+xml")
JSON = ("application/json", "application/ld+json", "application/vc")
LINKSET = ("application/linkset+json",)


@lru_cache(maxsize=512)  # clients send a handful of distinct Accept headers, over and over
def _ranked(accept: str) -> tuple[tuple[float, int, str], ...]:
    ranked = []
    for position, item in enumerate(accept.split(",")):
        media, *params = [part.strip() for part in item.split(";")]
        quality = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    quality = float(param[2:])
                except ValueError:
                    quality = 0.0
        if media and quality > 0:
            ranked.append((-quality, position, media.lower()))
    return tuple(sorted(ranked))


def choose(accept: str | None, link_type: str | None) -> str:
    """``html``, ``json``, ``linkset`` or ``redirect`` (to the link of ``linkType``).

    ``linkType=linkset`` (and the deprecated ``all``) or a linkset media type answer with the linkset, never a
    redirect. Wildcards and no ``Accept`` at all mean a person with a browser-like client: the page."""
    if link_type in ("linkset", "all"):
        return "linkset"
    if link_type:
        return "redirect"
    for _, _, media in _ranked(accept or "*/*"):
        if media in LINKSET:
            return "linkset"
        if media in JSON:
            return "json"
        if media in HTML or media in ("*/*", "text/*"):
            return "html"
    return "html"


def json_media(accept: str | None) -> str:
    """The JSON media type to label the credential with: the one the client ranked best of ``application/json``,
    ``application/ld+json`` and ``application/vc`` (the same bytes: a VC 2.0 credential is JSON-LD)."""
    for _, _, media in _ranked(accept or ""):
        if media in JSON:
            return media
    return "application/json"


__all__ = ["choose", "json_media"]
