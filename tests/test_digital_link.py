"""Must show 2 of the scan issue: a table-driven conformance test of GS1 Digital Link URIs through the HTTP app
(valid forms, GTIN padding, check digits, the AI character set, percent-encoding, key qualifiers, query attributes,
trailing slashes, unknown AIs, linkType) with the expected status and target; no input produces a 500 (a few hundred
random paths from Hypothesis too). Plus unit tests of :mod:`passport.digitallink` and of content negotiation."""

from __future__ import annotations

import copy
import json
import string
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.requests import Request

from passport.config import Settings
from passport.digitallink import (
    QUALIFIER_ORDER,
    DigitalLinkError,
    check_ai_value,
    normalise_gtin,
    parse_path,
)
from passport.rules import gs1_check_digit
from passport.service.context import open_context
from passport.service.organisations import create_organisation
from passport.service.passports import Passports
from passport.web.app import create_app
from passport.web.negotiation import choose, json_media
from passport.web.resolver import _raw_path
from tests.conftest import EXAMPLES

BASE = "http://testserver"
GTIN = "09520123456788"  # the EV example's GTIN-14: its GTIN-13 form drops the leading zero
GTIN13 = GTIN[1:]
SERIAL = "VD75-2026-000142"
LOT = "L2026-09-B"
GTIN12 = "614141000036"  # a UPC-A (GTIN-12), stored as 00614141000036
GTIN8 = "96385074"  # an EAN-8 (GTIN-8), stored as 00000096385074
# serials that need percent-encoding in a URI, issued as they are (all within the GS1 AI character set 82)
ODD_SERIALS = ("A/B", "X%41", "A+B", "(1)*;=")


def with_check_digit(body: str) -> str:
    return body + str(gs1_check_digit(body))


def bad_check_digit(gtin: str) -> str:
    return gtin[:-1] + str((int(gtin[-1]) + 1) % 10)


@dataclass(frozen=True)
class World:
    client: httpx.AsyncClient
    names: Mapping[str, str]  # placeholders of the expected targets: {EV}, {DOC}, ...


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FastAPI, dict[str, str]]]:
    """An app with the EV example and batteries under GTIN-12, GTIN-8 and serials that need percent-encoding
    (built once: the conformance requests only read)."""
    root = tmp_path_factory.mktemp("digital-link")
    settings = Settings(database_url=f"sqlite:///{root / 'passport.db'}", keys_dir=root / "keys",
                        public_base_url=BASE)
    context = open_context(settings)
    create_organisation(context, "acme", "ACME Batteries")
    passports = Passports(context)
    ev = json.loads((EXAMPLES / "passport-ev.json").read_text(encoding="utf-8"))

    def issue(gtin: str, serial: str) -> str:
        document = copy.deepcopy(ev)
        document.pop("passportId", None)
        document["general"].update(gtin=gtin, serialNumber=serial)
        return passports.issue("acme", document).passport.passport_id

    names: dict[str, str] = {"EV_ID": issue(GTIN, SERIAL)}
    names["U12_ID"] = issue(GTIN12.zfill(14), "UPC-1")
    names["E8_ID"] = issue(GTIN8.zfill(14), "EAN-1")
    for index, serial in enumerate(ODD_SERIALS):
        names[f"ODD{index}_ID"] = issue(GTIN, serial)
    urls = context.urls
    names.update(
        EV=urls.digital_link(GTIN, SERIAL), U12=urls.digital_link(GTIN12.zfill(14), "UPC-1"),
        E8=urls.digital_link(GTIN8.zfill(14), "EAN-1"), PAGE=urls.passport_page(names["EV_ID"]),
        DOC=ev["conformity"]["declarationOfConformity"], IFU=ev["conformity"]["instructionsForUse"],
    )
    yield create_app(settings, context), names
    context.close()


@pytest.fixture
async def world(seeded: tuple[FastAPI, dict[str, str]]) -> AsyncIterator[World]:
    app, names = seeded
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        yield World(client, names)


