"""Must show 1 and 2 of issue 8, and the permission rules of scoped access.

1. An access matrix over every route that returns passport data: the JSON read, version history, credentials (Data
   Integrity and JWS), search (JSON and CSV), the console (list, passport page, CSV download), the inventory and the
   resolver's JSON at the Digital Link URL. A legitimate-interest organisation without custody, grant or ownership
   reads the public view (and the API says so); with a grant by passport, by battery model or by manufacturer, with
   custody, as responsible operator (after a delegation), as the registered owner, and as an aggregator the owner
   delegated to, it reads exactly the passports covered in the legitimate-interest view, until the grant expires
   (the FakeClock moves past ``expiresAt``) or is revoked.
2. Search, inventory and report aggregates count only the passports the caller may see beyond the public view: the
   expectations are computed here, in plain Python over the documents this test issued.

Also: who may grant, decide requests and approve purposes, and every refusal is application/problem+json."""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import json
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import httpx
import pytest

from passport.access import VIEW_AUDIENCES, View, project, view_contains
from passport.clock import rfc3339
from passport.models.base import Audience
from passport.models.introspect import leaves
from passport.models.passport import Passport
from passport.service.apikeys import create_api_key
from passport.service.models import item_part, model_part
from passport.service.organisations import create_organisation
from passport.service.passports import full_document
from tests.api_fixtures import (
    ADMIN,
    ANONYMOUS,
    AUTHORITY,
    LEGITIMATE,
    OTHER,
    OTHER_ORG,
    OWNER,
    OWNER_ORG,
    PROBLEM_JSON,
    Api,
    ApiFactory,
    Secrets,
    audience,
    every_field_document,
    jws_payload,
)
from tests.conftest import FakeClock

pytestmark = pytest.mark.anyio
API = "/api/v1"
RECYCLER_ORG = "recycler"  # the legitimate-interest organisation seed_roles creates (a manufacturer grant of acme)
RESTRICTED_MARK = "zq-restricted-cathode-NMC811"  # a restricted value of every_field_document
INDIVIDUAL_MARK = "7364519"  # numberOfFullCycles: data of the individual battery (legitimate interest only)
AUTHORITY_MARK = "zq-authonly-eori-DE7734120"  # an authorities-only value


# --- helpers shared with tests/test_access_log.py -----------------------------------------------------------------


async def add_organisation(api: Api, slug: str, role: str = "legitimate_interest", purposes: Sequence[str] = ()) -> str:
    """An organisation with one API key (``api.keys[slug]``), approved by the admin for ``purposes`` through the
    API (it asks, the admin approves)."""
    create_organisation(api.context, slug, slug.title())
    api.keys[slug] = create_api_key(api.context, slug, role, label=slug)[1]
    for purpose in purposes:
        asked = await api.request(slug, "POST", f"{API}/orgs/{slug}/purposes", json={"purpose": purpose})
        assert asked.status_code == 202, asked.text
        approved = await api.request(ADMIN, "POST", f"{API}/orgs/{slug}/purposes/{purpose}/approve")
        assert approved.status_code == 200, approved.text
    return slug


async def give_grant(
    api: Api, grantor: str, grantee: str, kind: str, value: str, purpose: str, expires: dt.datetime
) -> str:
    response = await api.request(grantor, "POST", f"{API}/grants", json={
        "grantee": grantee, "scope": {"kind": kind, "id": value}, "purpose": purpose, "expiresAt": rfc3339(expires)})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def event(api: Api, role: str, passport_id: str, body: Mapping[str, Any]) -> None:
    response = await api.request(role, "POST", f"{API}/passports/{passport_id}/events", json=body)
    assert response.status_code == 201, response.text


async def console_cookie(api: Api, who: str) -> str:
    """Sign in to the console through its form (the CSRF double-submit cookie); the session cookie."""
    api.client.cookies.clear()
    form = await api.client.get("/console/sign-in")
    assert form.status_code == 200
    token = form.cookies["passport_login_csrf"]
    done = await api.client.post("/console/sign-in", data={"api_key": api.keys[who], "csrf": token})
    assert done.status_code == 303, done.text
    cookie = done.cookies["passport_session"]
    api.client.cookies.clear()
    return cookie


async def console_get(api: Api, cookie: str, url: str) -> httpx.Response:
    return await api.client.get(url, headers={"Cookie": f"passport_session={cookie}"})


def current_full(api: Api, passport_id: str) -> dict[str, Any]:
    """The full document of the current version, from the store (what the test wrote, as signed)."""
    return full_document(api.context.store.get_version(passport_id, None))


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON, response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["type"].startswith("/problems/")
    return body


def bare(urn: str) -> str:
    return urn.removeprefix("urn:uuid:")


# --- the matrix world --------------------------------------------------------------------------------------------

# Legitimate-interest organisations, one per way of access, and one with none.
NOBODY, BY_PASSPORT, BY_MODEL, BY_MAKER = "nobodyco", "repairco", "secondlifeco", "makerco"
HOLDER, OWNER_LI, AGGREGATOR, DELEGATE = "holdco", "fleetco", "gridco", "delegateco"
LI_ORGS = (NOBODY, BY_PASSPORT, BY_MODEL, BY_MAKER, HOLDER, OWNER_LI, AGGREGATOR, DELEGATE, LEGITIMATE)
CALLERS = (*LI_ORGS, OWNER, OTHER, AUTHORITY, ADMIN, ANONYMOUS)
PASSPORTS = ("single", "model-a", "model-b", "held", "delegated", "plain", "rival")
ACME_PASSPORTS = ("single", "model-a", "model-b", "held", "delegated", "plain")

# The grants' lifetimes, from the start of the test (the aggregator's ends first, the seeded recycler's last).
EXPIRES = {AGGREGATOR: 20, BY_PASSPORT: 30, BY_MODEL: 60, BY_MAKER: 90, LEGITIMATE: 365}


