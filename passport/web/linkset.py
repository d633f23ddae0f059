"""RFC 9264 linksets (``application/linkset+json``) of a battery, with GS1 Web Vocabulary link types."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

LINKSET_MEDIA = "application/linkset+json"
GS1 = "https://gs1.org/voc/"

Targets = Callable[[Mapping[str, str], Mapping[str, Any]], list[dict[str, Any]]]


def _page(links: Mapping[str, str], _: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {"href": links["page"], "type": "text/html", "title": "Battery passport (public page)",
         "hreflang": ["en", "de", "fr"]},
        {"href": links["json"], "type": "application/vc", "title": "Battery passport (signed credential)"},
    ]


def _document(*path: str, title: str, media: str = "application/pdf") -> Targets:
    def targets(_: Mapping[str, str], public: Mapping[str, Any]) -> list[dict[str, Any]]:
        value: Any = public
        for part in path:
            value = value.get(part) if isinstance(value, Mapping) else None
        return [{"href": value, "type": media, "title": title}] if isinstance(value, str) else []

    return targets


LINK_TYPES: dict[str, Targets] = {
    "defaultLink": lambda links, public: _page(links, public)[:1],
    "pip": _page,
    "sustainabilityInfo": _document("carbonFootprint", "carbonFootprintStudy", title="Carbon footprint study"),
    "recyclingInfo": _document("circularity", "endOfLifeInformation", "informationOnCollection",
                               title="Collection, second life and recycling", media="text/html"),
    "certificationInfo": _document("conformity", "declarationOfConformity", title="EU declaration of conformity"),
    "instructions": _document("conformity", "instructionsForUse", title="Instructions for use"),
}


def linkset(anchor: str, links: Mapping[str, str], public: Mapping[str, Any]) -> dict[str, Any]:
    """``{"linkset": [{"anchor": <canonical URI>, "<relation URI>": [targets]}]}``."""
    context: dict[str, Any] = {"anchor": anchor}
    for name, targets in LINK_TYPES.items():
        found = targets(links, public)
        if found:
            context[GS1 + name] = found
    return {"linkset": [context]}


__all__ = ["GS1", "LINKSET_MEDIA", "LINK_TYPES", "linkset"]