@dataclass(frozen=True)
class Case:
    path: str
    status: int
    target: str | None = None  # Location of a redirect, or the anchor of a linkset ({NAME} placeholders)
    accept: str = "text/html"
    kind: str | None = None  # expected media: html, json, linkset, problem (None: by status and Accept)

    def media(self) -> str:
        if self.kind:
            return self.kind
        if self.status in (301, 304, 307):
            return "none"
        json_like = "json" in self.accept
        if self.status >= 400:
            return "problem" if json_like else "html"
        return "json" if json_like else "html"


MEDIA = {"html": "text/html", "json": "application/json", "jsonld": "application/ld+json",
         "linkset": "application/linkset+json",
         "problem": "application/problem+json"}
G, S, L = GTIN, SERIAL, LOT
JSON = "application/json"
LINKSET = "application/linkset+json"

CASES: dict[str, Case] = {
    # valid forms
    "canonical": Case(f"/01/{G}/21/{S}", 200),
    "canonical as JSON": Case(f"/01/{G}/21/{S}", 200, accept=JSON),
    "canonical as JSON-LD": Case(f"/01/{G}/21/{S}", 200, accept="application/ld+json", kind="jsonld"),
    "canonical as linkset": Case(f"/01/{G}/21/{S}", 200, "{EV}", accept=LINKSET, kind="linkset"),
    "no Accept header: the page": Case(f"/01/{G}/21/{S}", 200, accept="*/*", kind="html"),
    "one trailing slash": Case(f"/01/{G}/21/{S}/", 200),
    "two trailing slashes": Case(f"/01/{G}/21/{S}//", 400),
    # GTIN-8/12/13: 301 to the canonical GTIN-14 form, the query kept
    "GTIN-13": Case(f"/01/{GTIN13}/21/{S}", 301, "{EV}"),
    "GTIN-13 as JSON": Case(f"/01/{GTIN13}/21/{S}", 301, "{EV}", accept=JSON),
    "GTIN-13, query kept": Case(f"/01/{GTIN13}/21/{S}?17=261231&lang=de", 301, "{EV}?17=261231&lang=de"),
    "GTIN-12": Case(f"/01/{GTIN12}/21/UPC-1", 301, "{U12}"),
    "GTIN-12 as 14 digits": Case(f"/01/{GTIN12.zfill(14)}/21/UPC-1", 200),
    "GTIN-8": Case(f"/01/{GTIN8}/21/EAN-1", 301, "{E8}"),
    "GTIN-13 with the right lot": Case(f"/01/{GTIN13}/10/{L}/21/{S}", 301, "{EV}"),
    "GTIN-13 with a wrong lot": Case(f"/01/{GTIN13}/10/OTHER/21/{S}", 404),
    "GTIN-13 of an unknown battery": Case(f"/01/{GTIN13}/21/NOPE", 404),
    # a linkset is answered directly, never redirected, with canonical URIs in it
    "GTIN-13 linkType=linkset": Case(f"/01/{GTIN13}/21/{S}?linkType=linkset", 200, "{EV}", kind="linkset"),
    "GTIN-13 Accept linkset": Case(f"/01/{GTIN13}/21/{S}", 200, "{EV}", accept=LINKSET, kind="linkset"),
    "linkType=linkset": Case(f"/01/{G}/21/{S}?linkType=linkset", 200, "{EV}", kind="linkset"),
    "linkType=all (deprecated)": Case(f"/01/{G}/21/{S}?linkType=all", 200, "{EV}", kind="linkset"),
    # check digits and GTIN syntax
    "wrong check digit (14)": Case(f"/01/{bad_check_digit(G)}/21/{S}", 400),
    "wrong check digit (14), JSON": Case(f"/01/{bad_check_digit(G)}/21/{S}", 400, accept=JSON),
    "wrong check digit (13)": Case(f"/01/{bad_check_digit(GTIN13)}/21/{S}", 400),
    "wrong check digit (8)": Case(f"/01/{bad_check_digit(GTIN8)}/21/EAN-1", 400),
    "GTIN of 11 digits": Case(f"/01/{G[3:]}/21/{S}", 400),
    "GTIN of 15 digits": Case(f"/01/0{G}/21/{S}", 400),
    "non-digit GTIN": Case(f"/01/0952012345678X/21/{S}", 400),
    "Unicode digits in the GTIN": Case(f"/01/{quote(G[:-1] + '²')}/21/{S}", 400, accept=JSON),
    "empty GTIN": Case(f"/01//21/{S}", 400),
    "unknown battery, valid GTIN": Case(f"/01/{with_check_digit('0401234567890')}/21/{S}", 404),
    "unknown serial": Case(f"/01/{G}/21/NOPE", 404),
    "unknown serial, JSON": Case(f"/01/{G}/21/NOPE", 404, accept=JSON),
    # the serial: GS1 AI character set 82, at most 20 characters, percent-encoded in the URI
    "serial with an encoded space": Case(f"/01/{G}/21/A%20B", 400),
    "serial with #": Case(f"/01/{G}/21/A%23B", 400),
    "serial with é": Case(f"/01/{G}/21/%C3%A9t%C3%A9", 400),
    "serial with invalid UTF-8": Case(f"/01/{G}/21/%FF%FE", 400),
    "serial with a backslash": Case(f"/01/{G}/21/A%5CB", 400),
    "serial of 21 characters": Case(f"/01/{G}/21/{'X' * 21}", 400),
    "serial of 20 characters (unknown)": Case(f"/01/{G}/21/{'X' * 20}", 404),
    "serial A/B encoded": Case(f"/01/{G}/21/A%2FB", 200),
    "serial A/B lower-case escape": Case(f"/01/{G}/21/A%2fB", 200),
    "serial A/B unencoded": Case(f"/01/{G}/21/A/B", 400),
    "serial X%41 (decoded once)": Case(f"/01/{G}/21/X%2541", 200),
    "serial XA does not exist": Case(f"/01/{G}/21/X%41", 404),
    "serial A+B": Case(f"/01/{G}/21/A+B", 200),
    "serial A+B encoded": Case(f"/01/{G}/21/A%2BB", 200),
    "serial with sub-delimiters": Case(f"/01/{G}/21/{quote('(1)*;=', safe='')}", 200),
    "serial with unencoded sub-delimiters": Case(f"/01/{G}/21/(1)*;=", 200),
    "encoded serial of the canonical one": Case(f"/01/{G}/21/{quote(S, safe='')}%2D", 404),
    # key qualifiers: 22 (CPV), 10 (lot), 21 (serial), in that order, once each
    "right lot": Case(f"/01/{G}/10/{L}/21/{S}", 200),
    "right lot as JSON": Case(f"/01/{G}/10/{L}/21/{S}", 200, accept=JSON),
    "wrong lot": Case(f"/01/{G}/10/L2026-09-C/21/{S}", 404),
    "wrong lot as JSON": Case(f"/01/{G}/10/L2026-09-C/21/{S}", 404, accept=JSON),
    "lot with a bad character": Case(f"/01/{G}/10/L%7E1/21/{S}", 400),
    "consumer product variant": Case(f"/01/{G}/22/V1/21/{S}", 200),
    "variant, lot and serial": Case(f"/01/{G}/22/V1/10/{L}/21/{S}", 200),
    "lot after serial": Case(f"/01/{G}/21/{S}/10/{L}", 400),
    "variant after lot": Case(f"/01/{G}/10/{L}/22/V1/21/{S}", 400),
    "repeated serial": Case(f"/01/{G}/21/{S}/21/{S}", 400),
    "repeated lot": Case(f"/01/{G}/10/{L}/10/{L}/21/{S}", 400),
    "missing serial": Case(f"/01/{G}", 400),
    "missing serial, JSON": Case(f"/01/{G}", 400, accept=JSON),
    "lot but no serial": Case(f"/01/{G}/10/{L}", 400),
    "empty serial": Case(f"/01/{G}/21/", 400),
    "empty segment": Case(f"/01/{G}//21/{S}", 400),
    "AI without a value": Case(f"/01/{G}/21/{S}/10", 400),
    "unknown AI 99 in the path": Case(f"/01/{G}/99/X/21/{S}", 400),
    "unknown AI after the serial": Case(f"/01/{G}/21/{S}/99/X", 400),
    "data attribute 17 in the path": Case(f"/01/{G}/17/261231/21/{S}", 400),
    "primary key other than 01": Case(f"/01/{G}/00/106141411234567897", 400),
    # query attributes: GS1 data attributes and unknown parameters are ignored; linkType selects a link
    "data attribute 17 in the query": Case(f"/01/{G}/21/{S}?17=261231", 200),
    "unknown query parameters": Case(f"/01/{G}/21/{S}?utm_source=x&foo", 200),
    "empty linkType": Case(f"/01/{G}/21/{S}?linkType=", 200),
    "linkType gs1:certificationInfo": Case(f"/01/{G}/21/{S}?linkType=gs1:certificationInfo", 307, "{DOC}"),
    "linkType as a full URI": Case(
        f"/01/{G}/21/{S}?linkType={quote('https://gs1.org/voc/certificationInfo', safe='')}", 307, "{DOC}"),
    "linkType gs1:instructions": Case(f"/01/{G}/21/{S}?linkType=gs1:instructions", 307, "{IFU}"),
    "linkType gs1:pip": Case(f"/01/{G}/21/{S}?linkType=gs1:pip", 307, "{PAGE}"),
    "linkType gs1:defaultLink": Case(f"/01/{G}/21/{S}?linkType=gs1:defaultLink", 307, "{PAGE}"),
    "linkType unknown": Case(f"/01/{G}/21/{S}?linkType=gs1:nonsense", 404, kind="problem"),
    "linkType of an unknown battery": Case(f"/01/{G}/21/NOPE?linkType=gs1:pip", 404, kind="problem"),
    "linkType too long": Case(f"/01/{G}/21/{S}?linkType={'x' * 101}", 422, kind="problem"),
    # versions
    "version 1": Case(f"/01/{G}/21/{S}?version=1", 200),
    "version 99": Case(f"/01/{G}/21/{S}?version=99", 404),
    "version 0": Case(f"/01/{G}/21/{S}?version=0", 422, kind="problem"),
    "version not a number": Case(f"/01/{G}/21/{S}?version=two", 422, kind="problem"),
    # the /p/{id} alias
    "alias": Case("/p/{EV_ID}", 200),
    "alias as JSON": Case("/p/{EV_ID}", 200, accept=JSON),
    "alias of the urn": Case("/p/urn:uuid:{EV_ID}", 200),
    "alias of an unknown id": Case("/p/01934b6e-7c1a-7d2e-9a41-000000000000", 404),
    "alias of a non-id": Case("/p/not-a-passport", 404),
}