def initial_access() -> dict[str, dict[str, str]]:
    """Caller -> {passport: basis} of every passport it reads beyond the public view."""
    acme = {name: "recycler" for name in ACME_PASSPORTS if name != "delegated"}  # acme is no longer responsible
    return {
        NOBODY: {},
        BY_PASSPORT: {"single": "repairer"},
        BY_MODEL: {"model-a": "second-life-operator", "model-b": "second-life-operator"},
        BY_MAKER: {"rival": "recycler"},
        HOLDER: {"held": "custody"},
        OWNER_LI: {"model-b": "owner"},
        AGGREGATOR: {"model-b": "aggregator"},
        DELEGATE: {"delegated": "responsible-operator"},
        LEGITIMATE: acme,
        OWNER: dict.fromkeys(acme, "responsible-operator"),  # and "delegated" if it still holds it (build_world)
        OTHER: {"rival": "responsible-operator"},
        AUTHORITY: dict.fromkeys(PASSPORTS, "authority"),
        ADMIN: {},
        ANONYMOUS: {},
    }


def view_of(caller: str, basis: str | None) -> View:
    if basis is None:
        return View.PUBLIC
    if caller == AUTHORITY:
        return View.AUTHORITY
    if caller in (OWNER, OTHER) and basis == "responsible-operator":
        return View.FULL
    return View.LEGITIMATE_INTEREST


@dataclass
class World:
    api: Api
    clock: FakeClock
    start: dt.datetime
    ids: dict[str, str]  # name -> passport id
    full: dict[str, dict[str, Any]]  # name -> full document
    model_id: str
    grants: dict[str, str]  # grantee -> grant id
    secrets: Secrets
    access: dict[str, dict[str, str]] = field(default_factory=initial_access)

    def name_of(self, passport_id: str) -> str | None:
        return next((name for name, pid in self.ids.items() if pid == bare(passport_id)), None)


def variant(document: Mapping[str, Any], serial: str) -> dict[str, Any]:
    copied = copy.deepcopy(dict(document))
    copied["general"]["serialNumber"] = serial
    return copied


async def build_world(api: Api, clock: FakeClock, document: Mapping[str, Any]) -> World:
    start = clock.now
    for slug, purposes in ((NOBODY, ("recycler", "repairer")), (BY_PASSPORT, ("repairer",)),
                           (BY_MODEL, ("second-life-operator",)), (BY_MAKER, ("recycler",)), (HOLDER, ()),
                           (OWNER_LI, ()), (AGGREGATOR, ("aggregator",)), (DELEGATE, ())):
        await add_organisation(api, slug, purposes=purposes)
    response = await api.request(OWNER, "POST", f"{API}/models", json=model_part(document))
    assert response.status_code == 201, response.text
    model_id = str(response.json()["modelId"])
    ids = {
        "single": await api.issue(variant(document, "ZQ-GRANT-0001")),
        "model-a": await api.issue(item_part(variant(document, "ZQ-GRANT-0002")), model_id=model_id),
        "model-b": await api.issue(item_part(variant(document, "ZQ-GRANT-0003")), model_id=model_id),
        "held": await api.issue(variant(document, "ZQ-GRANT-0004")),
        "delegated": await api.issue(variant(document, "ZQ-GRANT-0005")),
        "plain": await api.issue(variant(document, "ZQ-GRANT-0006")),
        "rival": await api.issue(variant(document, "ZQ-GRANT-0007"), role=OTHER),
    }
    await event(api, OWNER, ids["held"], {"type": "transfer", "to": HOLDER})
    await event(api, OWNER, ids["delegated"], {"type": "delegation", "to": DELEGATE})
    owner = await api.request(OWNER, "PUT", f"{API}/passports/{ids['model-b']}/owner", json={"owner": OWNER_LI})
    assert owner.status_code == 200, owner.text

    def until(grantee: str) -> dt.datetime:
        return start + dt.timedelta(days=EXPIRES[grantee])

    grants = {
        BY_PASSPORT: await give_grant(api, OWNER, BY_PASSPORT, "passport", ids["single"], "repairer",
                                      until(BY_PASSPORT)),
        BY_MODEL: await give_grant(api, OWNER, BY_MODEL, "model", model_id, "second-life-operator", until(BY_MODEL)),
        BY_MAKER: await give_grant(api, OTHER, BY_MAKER, "manufacturer", OTHER_ORG, "recycler", until(BY_MAKER)),
        # the owner delegates its battery's data to an aggregator
        AGGREGATOR: await give_grant(api, OWNER_LI, AGGREGATOR, "passport", ids["model-b"], "aggregator",
                                     until(AGGREGATOR)),
    }
    seeded = [g for g in api.context.store.list_grants(grantee=RECYCLER_ORG) if g.revoked_at is None]
    assert len(seeded) == 1
    grants[LEGITIMATE] = seeded[0].grant_id
    full = {name: current_full(api, pid) for name, pid in ids.items()}
    world = World(api, clock, start, ids, full, model_id, grants, Secrets.of(*full.values()))
    delegated = api.context.store.get_passport(ids["delegated"])
    assert delegated.organisation == DELEGATE
    if delegated.holder == OWNER_ORG:  # a delegation moves responsibility, not custody (tests/test_custody.py)
        world.access[OWNER]["delegated"] = "custody"
    return world


@pytest.fixture
async def world(api: Api, clock: FakeClock, example: Any) -> World:
    return await build_world(api, clock, every_field_document(example("passport-ev")))


# --- what each route must show -----------------------------------------------------------------------------------


LEAVES = frozenset(node.pointer for node in leaves(Passport))


@cache
def column_audiences(column: str) -> frozenset[Audience]:
    """The audiences of the fields a CSV column (a dotted name, possibly of a whole list) holds."""
    prefix = "/" + column.replace(".", "/")
    return frozenset(audience(p) for p in LEAVES if p == prefix or p.startswith(prefix + "/"))


def assert_only_view(body: str, view: View, label: str, w: World) -> None:
    leaked = w.secrets.leaked(view, body)
    assert not leaked, f"{label}: values outside the {view} view: {leaked[:4]}"


