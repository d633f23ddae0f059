"""Must show 3 and 5 of the scan issue.

3: the same Digital Link URL returns HTML to a browser, the public credential (which verifies) to
``application/json`` and ``application/ld+json``, and an RFC 9264 linkset (validated against the JSON shape of RFC
9264 §4.2) to ``application/linkset+json``; 304 on a matching ``If-None-Match``; ``Vary``, ``Link``,
``Cache-Control``; ``/.well-known/gs1resolver``; the ``/p/{id}`` alias; ``?version=N``; 410 for a ceased passport;
security headers and no cookies on every public response.

5: for a passport with every field filled, no value of a non-public field appears in the public page (English,
German, French), the public credential or the linkset."""

from __future__ import annotations

import html
import json
import re
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from babel.numbers import format_decimal
from jsonschema import Draft202012Validator

from passport.access import View
from passport.credentials import verify_credential
from passport.service.passports import Passports
from passport.service.resolvers import store_resolver
from tests.api_fixtures import (
    OWNER,
    OWNER_ORG,
    RECYCLED,
    TRANSFER,
    Api,
    Secrets,
    assert_complete,
    every_field_document,
    fields_outside,
    leaf_values,
    record_custody,
)

pytestmark = pytest.mark.anyio
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
LINKSET = "application/linkset+json"
LANGUAGES = ("en", "de", "fr")

# RFC 9264 §4.2: a linkset is {"linkset": [link context objects]}; a context object has an "anchor" and one member
# per relation type (a registered name or an absolute URI) whose value is an array of target objects; a target has
# "href" and optional target attributes: "type", "title", "media" as strings, "hreflang" as an array of strings,
# internationalised "title*" as an array of {value, language}, and extension attributes as arrays.
LINKSET_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["linkset"],
    "additionalProperties": False,
    "properties": {"linkset": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/context"}}},
    "$defs": {
        "uri": {"type": "string", "pattern": r"^[a-zA-Z][a-zA-Z0-9+.-]*:[^\s]+$"},
        "context": {
            "type": "object",
            "required": ["anchor"],
            "properties": {"anchor": {"$ref": "#/$defs/uri"}},
            "propertyNames": {"pattern": r"^(anchor|[a-z][a-z0-9.-]*|[a-zA-Z][a-zA-Z0-9+.-]*://\S+)$"},
            "additionalProperties": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/target"}},
        },
        "target": {
            "type": "object",
            "required": ["href"],
            "properties": {
                "href": {"$ref": "#/$defs/uri"},
                "type": {"type": "string", "pattern": r"^[a-z]+/[a-z0-9.+-]+$"},
                "title": {"type": "string"},
                "media": {"type": "string"},
                "hreflang": {"type": "array", "minItems": 1,
                             "items": {"type": "string", "pattern": r"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]+)*$"}},
                "title*": {"type": "array", "items": {"type": "object", "required": ["value"],
                                                      "properties": {"value": {"type": "string"},
                                                                     "language": {"type": "string"}}}},
            },
            "additionalProperties": {"type": "array"},
        },
    },
}
LINKSET_VALIDATOR = Draft202012Validator(LINKSET_SCHEMA)


@dataclass(frozen=True)
class Battery:
    api: Api
    passport_id: str
    canonical: str
    serial: str
    model_name: str

    @property
    def path(self) -> str:
        return self.canonical.removeprefix("http://testserver")


async def _issue(api: Api, document: dict[str, Any]) -> Battery:
    document.pop("passportId", None)
    passport_id = await api.issue(document)
    general = document["general"]
    canonical = api.context.urls.digital_link(general["gtin"], general["serialNumber"])
    return Battery(api, passport_id, canonical, general["serialNumber"], general["modelName"])


@pytest.fixture
async def battery(api: Api, example: Any) -> Battery:
    return await _issue(api, example("passport-ev"))


async def _get(battery: Battery, accept: str = BROWSER, url: str | None = None, **headers: str) -> httpx.Response:
    return await battery.api.client.get(url or battery.path, headers={"Accept": accept, **headers})


# --- Must show 3: one URL, three representations ----------------------------------------------------------------

async def test_a_browser_gets_the_page(battery: Battery) -> None:
    response = await _get(battery)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert battery.serial in response.text and battery.model_name in response.text
    assert "Signature verified" in response.text
    assert response.headers["content-language"] == "en"


