"""The public passport page (HTML, mobile first, no JavaScript): what the public view holds, a signature badge
computed by verifying the stored credential, SVG charts, version history. Rendering is cached per version and
language; the badge per version (a few minutes, so a later key revocation shows)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from babel.numbers import format_decimal
from jinja2 import Environment, FileSystemLoader, select_autoescape

from passport.access import View
from passport.credentials import verify_credential
from passport.errors import VerificationError
from passport.service.context import ServiceContext
from passport.service.resolvers import store_resolver
from passport.storage import PassportRecord, VersionRecord
from passport.web.charts import Bar, bar_chart, recycled_chart
from passport.web.i18n import translations

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"
BADGE_TTL = 300.0


def N_(text: str) -> str:  # noqa: N802 - the conventional name of a "translate later" marker for extraction
    return text


METAL_NAMES = {"Co": N_("Cobalt"), "Li": N_("Lithium"), "Ni": N_("Nickel"), "Pb": N_("Lead")}
STAGE_NAMES = {
    "raw-material-acquisition": N_("Raw material acquisition and pre-processing"),
    "main-production": N_("Main product production"),
    "distribution": N_("Distribution"),
    "end-of-life-and-recycling": N_("End of life and recycling"),
}
# CLP hazard classes (Regulation (EC) No 1272/2008, Annex I), named as the Regulation names them
HAZARD_NAMES = {
    "AcuteToxicity": N_("Acute toxicity"),
    "SkinCorrosionOrIrritation": N_("Skin corrosion/irritation"),
    "EyeDamageOrIrritation": N_("Serious eye damage/eye irritation"),
    "RespiratoryOrSkinSensitisation": N_("Respiratory or skin sensitisation"),
    "GermCellMutagenicity": N_("Germ cell mutagenicity"),
    "Carcinogenicity": N_("Carcinogenicity"),
    "ReproductiveToxicity": N_("Reproductive toxicity"),
    "SpecificTargetOrganToxicity": N_("Specific target organ toxicity"),
    "HazardousToTheAquaticEnvironment": N_("Hazardous to the aquatic environment"),
    "Flammable": N_("Flammable"),
}
CATEGORY_NAMES = {"ev": N_("Electric vehicle battery"), "lmt": N_("Light means of transport battery"),
                  "industrial": N_("Industrial battery"), "stationary": N_("Stationary energy storage battery")}


@dataclass(frozen=True)
class Badge:
    verified: bool
    issuer: str
    key: str
    signed_at: str
    reason: str = ""


class LruCache:
    """Least recently used entries, at most ``size`` of them and, with ``max_bytes``, at most that many bytes as
    ``weigh`` counts them. The rendered-page caches held up to 6,000 pages of 12 to 40 KB per worker: the soak test
    saw each worker grow by 100 MiB and more before they were full, so they are bounded by what they hold."""

    def __init__(self, size: int, *, max_bytes: int | None = None, weigh: Callable[[Any], int] = len) -> None:
        self.size = size
        self.max_bytes = max_bytes
        self.weigh = weigh
        self.bytes = 0
        self.items: OrderedDict[Any, Any] = OrderedDict()

    def get(self, key: Any) -> Any:
        if key in self.items:
            self.items.move_to_end(key)
            return self.items[key]
        return None

    def put(self, key: Any, value: Any) -> None:
        if self.max_bytes is not None:
            weight = self.weigh(value)
            if weight > self.max_bytes:
                return  # larger than the whole cache: not kept
            if key in self.items:
                self.bytes -= self.weigh(self.items[key])
            self.bytes += weight
        self.items[key] = value
        self.items.move_to_end(key)
        while len(self.items) > self.size or (self.max_bytes is not None and self.bytes > self.max_bytes):
            _, dropped = self.items.popitem(last=False)
            if self.max_bytes is not None:
                self.bytes -= self.weigh(dropped)


# Per worker: rendered pages of any version and language (the route's: text of 12 to 40 KB each), and of current
# versions (the resolver's fast path, which answers most scans), zlib-compressed (3 to 10 KB; 20 µs to decompress):
# 32 MiB hold several thousand passports' pages.
PAGE_CACHE_BYTES = 8 * 1024 * 1024
CURRENT_PAGE_CACHE_BYTES = 32 * 1024 * 1024


@dataclass
class PageRenderer:
    context: ServiceContext
    environment: Environment = field(init=False)
    pages: LruCache = field(default_factory=lambda: LruCache(2048, max_bytes=PAGE_CACHE_BYTES))
    badges: LruCache = field(default_factory=lambda: LruCache(8192))
    # Rendered pages of current versions, for the resolver's fast path (passport/web/fastpath.py):
    # (passport id, version, language) -> (monotonic expiry: the badge's, ETag, zlib-compressed UTF-8 body)
    current_pages: LruCache = field(
        default_factory=lambda: LruCache(4096, max_bytes=CURRENT_PAGE_CACHE_BYTES, weigh=lambda entry: len(entry[2])))

    def __post_init__(self) -> None:
        self.environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                                       trim_blocks=True, lstrip_blocks=True)

    def badge(self, record: PassportRecord, version: VersionRecord) -> Badge:
        key = (record.passport_id, version.version)
        cached = self.badges.get(key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]  # type: ignore[no-any-return]
        credential = version.credential_json(View.PUBLIC.value)
        proof = credential.get("proof") or {}
        method = str(proof.get("verificationMethod", ""))
        try:
            verify_credential(credential, store_resolver(self.context.store, self.context.urls))
            badge = Badge(True, str(credential.get("issuer")), method.partition("#")[2], str(proof.get("created")))
        except VerificationError as exc:
            badge = Badge(False, str(credential.get("issuer")), method.partition("#")[2], str(proof.get("created")),
                          exc.reason)
        self.badges.put(key, (time.monotonic() + BADGE_TTL, badge))
        return badge

    def badge_expiry(self, record: PassportRecord, version: VersionRecord) -> float:
        """When the badge of this version is checked again (monotonic clock)."""
        self.badge(record, version)
        return float(self.badges.get((record.passport_id, version.version))[0])

    def render(self, template: str, language: str, **values: Any) -> str:
        gettext = translations(language).gettext
        return self.environment.get_template(template).render(_=gettext, lang=language, **values)

    def passport_page(self, record: PassportRecord, version: VersionRecord, latest: int, language: str,
                      history: list[tuple[int, str]], links: Mapping[str, str]) -> str:
        badge = self.badge(record, version)
        cache_key = (record.passport_id, version.version, latest, language, badge)  # a new badge, a new page
        cached = self.pages.get(cache_key)
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        document = version.credential_json(View.PUBLIC.value)["credentialSubject"]["passport"]
        gettext = translations(language).gettext
        number = _number(language)
        html = self.render(
            "passport.html", language, p=document, record=record, version=version.version, latest=latest,
            badge=badge, history=history, links=links,
            charts=charts(document, gettext, number), names=_names(gettext), fmt=_formatter(number),
            extra_query=f"&version={version.version}" if version.version != latest else "",
        )
        self.pages.put(cache_key, html)
        return html


def _names(gettext: Callable[[str], str]) -> dict[str, dict[str, str]]:
    return {
        "metal": {k: gettext(v) for k, v in METAL_NAMES.items()},
        "stage": {k: gettext(v) for k, v in STAGE_NAMES.items()},
        "category": {k: gettext(v) for k, v in CATEGORY_NAMES.items()},
        "hazard": {k: gettext(v) for k, v in HAZARD_NAMES.items()},
    }


def _number(language: str) -> Callable[[float], str]:
    """Numbers as the language writes them (``1,234.5``, ``1.234,5``, ``1 234,5``), every significant digit kept."""

    def number(value: float) -> str:
        return format_decimal(value, locale=language, decimal_quantization=False)

    return number


def _formatter(number: Callable[[float], str]) -> Callable[..., str]:
    def fmt(value: Any, unit: str = "") -> str:
        if value is None or value == "":
            return "–"
        text = number(value) if isinstance(value, int | float) and not isinstance(value, bool) else str(value)
        return f"{text} {unit}".strip()

    return fmt


def charts(document: Mapping[str, Any], gettext: Callable[[str], str],
           number: Callable[[float], str] | None = None) -> dict[str, str]:
    number = number or _number("en")
    out: dict[str, str] = {}
    carbon = document.get("carbonFootprint")
    if carbon:
        bars = [Bar(gettext(STAGE_NAMES.get(s["lifecycleStage"], s["lifecycleStage"])), float(s["carbonFootprint"]),
                    "kg CO₂e/kWh") for s in carbon.get("carbonFootprintPerLifecycleStage", [])]
        out["carbon"] = bar_chart(gettext("Carbon footprint by life-cycle stage"), bars, "chart-carbon", number)
    substances = (document.get("composition") or {}).get("hazardousSubstances") or []
    if substances:
        bars = [Bar(s["hazardousSubstanceName"], float(s["hazardousSubstanceConcentration"]), "%")
                for s in substances]
        out["composition"] = bar_chart(gettext("Hazardous substances, share of battery weight"), bars,
                                       "chart-composition", number)
    recycled = (document.get("circularity") or {}).get("recycledContent") or []
    if recycled:
        shares = [(r["recycledMaterial"], float(r["preConsumerShare"]), float(r["postConsumerShare"]))
                  for r in recycled]
        out["recycled"] = recycled_chart(
            gettext("Recycled content against the minimum shares of Art. 8"), shares,
            {k: gettext(v) for k, v in METAL_NAMES.items()}, "chart-recycled",
            (gettext("pre-consumer"), gettext("post-consumer"), gettext("minimum 2031"), gettext("minimum 2036")),
        )
    return out


__all__ = ["Badge", "LruCache", "PageRenderer", "charts"]