async def check_passport_routes(w: World, caller: str, name: str) -> None:
    """JSON read, versions, credentials (default, each view, JWS) and the resolver JSON of one passport."""
    api, pid, full = w.api, w.ids[name], w.full[name]
    basis = w.access[caller].get(name)
    view = view_of(caller, basis)
    label = f"{caller} reading {name}"
    limited = view is View.PUBLIC and caller in (*LI_ORGS, OWNER, OTHER)

    read = await api.request(caller, "GET", f"{API}/passports/{pid}")
    assert read.status_code == 200, (label, read.text)
    body = read.json()
    assert body["view"] == view.value, label
    assert body["passport"] == project(full, view), label
    assert ("passport-access" in read.headers) == limited, (label, dict(read.headers))
    assert ("access" in body) == limited, label
    if limited:
        assert read.headers["passport-access"].startswith("public"), label
        assert body["access"]["view"] == "public" and "access-requests" in body["access"]["note"], label
    assert_only_view(read.text, view, label, w)

    versions = await api.request(caller, "GET", f"{API}/passports/{pid}/versions")
    assert versions.status_code == 200, (label, versions.text)
    assert all((v.get("fullViewHash") is not None) == (view is View.FULL) for v in versions.json()["versions"]), label
    assert_only_view(versions.text, view, label, w)

    credential = await api.request(caller, "GET", f"{API}/passports/{pid}/credential")
    assert credential.status_code == 200, (label, credential.text)
    subject = credential.json()["credentialSubject"]
    assert (subject["view"], subject["passport"]) == (view.value, project(full, view)), label
    jwt = await api.request(caller, "GET", f"{API}/passports/{pid}/credential?format=jwt")
    assert jwt.status_code == 200, (label, jwt.text)
    assert json.loads(jws_payload(jwt.text))["credentialSubject"]["passport"] == project(full, view), label
    for wanted in (View.LEGITIMATE_INTEREST, View.AUTHORITY, View.FULL):
        asked = await api.request(caller, "GET", f"{API}/passports/{pid}/credential?view={wanted.value}")
        if view_contains(view, wanted):
            assert asked.status_code == 200, (label, wanted, asked.text)
            assert asked.json()["credentialSubject"]["passport"] == project(full, wanted), label
        else:
            problem(asked, 403)
            assert_only_view(asked.text, View.PUBLIC, label, w)

    # The resolver (the QR code's Digital Link) serves the public credential to everyone, key or not.
    general = full["general"]
    resolved = await api.request(caller, "GET", f"/01/{general['gtin']}/21/{general['serialNumber']}",
                                 headers={"Accept": "application/json"})
    assert resolved.status_code == 200, (label, resolved.text)
    assert resolved.json()["credentialSubject"]["passport"] == project(full, View.PUBLIC), label


def check_rows(w: World, caller: str, rows: Mapping[str, tuple[str, Mapping[str, Any] | None]], label: str) -> None:
    """Search rows (passport id -> (view, document or None for CSV)) of the world's passports: each in the view the
    caller has of it."""
    for passport_id, (shown, document) in rows.items():
        name = w.name_of(passport_id)
        if name is None:
            continue
        view = view_of(caller, w.access[caller].get(name))
        assert shown == view.value, (label, name)
        if document is not None:
            assert document == project(w.full[name], view), (label, name)


def csv_rows(text: str, label: str) -> dict[str, tuple[str, None]]:
    """The rows of a search CSV, after checking no cell holds a field outside its row's view."""
    table = list(csv.reader(io.StringIO(text)))
    header, body = table[0], table[1:]
    assert header[:4] == ["passportId", "version", "view", "modelId"], label
    for row in body:
        view = View(row[2])
        for column, cell in zip(header[4:], row[4:], strict=True):
            if cell:
                assert column_audiences(column) <= VIEW_AUDIENCES[view], f"{label}: {column} of a {view} row: {cell!r}"
    return {row[0]: (row[2], None) for row in body}


async def check_search(w: World, caller: str) -> None:
    """Search (JSON, with a filter on a non-public field, CSV) over every passport."""
    api, label = w.api, f"{caller} searching"
    found = await api.request(caller, "GET", f"{API}/passports?limit=1000")
    assert found.status_code == 200, found.text
    items = found.json()["items"]
    rows = {item["passportId"]: (item["view"], item["passport"]) for item in items}
    assert {w.name_of(p) for p in rows} >= set(PASSPORTS), label  # nothing is hidden: the public view of the rest
    check_rows(w, caller, rows, label)
    exported = await api.request(caller, "GET", f"{API}/passports", headers={"Accept": "text/csv"})
    assert exported.status_code == 200, exported.text
    check_rows(w, caller, csv_rows(exported.text, label + " (CSV)"), label + " (CSV)")
    assert set(csv_rows(exported.text, label)) == set(rows), label

    # A filter on a non-public field (the status) answers only over the passports seen beyond the public view.
    status = await api.request(caller, "GET", f"{API}/passports?status=original&limit=1000")
    if caller in (AUTHORITY, ADMIN, ANONYMOUS):  # their view has no status
        problem(status, 403)
        return
    assert status.status_code == 200, status.text
    named = {w.name_of(item["passportId"]) for item in status.json()["items"]}
    assert named - {None} == set(w.access[caller]), label
    status_csv = await api.request(caller, "GET", f"{API}/passports?status=original",
                                   headers={"Accept": "text/csv"})
    assert {w.name_of(p) for p in csv_rows(status_csv.text, label)} - {None} == set(w.access[caller]), label


async def check_console(w: World, caller: str) -> None:
    """The console shows what the API shows: the passport pages, the search page and its CSV download."""
    api = w.api
    cookie = await console_cookie(api, caller)
    for name in PASSPORTS:
        view = view_of(caller, w.access[caller].get(name))
        label = f"{caller} console {name}"
        page = await console_get(api, cookie, f"/console/passports/{w.ids[name]}")
        assert page.status_code == 200, (label, page.text[:300])
        assert f"{view.value} view" in page.text, label
        assert_only_view(page.text, view, label, w)
        assert (RESTRICTED_MARK in page.text) == (view is not View.PUBLIC), label
        assert (INDIVIDUAL_MARK in page.text) == (view in (View.LEGITIMATE_INTEREST, View.FULL)), label
    listing = await console_get(api, cookie, "/console/passports")
    assert listing.status_code == 200
    for name in PASSPORTS:
        assert w.ids[name] in listing.text, (caller, name)
    if not w.access[caller] or caller == AUTHORITY:
        assert_only_view(listing.text, View.PUBLIC if caller != AUTHORITY else View.AUTHORITY, caller, w)
    exported = await console_get(api, cookie, "/console/passports.csv")
    assert exported.status_code == 200, exported.text
    check_rows(w, caller, csv_rows(exported.text, f"{caller} console CSV"), f"{caller} console CSV")