def test_the_table_is_large_enough() -> None:
    assert len(CASES) >= 40


@pytest.mark.anyio
@pytest.mark.parametrize("name", list(CASES))
async def test_conformance(world: World, name: str) -> None:
    case = CASES[name]
    path = case.path.format(**world.names) if "{" in case.path else case.path
    response = await world.client.get(path, headers={"Accept": case.accept})
    assert response.status_code == case.status, (path, response.text[:300])
    media = case.media()
    content_type = response.headers.get("content-type", "")
    if media == "none":
        target = (case.target or "").format(**world.names)
        assert response.headers["location"] == target
        assert not content_type.startswith("text/html")
        return
    assert content_type.startswith(MEDIA[media]), content_type
    if media == "linkset":
        context = response.json()["linkset"][0]
        assert context["anchor"] == (case.target or "").format(**world.names)
        assert all(target["href"].startswith(("http://", "https://"))
                   for key, targets in context.items() if key != "anchor" for target in targets)
    if media == "problem":
        assert response.json()["status"] == case.status
    if case.status == 200 and media in ("html", "json", "jsonld") and "/p/" not in case.path:
        assert response.headers["link"].count('rel="canonical"') == 1


@pytest.mark.anyio
async def test_the_served_battery_is_the_one_named(world: World) -> None:
    """Percent-encoded serials resolve to their own passport (and a redirect never changes the battery)."""
    for index, serial in enumerate(ODD_SERIALS):
        response = await world.client.get(f"/01/{GTIN}/21/{quote(serial, safe='')}", headers={"Accept": JSON})
        assert response.status_code == 200, serial
        subject = response.json()["credentialSubject"]
        assert subject["passportId"] == f"urn:uuid:{world.names[f'ODD{index}_ID']}"
        assert subject["passport"]["general"]["serialNumber"] == serial
        assert subject["id"] == f"{BASE}/01/{GTIN}/21/{quote(serial, safe='')}"