@pytest.mark.parametrize(("accept", "media"), [
    ("application/json", "application/json"), ("application/ld+json", "application/ld+json"),
    ("application/vc", "application/vc"), ("application/ld+json;q=0.5, application/json", "application/json"),
])
async def test_a_machine_gets_the_credential_and_it_verifies(battery: Battery, accept: str, media: str) -> None:
    response = await _get(battery, accept)
    assert response.status_code == 200
    assert response.headers["content-type"] == media
    credential = response.json()
    verify_credential(credential, store_resolver(battery.api.context.store, battery.api.context.urls))
    subject = credential["credentialSubject"]
    assert subject["id"] == battery.canonical
    assert subject["passportId"] == f"urn:uuid:{battery.passport_id}"
    assert subject["view"] == View.PUBLIC.value
    assert fields_outside(subject["passport"], View.PUBLIC) == []
    stored = battery.api.context.store.get_version(battery.passport_id).credential(View.PUBLIC.value)
    assert response.content == stored  # the signed bytes, as stored


async def test_a_tampered_credential_does_not_verify(battery: Battery) -> None:
    """The check above has teeth: the same credential with one changed value fails."""
    credential = (await _get(battery, "application/json")).json()
    credential["credentialSubject"]["passport"]["general"]["modelName"] = "Something else"
    with pytest.raises(Exception, match=r"(?i)signature|proof|verif"):
        verify_credential(credential, store_resolver(battery.api.context.store, battery.api.context.urls))


@pytest.mark.parametrize(("accept", "query"), [(LINKSET, ""), (BROWSER, "?linkType=linkset"),
                                               ("application/json", "?linkType=all")])
async def test_a_linkset_validates_against_rfc_9264(battery: Battery, accept: str, query: str) -> None:
    response = await _get(battery, accept, url=battery.path + query)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(LINKSET)
    body = response.json()
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in LINKSET_VALIDATOR.iter_errors(body)]
    assert not errors, errors
    (context,) = body["linkset"]
    assert context["anchor"] == battery.canonical
    assert "https://gs1.org/voc/defaultLink" in context and "https://gs1.org/voc/pip" in context
    assert context["https://gs1.org/voc/defaultLink"][0]["href"] == f"http://testserver/p/{battery.passport_id}"
    for targets in (v for k, v in context.items() if k != "anchor"):
        for target in targets:  # every target can be followed anonymously
            if target["href"].startswith("http://testserver/"):
                followed = await _get(battery, target.get("type", BROWSER), url=target["href"])
                assert followed.status_code == 200, target


async def test_the_schema_rejects_what_rfc_9264_does_not_allow() -> None:
    bad = [
        {"linkset": {"anchor": "https://x.example"}},
        {"linkset": [{"https://gs1.org/voc/pip": [{"href": "https://x.example"}]}]},
        {"linkset": [{"anchor": "https://x.example", "item": {"href": "https://x.example/1"}}]},
        {"linkset": [{"anchor": "https://x.example", "item": [{"type": "text/html"}]}]},
        {"linkset": [{"anchor": "https://x.example", "item": [{"href": "https://x.example", "hreflang": "en"}]}]},
        {"linkset": [{"anchor": "https://x.example", "Not A Relation": [{"href": "https://x.example"}]}]},
    ]
    for document in bad:
        assert not LINKSET_VALIDATOR.is_valid(document), document


async def test_a_tampered_stored_record_shows_the_warning(api: Api, example: Any) -> None:
    """The badge comes from verifying the stored bytes: change one stored value and the page warns instead (the
    browser test shows the same in Chromium)."""
    battery = await _issue(api, example("passport-lmt"))
    database = api.context.settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(database) as connection:
        connection.execute("DROP TRIGGER IF EXISTS passport_versions_no_update")  # append-only in real life
        (stored,) = connection.execute("SELECT credential_public FROM passport_versions WHERE passport_id = ?",
                                       (battery.passport_id,)).fetchone()
        changed = bytes(stored).replace(battery.model_name.encode(), battery.model_name.upper().encode(), 1)
        assert changed != bytes(stored)
        connection.execute("UPDATE passport_versions SET credential_public = ? WHERE passport_id = ?",
                           (changed, battery.passport_id))
    page = await _get(battery)
    assert page.status_code == 200
    assert "Warning: this record failed verification" in page.text and "Signature verified" not in page.text
    assert 'class="card signature warning"' in page.text
    german = await _get(battery, url=battery.path + "?lang=de")
    assert "Warnung: Dieser Datensatz hat die Prüfung nicht bestanden" in german.text