async def check_inventory(w: World, caller: str) -> None:
    """The inventory counts exactly the passports seen beyond the public view."""
    response = await w.api.request(caller, "GET", f"{API}/inventory?groupBy=manufacturer")
    if caller in (ADMIN, ANONYMOUS):
        problem(response, 403 if caller == ADMIN else 401)
        return
    assert response.status_code == 200, response.text
    expected = len(w.access[caller]) if caller != AUTHORITY else None
    if expected is not None:
        assert response.json()["passports"] == expected, (caller, response.json())


SIGNED_IN = tuple(caller for caller in CALLERS if caller != ANONYMOUS)


async def check_everything(w: World, callers: Sequence[str] = CALLERS, console: Sequence[str] = SIGNED_IN) -> None:
    for caller in callers:
        for name in PASSPORTS:
            await check_passport_routes(w, caller, name)
        await check_search(w, caller)
        await check_inventory(w, caller)
        if caller in console:
            await check_console(w, caller)


# --- Must show 1 -------------------------------------------------------------------------------------------------


async def test_each_kind_of_access_shows_exactly_its_scope_until_expiry_or_revocation(world: World) -> None:
    w = world
    await check_everything(w)

    # Just before the aggregator's grant expires, it still reads; at expiresAt, it reads the public view.
    w.clock.now = w.start + dt.timedelta(days=EXPIRES[AGGREGATOR], seconds=-1)
    await check_passport_routes(w, AGGREGATOR, "model-b")
    w.clock.now = w.start + dt.timedelta(days=EXPIRES[AGGREGATOR])
    w.access[AGGREGATOR] = {}
    await check_passport_routes(w, AGGREGATOR, "model-b")

    # Past the grants by passport and by model: only their holders lose access; custody, ownership and
    # responsibility stay.
    w.clock.now = w.start + dt.timedelta(days=EXPIRES[BY_MODEL], seconds=1)
    w.access[BY_PASSPORT], w.access[BY_MODEL] = {}, {}
    await check_everything(w, console=(BY_PASSPORT, BY_MODEL, AGGREGATOR, OWNER_LI))

    # Revoked (by their grantors): the manufacturer grants of acme and of rival.
    for grantor, grantee in ((OWNER, LEGITIMATE), (OTHER, BY_MAKER)):
        revoked = await w.api.request(grantor, "DELETE", f"{API}/grants/{w.grants[grantee]}")
        assert revoked.status_code == 204, revoked.text
        w.access[grantee] = {}
    await check_everything(w, callers=(LEGITIMATE, BY_MAKER, HOLDER, OWNER_LI, DELEGATE, OWNER, OTHER),
                           console=(LEGITIMATE, BY_MAKER))
    listed = (await w.api.request(OWNER, "GET", f"{API}/grants?as=grantor")).json()["given"]
    assert {g["grantee"]: g["active"] for g in listed} == {RECYCLER_ORG: False, BY_PASSPORT: False, BY_MODEL: False}


# --- Must show 2: aggregates count only what the caller may see -------------------------------------------------

# The inventory key of a composition entry (docs/api.md): its element or graphite by CAS number, else its name in
# lower case. Written out here for the CAS numbers of the examples, independently of passport.materials.
ELEMENTS = {"7440-02-0": "Ni", "7440-48-4": "Co", "7439-96-5": "Mn", "7439-93-2": "Li", "7782-42-5": "graphite",
            "7440-50-8": "Cu", "7429-90-5": "Al", "7439-89-6": "Fe"}
METALS = ("Co", "Li", "Ni", "Pb")


def material(entry: Mapping[str, Any]) -> str:
    return ELEMENTS.get(entry["batteryMaterialIdentifier"], str(entry["batteryMaterialName"]).lower())


@dataclass
class Stock:
    api: Api
    ids: dict[str, str]
    docs: dict[str, dict[str, Any]]  # name -> the full document as issued (what the test wrote)
    maker: dict[str, str]  # name -> responsible organisation
    model: dict[str, str | None]  # name -> battery model id
    sees: dict[str, set[str]]  # caller -> passports it may aggregate


def scaled(document: Mapping[str, Any], serial: str, factor: float, extra_share: float) -> dict[str, Any]:
    """A variant with its own serial, material masses and recycled shares, so that counting a wrong passport shows."""
    copied = variant(document, serial)
    copied.pop("passportId", None)
    for entry in copied["composition"]["batteryMaterials"]:
        entry["batteryMaterialMass"] = round(entry["batteryMaterialMass"] * factor, 4)
    for entry in copied["circularity"].get("recycledContent", []):
        entry["preConsumerShare"] = round(entry["preConsumerShare"] + extra_share, 2)
    return copied