@pytest.mark.anyio
async def test_a_redirect_leads_to_the_page(world: World) -> None:
    response = await world.client.get(f"/01/{GTIN13}/10/{LOT}/21/{SERIAL}?lang=fr", follow_redirects=True)
    assert response.status_code == 200
    assert str(response.url) == f"{world.names['EV']}?lang=fr"
    assert response.headers["content-language"] == "fr"
    assert [r.status_code for r in response.history] == [301]


# --- no input produces a 500 ------------------------------------------------------------------------------------

SAFE = "%/:@!$&'()*+,;="  # kept as they are: a path may carry raw percent escapes and sub-delimiters
segments = st.one_of(
    st.sampled_from(["01", "10", "21", "22", "99", "17", "235", "", ".", "..", "%", "%2F", "%00", "%ZZ", "%C3%28",
                     GTIN, GTIN13, GTIN8, SERIAL, LOT, "0" * 14, "9" * 14]),
    st.from_regex(r"[0-9]{1,16}", fullmatch=True),
    st.text(max_size=24).map(lambda text: quote(text, safe=SAFE)),
)
paths = st.lists(segments, max_size=8).map(lambda parts: "/01/" + "/".join(parts))
queries = st.dictionaries(st.sampled_from(["linkType", "version", "lang", "17", "10", "x"]),
                          st.text(max_size=12), max_size=3)