async def test_conditional_requests_answer_304(battery: Battery) -> None:
    for accept in (BROWSER, "application/json"):
        first = await _get(battery, accept)
        tag = first.headers["etag"]
        for header in (tag, f"W/{tag}", f'"other", {tag}', "*"):
            again = await _get(battery, accept, **{"If-None-Match": header})
            assert again.status_code == 304, (accept, header)
            assert again.content == b""
            assert again.headers["etag"] == tag
            assert "Accept" in again.headers["vary"]
        changed = await _get(battery, accept, **{"If-None-Match": '"v0-public"'})
        assert changed.status_code == 200
    tags = {(await _get(battery, accept, **{"Accept-Language": language})).headers["etag"]
            for accept, language in ((BROWSER, "en"), (BROWSER, "de"), ("application/json", "en"),
                                     ("application/ld+json", "en"), ("application/vc", "en"))}
    assert len(tags) == 5  # each representation has its own tag


async def test_caching_and_link_headers(battery: Battery) -> None:
    for accept in (BROWSER, "application/json", LINKSET):
        response = await _get(battery, accept)
        vary = {v.strip().lower() for v in response.headers["vary"].split(",")}
        assert "accept" in vary
        assert response.headers["access-control-allow-origin"] == "*"  # public data, readable by any web app
        assert re.fullmatch(r"public, max-age=\d+.*", response.headers["cache-control"])
        links = _links(response.headers["link"])
        assert links["canonical"] == battery.canonical
        assert links["linkset"] == f"{battery.canonical}?linkType=linkset"
        alternate = await battery.api.client.get(links["alternate"])  # the JSON twin, anonymously
        assert alternate.status_code == 200
        assert alternate.content == battery.api.context.store.get_version(battery.passport_id).credential("public")
    page = (await _get(battery)).text
    assert f'<link rel="canonical" href="{battery.canonical}">' in page
    assert '<link rel="alternate" type="application/vc"' in page


def _links(header: str) -> dict[str, str]:
    return {rel: target for target, rel in re.findall(r'<([^>]+)>;\s*rel="([^"]+)"', header)}


async def test_the_gs1_resolver_description(battery: Battery) -> None:
    response = await battery.api.client.get("/.well-known/gs1resolver")
    assert response.status_code == 200
    body = response.json()
    assert body["resolverRoot"] == "http://testserver"
    assert body["supportedPrimaryKeys"] == ["01"]
    assert body["supportedKeyQualifiers"]["01"] == ["22", "10", "21"]
    assert "gs1:defaultLink" in body["supportedLinkType"]
    assert body["linkTypeDefaultCanBeLinkset"] is True
    assert body["validatingQrCodes"] == {"errorCorrection": "M", "quietZoneModules": 4}


async def test_the_alias_is_the_same_resource(battery: Battery) -> None:
    for accept in (BROWSER, "application/json", LINKSET):
        via_link = await _get(battery, accept)
        via_alias = await _get(battery, accept, url=f"/p/{battery.passport_id}")
        assert via_alias.status_code == 200
        assert via_alias.content == via_link.content
        assert via_alias.headers.get("etag") == via_link.headers.get("etag")
        assert _links(via_alias.headers["link"])["canonical"] == battery.canonical


async def test_versions(battery: Battery) -> None:
    api = battery.api
    revised = await api.request(OWNER, "PATCH", f"/api/v1/passports/{battery.passport_id}",
                                json={"general": {"modelName": "VoltDrive 75 kWh traction pack, revised"}},
                                headers={"If-Match": '"v1-full"'})
    assert revised.status_code == 200, revised.text
    resolver = store_resolver(api.context.store, api.context.urls)
    for number in (1, 2):
        credential = (await _get(battery, "application/json", url=f"{battery.path}?version={number}")).json()
        verify_credential(credential, resolver)
        assert credential["credentialSubject"]["version"] == number
    current = await _get(battery)
    assert "revised" in current.text and "Version 1 / 2" not in current.text
    old = await _get(battery, url=f"{battery.path}?version=1")
    assert "revised" not in old.text and "Version 1 / 2" in old.text
    assert 'href="?lang=de&amp;version=1"' in old.text  # switching language keeps the version
    assert old.headers["etag"] != current.headers["etag"]
    assert (await _get(battery, url=f"{battery.path}?version=3")).status_code == 404