@pytest.fixture
async def stock(api_factory: ApiFactory, database_url: str, example: Any, clock: FakeClock) -> Stock:
    api = await api_factory(database_url)
    for slug, purposes in ((NOBODY, ("recycler",)), (BY_PASSPORT, ("repairer",)),
                           (BY_MODEL, ("second-life-operator",)), (BY_MAKER, ("recycler",)), (HOLDER, ()),
                           (OWNER_LI, ()), (AGGREGATOR, ("aggregator",))):
        await add_organisation(api, slug, purposes=purposes)
    ev, lmt, industrial = example("passport-ev"), example("passport-lmt"), example("passport-industrial")
    response = await api.request(OWNER, "POST", f"{API}/models", json=model_part(scaled(ev, "M", 0.9, 1.5)))
    assert response.status_code == 201, response.text
    model_id = str(response.json()["modelId"])
    docs = {
        "ev-model-1": scaled(ev, "AG-0001", 0.9, 1.5), "ev-model-2": scaled(ev, "AG-0002", 0.9, 1.5),
        "ev-plain": scaled(ev, "AG-0003", 0.8, 0.5), "lmt": scaled(lmt, "AG-0004", 0.7, 2.0),
        "industrial": scaled(industrial, "AG-0005", 0.95, 0.25), "industrial-waste": scaled(industrial, "AG-0006",
                                                                                           0.6, 0.0),
        "rival-ev": scaled(ev, "AG-0007", 0.5, 3.0), "rival-lmt": scaled(lmt, "AG-0008", 0.4, 1.0),
    }
    ids: dict[str, str] = {}
    for name, document in docs.items():
        role = OTHER if name.startswith("rival") else OWNER
        if name.startswith("ev-model"):
            ids[name] = await api.issue(item_part(document), model_id=model_id)
        else:
            ids[name] = await api.issue(document, role=role)
    await event(api, OWNER, ids["industrial-waste"], {"type": "status-change", "status": "waste"})
    await event(api, OWNER, ids["industrial"], {"type": "transfer", "to": HOLDER})
    owner = await api.request(OWNER, "PUT", f"{API}/passports/{ids['ev-plain']}/owner", json={"owner": OWNER_LI})
    assert owner.status_code == 200, owner.text
    later = clock.now + dt.timedelta(days=30)
    await give_grant(api, OWNER, BY_PASSPORT, "passport", ids["lmt"], "repairer", later)
    await give_grant(api, OWNER, BY_MODEL, "model", model_id, "second-life-operator", later)
    await give_grant(api, OTHER, BY_MAKER, "manufacturer", OTHER_ORG, "recycler", later)
    await give_grant(api, OWNER_LI, AGGREGATOR, "passport", ids["ev-plain"], "aggregator", later)
    # an expired and a revoked grant count for nothing
    clock.advance(days=1)
    await give_grant(api, OWNER, AGGREGATOR, "passport", ids["industrial"], "aggregator",
                     clock.now + dt.timedelta(hours=1))
    revoked = await give_grant(api, OTHER, BY_MODEL, "manufacturer", OTHER_ORG, "second-life-operator", later)
    assert (await api.request(OTHER, "DELETE", f"{API}/grants/{revoked}")).status_code == 204
    clock.advance(hours=2)

    acme = {name for name in docs if not name.startswith("rival")}
    rival = set(docs) - acme
    sees = {NOBODY: set(), BY_PASSPORT: {"lmt"}, BY_MODEL: {"ev-model-1", "ev-model-2"}, BY_MAKER: rival,
            HOLDER: {"industrial"}, OWNER_LI: {"ev-plain"}, AGGREGATOR: {"ev-plain"}, LEGITIMATE: acme,
            OWNER: acme, OTHER: rival, AUTHORITY: set(docs)}
    full = {name: current_full(api, pid) for name, pid in ids.items()}
    for name, document in docs.items():  # what was issued is what is stored (the model passports: model + item)
        assert full[name]["composition"]["batteryMaterials"] == document["composition"]["batteryMaterials"], name
    maker = {name: OTHER_ORG if name in rival else OWNER_ORG for name in docs}
    model: dict[str, str | None] = {name: model_id if name.startswith("ev-model") else None for name in docs}
    return Stock(api, ids, docs, maker, model, sees)


def expected_inventory(stock: Stock, names: set[str], by_maker: bool = False) -> dict[tuple[str, ...], Any]:
    mass: dict[tuple[str, ...], float] = defaultdict(float)
    counted: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for name in names:
        for entry in stock.docs[name]["composition"]["batteryMaterials"]:
            key = (material(entry), stock.maker[name]) if by_maker else (material(entry),)
            mass[key] += entry["batteryMaterialMass"]
            counted[key].add(name)
    return {key: (pytest.approx(total, rel=1e-9), len(counted[key])) for key, total in mass.items()}


def expected_recycled(stock: Stock, names: set[str], by: str) -> dict[str, dict[str, dict[str, Any]]]:
    """Per group and metal: passports, containing, declaring, and the mass-weighted (else plain) mean shares."""
    groups: dict[str, list[str]] = defaultdict(list)
    for name in names:
        gtin = stock.docs[name]["general"]["gtin"]
        groups[stock.maker[name] if by == "manufacturer" else (stock.model[name] or f"gtin:{gtin}")].append(name)
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for key, members in groups.items():
        out[key] = {}
        for metal in METALS:
            masses = {n: sum(e["batteryMaterialMass"] for e in stock.docs[n]["composition"]["batteryMaterials"]
                             if material(e) == metal) for n in members}
            shares = {n: e for n in members for e in stock.docs[n]["circularity"].get("recycledContent", [])
                      if e["recycledMaterial"] == metal}
            weight = sum(masses[n] for n in shares if masses[n])
            if weight:
                pre = sum(shares[n]["preConsumerShare"] * masses[n] for n in shares if masses[n]) / weight
                post = sum(shares[n]["postConsumerShare"] * masses[n] for n in shares if masses[n]) / weight
            elif shares:
                pre = sum(s["preConsumerShare"] for s in shares.values()) / len(shares)
                post = sum(s["postConsumerShare"] for s in shares.values()) / len(shares)
            else:
                pre = post = None
            out[key][metal] = {
                "passports": len(members), "containing": sum(1 for n in members if masses[n] > 0),
                "declaring": len(shares),
                "preConsumer": None if pre is None else pytest.approx(pre, abs=1e-6),  # reported to 6 decimals
                "postConsumer": None if post is None else pytest.approx(post, abs=1e-6)}
    return out


def inventory_rows(body: Mapping[str, Any], by_maker: bool = False) -> dict[tuple[str, ...], Any]:
    return {((row["material"], row["manufacturer"]) if by_maker else (row["material"],)):
            (row["massKg"], row["passports"]) for row in body["rows"]}