accepts = st.sampled_from(["text/html", JSON, LINKSET, "application/ld+json", "*/*", "", "image/png;q=x, */*;q=0"])


@pytest.mark.anyio
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=paths, query=queries, accept=accepts)
async def test_no_path_is_a_server_error(world: World, path: str, query: dict[str, str], accept: str) -> None:
    response = await world.client.get(path, params=query, headers={"Accept": accept})
    assert response.status_code < 500, (path, query, response.text[:300])
    if response.status_code in (301, 307):
        assert response.headers["location"]


@pytest.mark.anyio
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=40))
async def test_no_alias_is_a_server_error(world: World, text: str) -> None:
    response = await world.client.get("/p/" + quote(text, safe=""), headers={"Accept": JSON})
    assert response.status_code < 500


# --- passport.digitallink ---------------------------------------------------------------------------------------

CSET82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"


def test_the_ai_character_set_is_exactly_set_82() -> None:
    assert len(CSET82) == 82
    allowed = {c for c in map(chr, range(0x20, 0x7F)) if _accepted("21", c)}
    assert allowed == set(CSET82)
    assert not any(_accepted("21", c) for c in "é€\u00a0\t\n\x00")


def _accepted(ai: str, value: str) -> bool:
    try:
        check_ai_value(ai, value)
    except DigitalLinkError:
        return False
    return True


@pytest.mark.parametrize(("given", "expected"), [
    (GTIN, GTIN), (GTIN13, GTIN), (GTIN12, "00" + GTIN12), (GTIN8, "000000" + GTIN8),
])
def test_gtins_are_padded_to_14_digits(given: str, expected: str) -> None:
    assert normalise_gtin(given) == expected


@pytest.mark.parametrize("text", ["", "1234567", "123456789", "12345678901", "123456789012345", "0952012345678X",
                                  "0952012345678²", "٠٩٥٢٠١٢٣٤٥٦٧٨٨", " 9520123456788", bad_check_digit(GTIN)])
def test_bad_gtins_are_refused(text: str) -> None:
    with pytest.raises(DigitalLinkError):
        normalise_gtin(text)


def test_a_wrong_check_digit_names_the_right_one() -> None:
    with pytest.raises(DigitalLinkError, match=f"should be {GTIN[-1]}"):
        normalise_gtin(bad_check_digit(GTIN))


