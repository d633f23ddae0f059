"""Translations of the public pages (Babel catalogues: English source, German and French shipped), chosen by
``?lang=`` or ``Accept-Language``. The ``.po`` files are compiled in memory at first use."""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALES = Path(__file__).resolve().parent / "locales"
LANGUAGES = ("en", "de", "fr")
DEFAULT = "en"


@cache
def translations(language: str) -> NullTranslations:
    path = LOCALES / language / "LC_MESSAGES" / "messages.po"
    if language == DEFAULT or not path.is_file():
        return NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(fp=compiled)


def negotiate(query_lang: str | None, accept_language: str | None) -> str:
    """``?lang=`` wins; then the best ``Accept-Language`` match by q-value; then English."""
    if query_lang and query_lang.lower()[:2] in LANGUAGES:
        return query_lang.lower()[:2]
    choices: list[tuple[float, int, str]] = []
    for position, item in enumerate((accept_language or "").split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        language = tag.strip().lower()[:2]
        if language in LANGUAGES and quality > 0:
            choices.append((-quality, position, language))
    return min(choices)[2] if choices else DEFAULT


__all__ = ["DEFAULT", "LANGUAGES", "negotiate", "translations"]