async def test_aggregates_count_only_the_passports_granted(stock: Stock) -> None:
    api = stock.api
    for caller, names in stock.sees.items():
        live = names  # waste batteries count; ceased ones would not (none here)
        inventory = await api.request(caller, "GET", f"{API}/inventory")
        assert inventory.status_code == 200, inventory.text
        assert inventory.json()["passports"] == len(live), caller
        assert inventory_rows(inventory.json()) == expected_inventory(stock, live), caller

        by_maker = await api.request(caller, "GET", f"{API}/inventory?groupBy=material,manufacturer")
        assert inventory_rows(by_maker.json(), True) == expected_inventory(stock, live, True), caller

        waste = await api.request(caller, "GET", f"{API}/inventory?status=waste")
        if caller == AUTHORITY:  # the status is not in the authority view
            problem(waste, 403)
        else:
            assert waste.status_code == 200, waste.text
            assert inventory_rows(waste.json()) == expected_inventory(stock, names & {"industrial-waste"}), caller

        for by in ("manufacturer", "model"):
            report = await api.request(caller, "GET", f"{API}/reports/recycled-content?by={by}")
            assert report.status_code == 200, report.text
            got = {row[by]: {metal: {k: figures[k] for k in ("passports", "containing", "declaring", "preConsumer",
                                                             "postConsumer")}
                             for metal, figures in row["metals"].items()}
                   for row in report.json()["rows"]}
            assert got == expected_recycled(stock, live, by), (caller, by)

        if caller not in (AUTHORITY,):
            search = await api.request(caller, "GET", f"{API}/passports?status=original&limit=1000")
            found = {bare(item["passportId"]) for item in search.json()["items"]}
            assert found == {stock.ids[n] for n in names - {"industrial-waste"}}, caller

    # The console's inventory and report downloads are the same figures.
    cookie = await console_cookie(api, BY_MODEL)
    page = await console_get(api, cookie, "/console/inventory.csv")
    rows = {row["material"]: float(row["massKg"]) for row in csv.DictReader(io.StringIO(page.text))}
    assert rows == {key[0]: value[0] for key, value in expected_inventory(stock, stock.sees[BY_MODEL]).items()}
    report = await console_get(api, cookie, "/console/reports/recycled-content.csv?by=manufacturer")
    assert [row["manufacturer"] for row in csv.DictReader(io.StringIO(report.text))] == [OWNER_ORG]
    for who, names in ((BY_MODEL, stock.sees[BY_MODEL]), (NOBODY, set())):
        cookie = await console_cookie(api, who)
        page = await console_get(api, cookie, "/console/inventory")
        assert f"{len(names)} passports in scope" in page.text, who
        report = await console_get(api, cookie, "/console/reports/recycled-content?by=manufacturer")
        shown = set(re.findall(r'<th scope="row">([^<]+)</th>', report.text))
        assert shown == ({OWNER_ORG} if names else set()), who


# --- who may do what -----------------------------------------------------------------------------------------------


async def view_read(api: Api, caller: str, passport_id: str) -> str:
    response = await api.request(caller, "GET", f"{API}/passports/{passport_id}")
    assert response.status_code == 200, response.text
    return str(response.json()["view"])