def test_parse_path_reads_qualifiers_and_decodes_once() -> None:
    parsed = parse_path(f"/01/{GTIN13}/22/V%2F1/10/{LOT}/21/X%2541/")
    assert parsed.gtin == GTIN and parsed.given_gtin == GTIN13 and not parsed.canonical_gtin
    assert parsed.qualifiers == {"22": "V/1", "10": LOT, "21": "X%41"}
    assert parsed.serial == "X%41" and parsed.trailing_slash
    assert parse_path(f"/01/{GTIN}").serial is None
    assert list(parse_path(f"/01/{GTIN}/22/a/10/b/21/c").qualifiers) == list(QUALIFIER_ORDER)


@pytest.mark.parametrize(("path", "message"), [
    ("/", "starts with /01/"), ("/02/09520123456788", "starts with /01/"), (f"/01/{GTIN}/21", "needs a value"),
    (f"/01/{GTIN}//21/S", "empty segment"), (f"/01/{GTIN}/21/S//", "empty segment"),
    (f"/01/{GTIN}/99/X", "not a key qualifier"), (f"/01/{GTIN}/21/S/10/L", "in the order"),
    (f"/01/{GTIN}/21/S/21/S", "once each"), (f"/01/{GTIN}/21/{'9' * 21}", "longer than 20"),
    (f"/01/{GTIN}/21/A%20B", "outside the GS1 character set"), (f"/01/{GTIN}/10/%00/21/S", "character set"),
])
def test_parse_path_explains_what_is_wrong(path: str, message: str) -> None:
    with pytest.raises(DigitalLinkError, match=message):
        parse_path(path)


@pytest.mark.parametrize(("scope", "expected"), [
    ({"raw_path": f"/01/{GTIN}/21/A%2FB".encode()}, f"/01/{GTIN}/21/A%2FB"),
    ({"raw_path": f"/passports/01/{GTIN}/21/A%2FB".encode(), "root_path": "/passports"}, f"/01/{GTIN}/21/A%2FB"),
    ({}, f"/01/{GTIN}/21/A/B"),  # no raw path from the server: the decoded one, re-encoded (a slash stays one)
])
def test_the_resolver_reads_the_path_as_sent(scope: dict[str, object], expected: str) -> None:
    request = Request({"type": "http", "method": "GET", "path": f"/01/{GTIN}/21/A/B", "query_string": b"",
                       "headers": [], **scope})
    assert _raw_path(request, f"{GTIN}/21/A/B") == expected


# --- content negotiation ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("accept", "link_type", "kind"), [
    (None, None, "html"),
    ("*/*", None, "html"),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", None, "html"),
    ("application/json", None, "json"),
    ("application/ld+json", None, "json"),
    ("Application/JSON; charset=utf-8", None, "json"),
    ("application/vc", None, "json"),
    ("application/linkset+json", None, "linkset"),
    ("text/html;q=0.5, application/json", None, "json"),
    ("application/json;q=0.5, text/html", None, "html"),
    ("application/json;q=0, text/html;q=0.1", None, "html"),
    ("application/json;q=nonsense, application/linkset+json;q=0.2", None, "linkset"),
    ("image/png", None, "html"),
    ("", None, "html"),
    (",,;", None, "html"),
    ("application/json", "linkset", "linkset"),
    ("text/html", "all", "linkset"),
    ("text/html", "gs1:pip", "redirect"),
    ("application/linkset+json", "gs1:certificationInfo", "redirect"),
    ("application/json", "", "json"),
])
def test_negotiation(accept: str | None, link_type: str | None, kind: str) -> None:
    assert choose(accept, link_type) == kind


@given(accept=st.text(alphabet=string.printable, max_size=60), link_type=st.none() | st.text(max_size=20))
def test_negotiation_always_answers(accept: str, link_type: str | None) -> None:
    assert choose(accept, link_type) in ("html", "json", "linkset", "redirect")
    assert json_media(accept) in ("application/json", "application/ld+json", "application/vc")


@pytest.mark.parametrize(("accept", "media"), [
    (None, "application/json"), ("application/ld+json", "application/ld+json"), ("application/vc", "application/vc"),
    ("application/ld+json;q=0.4, application/json;q=0.6", "application/json"), ("*/*", "application/json"),
])
def test_the_json_media_type_follows_the_request(accept: str | None, media: str) -> None:
    assert json_media(accept) == media
