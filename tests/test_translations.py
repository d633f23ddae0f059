"""The public pages' catalogues: the template is current, German and French translate every message with the same
placeholders, and a page in German or French shows no English interface text."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from passport.web.i18n import LANGUAGES, LOCALES, negotiate, translations
from tests.api_fixtures import Api

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = [language for language in LANGUAGES if language != "en"]
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%%")


def _catalog(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def _messages(catalog: Catalog) -> Iterator[Message]:
    return (message for message in catalog if message.id)


def test_the_template_is_current(tmp_path: Path) -> None:
    fresh = tmp_path / "messages.pot"
    pybabel: Any = CommandLineInterface()  # babel's command line, untyped
    pybabel.run(["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), "-o", str(fresh),
                                "--no-location", "--sort-output", "-k", "_", "-k", "N_", "-k", "gettext",
                                str(ROOT)])
    current = {m.id for m in _messages(_catalog(LOCALES / "messages.pot"))}
    assert {m.id for m in _messages(_catalog(fresh))} == current, (
        "passport/web/locales/messages.pot is stale: run pybabel extract (see docs/scanning.md)")


@pytest.mark.parametrize("language", SHIPPED)
def test_every_message_is_translated(language: str) -> None:
    template = {m.id: m for m in _messages(_catalog(LOCALES / "messages.pot"))}
    catalog = _catalog(LOCALES / language / "LC_MESSAGES" / "messages.po", language)
    translated = {m.id: m for m in _messages(catalog)}
    assert set(template) <= set(translated), sorted(set(template) - set(translated))
    assert not catalog.fuzzy
    for msgid, message in translated.items():
        assert isinstance(message.string, str) and message.string.strip(), msgid
        assert "fuzzy" not in message.flags, msgid
        assert sorted(PLACEHOLDER.findall(message.string)) == sorted(PLACEHOLDER.findall(str(msgid))), msgid
        if "python-format" in message.flags:
            values = dict.fromkeys(re.findall(r"%\(([a-z_]+)\)", str(msgid)), "1")
            assert isinstance(message.string % values, str)  # formats without error
    assert not list(catalog.check())  # babel's own checks (placeholders, plural forms)


@pytest.mark.parametrize("language", SHIPPED)
def test_official_terms(language: str) -> None:
    gettext = translations(language).gettext
    terms = {
        "de": {"Battery passport": "Batteriepass", "EU declaration of conformity": "EU-Konformitätserklärung",
               "Carbon footprint": "CO₂-Fußabdruck"},
        "fr": {"Battery passport": "Passeport de batterie",
               "EU declaration of conformity": "Déclaration UE de conformité", "Carbon footprint": "Empreinte carbone"},
    }[language]
    for msgid, expected in terms.items():
        assert gettext(msgid) == expected


@pytest.mark.parametrize(("query", "header", "expected"), [
    (None, None, "en"), ("de", None, "de"), ("FR", "de", "fr"), ("es", "fr", "fr"), (None, "de-AT", "de"),
    (None, "fr;q=0.4, de;q=0.6", "de"), (None, "*", "en"), (None, "de;q=0", "en"), (None, "de;q=x, fr", "fr"),
    (None, "it, en-GB;q=0.5", "en"),
])
def test_language_negotiation(query: str | None, header: str | None, expected: str) -> None:
    assert negotiate(query, header) == expected


@pytest.mark.anyio
@pytest.mark.parametrize("language", SHIPPED)
async def test_pages_show_no_english_interface_text(api: Api, example: Any, language: str) -> None:
    document = example("passport-ev")
    document.pop("passportId", None)
    passport_id = await api.issue(document)
    page = html.unescape((await api.client.get(f"/p/{passport_id}?lang={language}")).text)
    catalog = _catalog(LOCALES / language / "LC_MESSAGES" / "messages.po", language)
    translated = [str(m.string) for m in _messages(catalog)]
    english = [str(m.id) for m in _messages(catalog)
               if m.string != m.id and len(str(m.id)) >= 8 and "%" not in str(m.id)
               and not any(str(m.id) in text for text in translated)]
    assert len(english) > 50
    shown = [text for text in english if text in page]
    assert not shown, shown
    assert f'<html lang="{language}">' in page