async def test_only_the_responsible_operator_grants_and_decides_only_admins_approve_purposes(
    api: Api, clock: FakeClock, example: Any
) -> None:
    document = every_field_document(example("passport-ev"))
    await add_organisation(api, BY_PASSPORT, purposes=("repairer",))
    await add_organisation(api, NOBODY)  # approved for nothing
    await add_organisation(api, OWNER_LI)
    await add_organisation(api, AGGREGATOR, purposes=("aggregator",))
    response = await api.request(OWNER, "POST", f"{API}/models", json=model_part(document))
    model_id = str(response.json()["modelId"])
    passport = await api.issue(variant(document, "ZQ-PERM-0001"))
    rival = await api.issue(variant(document, "ZQ-PERM-0002"), role=OTHER)
    later = rfc3339(clock.now + dt.timedelta(days=30))

    def grant_body(grantee: str, kind: str = "passport", value: str = passport, purpose: str = "repairer",
                   expires: str = later) -> dict[str, Any]:
        return {"grantee": grantee, "scope": {"kind": kind, "id": value}, "purpose": purpose, "expiresAt": expires}

    # Purposes: an organisation asks for its own; only an administrator decides.
    problem(await api.request(BY_PASSPORT, "POST", f"{API}/orgs/{NOBODY}/purposes", json={"purpose": "recycler"}),
            403)
    problem(await api.request(ANONYMOUS, "POST", f"{API}/orgs/{NOBODY}/purposes", json={"purpose": "recycler"}),
            401)
    asked = await api.request(NOBODY, "POST", f"{API}/orgs/{NOBODY}/purposes", json={"purpose": "recycler"})
    assert asked.status_code == 202, asked.text
    for caller in (NOBODY, OWNER, AUTHORITY, LEGITIMATE):
        problem(await api.request(caller, "POST", f"{API}/orgs/{NOBODY}/purposes/recycler/approve"), 403)
    problem(await api.request(ANONYMOUS, "POST", f"{API}/orgs/{NOBODY}/purposes/recycler/approve"), 401)
    problem(await api.request(ADMIN, "POST", f"{API}/orgs/nosuchorg/purposes/recycler/approve"), 404)
    problem(await api.request(ADMIN, "POST", f"{API}/orgs/{NOBODY}/purposes/spying/approve"), 422)
    problem(await api.request(NOBODY, "POST", f"{API}/orgs/{NOBODY}/purposes", json={"purpose": "spying"}), 422)
    listed = await api.request(NOBODY, "GET", f"{API}/orgs/{NOBODY}/purposes")
    assert listed.json() == [{"organisation": NOBODY, "purpose": "recycler", "status": "requested",
                              "requestedAt": rfc3339(clock.now), "decidedAt": None}]
    problem(await api.request(OWNER, "GET", f"{API}/orgs/{NOBODY}/purposes"), 403)

    # A grant to an organisation not approved for the purpose: 409, whoever the purpose.
    problem(await api.request(OWNER, "POST", f"{API}/grants", json=grant_body(NOBODY)), 409)
    problem(await api.request(OWNER, "POST", f"{API}/grants", json=grant_body(BY_PASSPORT, purpose="recycler")), 409)
    # Only the responsible operator grants: not another maker, not a grantee, not an authority or admin.
    for kind, value in (("passport", passport), ("model", model_id), ("manufacturer", OWNER_ORG)):
        problem(await api.request(OTHER, "POST", f"{API}/grants", json=grant_body(BY_PASSPORT, kind, value)), 403)
        problem(await api.request(LEGITIMATE, "POST", f"{API}/grants", json=grant_body(BY_PASSPORT, kind, value)),
                403)
    for caller, status in ((AUTHORITY, 403), (ADMIN, 403), (ANONYMOUS, 401)):
        problem(await api.request(caller, "POST", f"{API}/grants", json=grant_body(BY_PASSPORT)), status)
    # An owner delegates its battery to an aggregator, and nothing else.
    owner = await api.request(OWNER, "PUT", f"{API}/passports/{passport}/owner", json={"owner": OWNER_LI})
    assert owner.status_code == 200, owner.text
    problem(await api.request(OWNER_LI, "POST", f"{API}/grants", json=grant_body(BY_PASSPORT)), 403)
    problem(await api.request(OWNER_LI, "POST", f"{API}/grants",
                              json=grant_body(AGGREGATOR, "model", model_id, "aggregator")), 403)
    problem(await api.request(OWNER_LI, "POST", f"{API}/grants",
                              json=grant_body(AGGREGATOR, "passport", rival, "aggregator")), 403)
    # Expiry: in the future, at most five years ahead, with a time zone.
    five_years = clock.now.replace(year=clock.now.year + 5)
    for expires in (rfc3339(five_years + dt.timedelta(seconds=1)), rfc3339(five_years + dt.timedelta(days=3)),
                    rfc3339(clock.now), rfc3339(clock.now - dt.timedelta(days=1)), "2027-01-01T00:00:00"):
        body = problem(await api.request(OWNER, "POST", f"{API}/grants", json=grant_body(BY_PASSPORT,
                                                                                         expires=expires)), 400)
        assert "expiresAt" in body["detail"]
    for wrong in ({"kind": "battery", "id": passport}, {"kind": "passport", "id": ""}):
        problem(await api.request(OWNER, "POST", f"{API}/grants", json={**grant_body(BY_PASSPORT), "scope": wrong}),
                422)
    problem(await api.request(OWNER, "POST", f"{API}/grants", json={**grant_body(BY_PASSPORT), "extra": 1}), 422)
    problem(await api.request(OWNER, "POST", f"{API}/grants", json={**grant_body(BY_PASSPORT), "grantee": "X!"}), 422)
    problem(await api.request(OWNER, "POST", f"{API}/grants", json=grant_body("nosuchorg")), 404)
    problem(await api.request(OWNER, "POST", f"{API}/grants", json=grant_body(BY_PASSPORT, "model", "nosuchmodel")),
            404)
    problem(await api.request(OWNER, "POST", f"{API}/grants",
                              json=grant_body(BY_PASSPORT, value="01934b6e-7c1a-7d2e-9a41-3f5b8c2d1eff")), 404)
    problem(await api.request(OWNER, "POST", f"{API}/grants",
                              json=grant_body(BY_PASSPORT, "manufacturer", "nosuchorg")), 404)
    at_most = await api.request(OWNER, "POST", f"{API}/grants", json=grant_body(BY_PASSPORT,
                                                                                expires=rfc3339(five_years)))
    assert at_most.status_code == 201, at_most.text
    assert await view_read(api, BY_PASSPORT, passport) == "legitimate_interest"

    # Revocation: by the grantor or an administrator.
    grant_id = at_most.json()["id"]
    for caller, status in ((OTHER, 403), (BY_PASSPORT, 403), (AUTHORITY, 403), (ANONYMOUS, 401)):
        problem(await api.request(caller, "DELETE", f"{API}/grants/{grant_id}"), status)
    problem(await api.request(OWNER, "DELETE", f"{API}/grants/nosuchgrant"), 404)
    assert (await api.request(ADMIN, "DELETE", f"{API}/grants/{grant_id}")).status_code == 204
    problem(await api.request(OWNER, "DELETE", f"{API}/grants/{grant_id}"), 404)  # no longer active
    assert await view_read(api, BY_PASSPORT, passport) == "public"

    # Access requests: asked for an approved purpose; decided by the responsible operator only.
    def request_body(kind: str = "passport", value: str = passport, purpose: str = "repairer",
                     why: str = "we repair this pack") -> dict[str, Any]:
        return {"scope": {"kind": kind, "id": value}, "purpose": purpose, "justification": why}

    problem(await api.request(NOBODY, "POST", f"{API}/access-requests", json=request_body(purpose="recycler")), 409)
    problem(await api.request(BY_PASSPORT, "POST", f"{API}/access-requests", json=request_body(why="   ")), 400)
    problem(await api.request(BY_PASSPORT, "POST", f"{API}/access-requests", json=request_body(why="")), 422)
    problem(await api.request(BY_PASSPORT, "POST", f"{API}/access-requests", json=request_body("model", "nope")), 404)
    for caller, status in ((AUTHORITY, 403), (ADMIN, 403), (ANONYMOUS, 401)):
        problem(await api.request(caller, "POST", f"{API}/access-requests", json=request_body()), status)
    made = await api.request(BY_PASSPORT, "POST", f"{API}/access-requests", json=request_body())
    assert made.status_code == 201, made.text
    assert (made.json()["approver"], made.json()["status"]) == (OWNER_ORG, "pending")
    request_id = made.json()["id"]
    approve = f"{API}/access-requests/{request_id}/approve"
    for caller, status in ((OTHER, 403), (BY_PASSPORT, 403), (LEGITIMATE, 403), (AUTHORITY, 403), (ADMIN, 403),
                           (ANONYMOUS, 401)):
        problem(await api.request(caller, "POST", approve, json={"expiresAt": later}), status)
        problem(await api.request(caller, "POST", f"{API}/access-requests/{request_id}/refuse", json={}), status)
    problem(await api.request(OWNER, "POST", approve, json={}), 422)
    problem(await api.request(OWNER, "POST", approve, json={"expiresAt": rfc3339(five_years + dt.timedelta(days=2))}),
            400)
    problem(await api.request(OWNER, "POST", f"{API}/access-requests/nosuchrequest/approve",
                              json={"expiresAt": later}), 404)
    assert await view_read(api, BY_PASSPORT, passport) == "public"  # nothing was granted by the failures
    approved = await api.request(OWNER, "POST", approve, json={"expiresAt": later})
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved" and approved.json()["grantId"]
    assert await view_read(api, BY_PASSPORT, passport) == "legitimate_interest"
    received = (await api.request(BY_PASSPORT, "GET", f"{API}/grants?as=grantee")).json()["received"]
    assert [(g["id"], g["requestId"], g["active"]) for g in received if g["active"]] == [
        (approved.json()["grantId"], request_id, True)]
    problem(await api.request(OWNER, "POST", approve, json={"expiresAt": later}), 409)
    problem(await api.request(OWNER, "POST", f"{API}/access-requests/{request_id}/refuse", json={}), 409)

    refused_request = await api.request(BY_PASSPORT, "POST", f"{API}/access-requests",
                                        json=request_body("manufacturer", OTHER_ORG))
    assert refused_request.json()["approver"] == OTHER_ORG
    problem(await api.request(OWNER, "POST", f"{API}/access-requests/{refused_request.json()['id']}/refuse",
                              json={"reason": "not mine"}), 403)
    refused = await api.request(OTHER, "POST", f"{API}/access-requests/{refused_request.json()['id']}/refuse",
                                json={"reason": "no contract"})
    assert refused.status_code == 200, refused.text
    assert (refused.json()["status"], refused.json()["grantId"], refused.json()["reason"]) == (
        "refused", None, "no contract")
    assert await view_read(api, BY_PASSPORT, rival) == "public"
    lists = (await api.request(OTHER, "GET", f"{API}/access-requests?status=refused")).json()
    assert [r["id"] for r in lists["toDecide"]] == [refused_request.json()["id"]]

    # Owners: registered by the responsible operator or the holder, never by another.
    for caller, status in ((OTHER, 403), (BY_PASSPORT, 403), (LEGITIMATE, 403), (AUTHORITY, 403),
                           (ANONYMOUS, 401)):
        problem(await api.request(caller, "PUT", f"{API}/passports/{passport}/owner", json={"owner": NOBODY}), status)
    problem(await api.request(OWNER, "PUT", f"{API}/passports/{passport}/owner", json={"owner": "nosuchorg"}), 404)

    # The logs: the access log for makers and authorities, the audit log for authorities and administrators.
    for caller, status in ((BY_PASSPORT, 403), (ADMIN, 403), (ANONYMOUS, 401)):
        problem(await api.request(caller, "GET", f"{API}/access-log"), status)
    for caller, status in ((OWNER, 403), (BY_PASSPORT, 403), (ANONYMOUS, 401)):
        problem(await api.request(caller, "GET", f"{API}/audit-log"), status)