async def test_a_ceased_passport_is_gone(battery: Battery) -> None:
    api = battery.api
    for event in ({"type": "status-change", "status": "waste"}, {"type": "recycled"}):
        response = await api.request(OWNER, "POST", f"/api/v1/passports/{battery.passport_id}/events", json=event)
        assert response.status_code == 201, response.text
    for url in (battery.path, f"/p/{battery.passport_id}", f"{battery.path}?version=1"):
        page = await _get(battery, url=url)
        assert page.status_code == 410
        assert page.headers["content-type"].startswith("text/html")
        assert "This battery passport has ceased" in page.text
        problem = await _get(battery, "application/json", url=url)
        assert problem.status_code == 410
        assert problem.headers["content-type"] == "application/problem+json"
        assert problem.json()["type"] == "/problems/gone"
        linkset = await _get(battery, LINKSET, url=url)
        assert linkset.status_code == 410
    german = await _get(battery, **{"Accept-Language": "de-DE,de;q=0.9"})
    assert german.status_code == 410 and "Dieser Batteriepass besteht nicht mehr" in german.text
    owner = await api.request(OWNER, "GET", f"/api/v1/passports/{battery.passport_id}/versions")
    assert owner.status_code == 200  # the history stays available to authorised roles


async def test_languages(battery: Battery) -> None:
    cases = {("", "de"): "de", ("", "fr-CH, fr;q=0.9, en;q=0.8"): "fr", ("?lang=fr", "de"): "fr",
             ("", "es, it"): "en", ("?lang=xx", ""): "en", ("", "en;q=0.1, de;q=0.5"): "de"}
    titles = {"en": "EU battery passport", "de": "EU-Batteriepass", "fr": "Passeport de batterie de l’UE"}
    for (query, accept_language), language in cases.items():
        response = await _get(battery, url=battery.path + query, **{"Accept-Language": accept_language})
        assert response.headers["content-language"] == language
        assert f'<html lang="{language}">' in response.text
        assert titles[language] in response.text
        assert "accept-language" in response.headers["vary"].lower()
    french = await _get(battery, url=battery.path + "?lang=fr")
    assert "Signature vérifiée" in french.text and "Puissance initiale à 80 % d’état de charge" in french.text


SECURITY_HEADERS = {"x-content-type-options": "nosniff", "referrer-policy": "no-referrer"}


async def test_security_headers_on_every_public_response(battery: Battery) -> None:
    gtin13 = battery.path.replace("/01/0", "/01/", 1)
    requests = [
        (battery.path, BROWSER, {}), (battery.path, "application/json", {}), (battery.path, LINKSET, {}),
        (battery.path + "?linkType=gs1:pip", BROWSER, {}), (gtin13, BROWSER, {}),
        (battery.path, BROWSER, {"If-None-Match": "*"}), (f"/p/{battery.passport_id}", BROWSER, {}),
        (battery.path.replace(battery.serial, "NOPE"), BROWSER, {}),
        (battery.path.replace(battery.serial, "NOPE"), "application/json", {}),
        ("/01/123/21/X", BROWSER, {}), ("/01/123/21/X", "application/json", {}),
        (f"/p/{battery.passport_id}/qr.png", "image/*", {}), (f"/p/{battery.passport_id}/qr.svg", "image/*", {}),
        (f"/api/v1/labels?ids={battery.passport_id}", "application/pdf", {}),
        ("/.well-known/gs1resolver", "application/json", {}), ("/static/passport.css", "text/css", {}),
        ("/static/favicon.svg", "image/*", {}),
    ]
    statuses = set()
    for url, accept, extra in requests:
        response = await _get(battery, accept, url=url, **extra)
        statuses.add(response.status_code)
        for name, value in SECURITY_HEADERS.items():
            assert response.headers.get(name) == value, (url, name)
        csp = _csp(response.headers["content-security-policy"])
        assert csp["default-src"] == ["'none'"], url
        assert "script-src" not in csp  # no script at all: default-src 'none' applies
        assert not any("unsafe" in source for sources in csp.values() for source in sources), url
        assert csp["frame-ancestors"] == ["'none'"]
        assert "set-cookie" not in response.headers, url
        assert response.status_code < 500
    assert {200, 301, 304, 307, 400, 404} <= statuses


def _csp(header: str) -> dict[str, list[str]]:
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: sources for name, *sources in directives}


# --- Must show 5: nothing of a non-public field in any public representation --------------------------------------