async def test_a_withdrawn_purpose_or_a_new_owner_ends_access(api: Api, clock: FakeClock, example: Any) -> None:
    document = every_field_document(example("passport-ev"))
    await add_organisation(api, BY_PASSPORT, purposes=("repairer",))
    await add_organisation(api, OWNER_LI)
    await add_organisation(api, AGGREGATOR, purposes=("aggregator",))
    await add_organisation(api, NOBODY)
    passport = await api.issue(variant(document, "ZQ-LATER-0001"))
    later = clock.now + dt.timedelta(days=30)
    await give_grant(api, OWNER, BY_PASSPORT, "passport", passport, "repairer", later)
    assert await view_read(api, BY_PASSPORT, passport) == "legitimate_interest"
    # Asking again for an approved purpose keeps it approved (and the access granted for it).
    asked = await api.request(BY_PASSPORT, "POST", f"{API}/orgs/{BY_PASSPORT}/purposes", json={"purpose": "repairer"})
    assert asked.json()["status"] == "approved"
    assert await view_read(api, BY_PASSPORT, passport) == "legitimate_interest"

    # Someone who may not grant learns nothing of the grantee's purposes: 403 before 409.
    refused = await api.request(OTHER, "POST", f"{API}/grants", json={
        "grantee": NOBODY, "scope": {"kind": "passport", "id": passport}, "purpose": "recycler",
        "expiresAt": rfc3339(later)})
    problem(refused, 403)

    # The administrator withdraws the purpose: the grant for it no longer gives access, anywhere.
    withdrawn = await api.request(ADMIN, "POST", f"{API}/orgs/{BY_PASSPORT}/purposes/repairer/refuse")
    assert withdrawn.status_code == 200, withdrawn.text
    assert await view_read(api, BY_PASSPORT, passport) == "public"
    assert (await api.request(BY_PASSPORT, "GET", f"{API}/inventory")).json()["passports"] == 0
    status = await api.request(BY_PASSPORT, "GET", f"{API}/passports?status=original")
    assert status.json()["items"] == []
    again = await api.request(ADMIN, "POST", f"{API}/orgs/{BY_PASSPORT}/purposes/repairer/approve")
    assert again.status_code == 200
    assert await view_read(api, BY_PASSPORT, passport) == "legitimate_interest"  # the grant had not expired

    # A new owner: the former one reads the public view, and what it delegated to an aggregator ends with it.
    owner = await api.request(OWNER, "PUT", f"{API}/passports/{passport}/owner", json={"owner": OWNER_LI})
    assert owner.status_code == 200
    delegated = await give_grant(api, OWNER_LI, AGGREGATOR, "passport", passport, "aggregator", later)
    assert await view_read(api, AGGREGATOR, passport) == "legitimate_interest"
    assert await view_read(api, OWNER_LI, passport) == "legitimate_interest"
    sold = await api.request(OWNER, "PUT", f"{API}/passports/{passport}/owner", json={"owner": NOBODY})
    assert sold.status_code == 200
    assert await view_read(api, OWNER_LI, passport) == "public"
    assert await view_read(api, AGGREGATOR, passport) == "public"
    assert await view_read(api, NOBODY, passport) == "legitimate_interest"
    assert await view_read(api, BY_PASSPORT, passport) == "legitimate_interest"  # the maker's grant stays
    audit = (await api.request(ADMIN, "GET", f"{API}/audit-log?subject=grant:{delegated}")).json()["entries"]
    assert [e["action"] for e in audit] == ["grant.revoked", "grant.created"]
    assert audit[0]["actor"] == OWNER_ORG and audit[0]["details"]["reason"] == "the battery's owner changed"