async def _repurpose(api: Api, passport_id: str, status: str, document: Mapping[str, Any], serial: str) -> str:
    successor = json.loads(json.dumps(document))
    successor["general"]["serialNumber"] = serial
    response = await api.request(OWNER, "POST", f"/api/v1/passports/{passport_id}/repurpose",
                                 json={"status": status, "passport": successor})
    assert response.status_code == 201, response.text
    return str(response.json()["successor"]["passportId"]).removeprefix("urn:uuid:")


def _hidden_texts(full: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every text a non-public value of ``full`` could take in a public response: as JSON writes it, and numbers as
    the page writes them in each language."""
    secrets = Secrets.of(full)
    hidden = list(secrets.by_view[View.PUBLIC])
    pointers = {pointer for pointer, _ in hidden}
    for pointer, value in leaf_values(full):
        if pointer in pointers and isinstance(value, int | float) and not isinstance(value, bool):
            for language in LANGUAGES:
                text = format_decimal(value, locale=language, decimal_quantization=False)
                if len(text) >= 5:
                    hidden.append((pointer, text))
    return hidden


async def test_no_non_public_value_reaches_a_public_response(api: Api, example: Any) -> None:
    document = every_field_document(example("passport-ev"))
    first = await api.issue(document)
    every = await _repurpose(api, first, "repurposed", document, "ZQ-EVERY-0002")
    # custody recorded before the second life: a predecessor is frozen once it has a successor (DESIGN §3)
    record_custody(api.context, every, OWNER_ORG, TRANSFER)  # holder, responsible operator, a custody event
    successor = await _repurpose(api, every, "remanufactured", document, "ZQ-EVERY-0003")
    full = (await api.current(every)).json()["passport"]
    # recovered masses arrive with the recycling, which ceases the passport (410 to the public): so that one stored
    # version has every field, sign the transfer event with them as a further version of B, through the service
    events = full["custody"]["events"]
    events[-1]["recoveredMaterials"] = RECYCLED["recoveredMaterials"]
    Passports(api.context).commit(api.context.store.get_passport(every), full, api.context.store.get_version(every))
    full = (await api.current(every)).json()["passport"]
    assert_complete(full)  # every leaf of the model has a value, the second-life links included
    hidden = _hidden_texts(full)
    assert len(hidden) > 100
    owner_view = api.context.store.get_version(every).credential(View.FULL.value).decode()
    missing = [text for _, text in Secrets.of(full).by_view[View.PUBLIC] if text not in owner_view]
    assert not missing, missing  # control: the search finds every hidden value where it is meant to be
    assert any(text == f"urn:uuid:{first}" for _, text in hidden)
    assert any(text == f"urn:uuid:{successor}" for _, text in hidden)
    assert {"/custody/events/-/note", "/custody/events/-/recoveredMaterials/-/material",
            "/condition/stateOfCharge/value", "/general/registrationIdentifiers/economicOperatorIdentifier"} <= {
        pointer for pointer, _ in hidden}

    battery = Battery(api, every, api.context.urls.digital_link(full["general"]["gtin"], "ZQ-EVERY-0002"),
                      "ZQ-EVERY-0002", full["general"]["modelName"])
    versions = api.context.store.get_passport(every).current_version
    checked = 0
    for version in range(1, versions + 1):
        for url in (battery.path, f"/p/{every}"):
            query = f"?version={version}"
            for language in LANGUAGES:
                page = await _get(battery, url=f"{url}{query}&lang={language}")
                assert page.status_code == 200
                assert battery.serial in page.text
                _assert_no_leak(hidden, html.unescape(page.text), f"{url} v{version} {language}")
                lowered = html.unescape(page.text).lower()
                assert "repurposed" not in lowered and "remanufactured" not in lowered  # the status is not public
                checked += 1
            for accept in ("application/json", "application/ld+json", LINKSET):
                response = await _get(battery, accept, url=url + query)
                assert response.status_code == 200
                _assert_no_leak(hidden, response.text, f"{url} v{version} {accept}")
                if accept != LINKSET:
                    assert fields_outside(response.json()["credentialSubject"]["passport"], View.PUBLIC) == []
                checked += 1
    assert checked >= 12


def _assert_no_leak(hidden: list[tuple[str, str]], body: str, where: str) -> None:
    leaked = sorted({(pointer, text) for pointer, text in hidden if text in body})
    assert not leaked, f"{where}: non-public values in a public response: {leaked}"
