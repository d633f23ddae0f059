"""Must show 1 of the API issue: for each role and each route, the allowed actions (status codes) and the returned
fields; for a passport with every field filled, no value of a field outside the role's audiences appears in any
response to that role: JSON, CSV, search results, version history, credentials (Data Integrity and JWS), model
data, import and job reports, and error bodies."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from passport.access import VIEW_AUDIENCES, View, project, view_contains
from passport.models.introspect import leaves
from passport.models.passport import Passport
from passport.service.apikeys import create_api_key
from passport.service.models import item_part, model_part
from tests.api_fixtures import (
    ADMIN,
    ANONYMOUS,
    AUTHORITY,
    LEGITIMATE,
    LINK_FIELDS,
    NDJSON,
    OTHER,
    OTHER_ORG,
    OWNER,
    OWNER_ORG,
    RECYCLED,
    ROLE_VIEW,
    ROLES,
    TRANSFER,
    Api,
    Secrets,
    assert_complete,
    audience,
    every_field_document,
    fields_outside,
    indistinct,
    jws_payload,
    leaf_values,
    record_custody,
)
from tests.conftest import FakeClock

pytestmark = pytest.mark.anyio
API = "/api/v1"


@dataclass
class World:
    api: Api
    first: str  # A: original, repurposed into B
    every: str  # B: every field filled (a predecessor, a successor, a custody transfer), frozen
    active: str  # C: B's successor, writable
    recycled: str  # R: every field as well, recycled with recovered masses (ceased)
    model_id: str
    model_passport: str
    rival_passport: str
    import_id: str
    job_id: str
    spare_key_id: str
    full: dict[str, Any]
    recycled_full: dict[str, Any]
    secrets: Secrets
    public_credential: bytes
    every_version: int
    acme: set[str] = field(default_factory=set)


def _second_life(document: Mapping[str, Any], serial: str) -> dict[str, Any]:
    successor = json.loads(json.dumps(document))
    successor["general"]["serialNumber"] = serial
    return dict(successor)


async def _repurpose(api: Api, passport_id: str, status: str, document: Mapping[str, Any]) -> str:
    response = await api.request(OWNER, "POST", f"{API}/passports/{passport_id}/repurpose",
                                 json={"status": status, "passport": document})
    assert response.status_code == 201, response.text
    return str(response.json()["successor"]["passportId"]).removeprefix("urn:uuid:")


@pytest.fixture
async def world(api: Api, example: Any) -> World:
    """A (original) -> B (repurposed, every field) -> C (remanufactured); a battery model and a passport issued
    from it, corrected by a re-issue job; an import; a passport of another manufacturer."""
    document = every_field_document(example("passport-ev"))
    first = await api.issue(document)
    every = await _repurpose(api, first, "repurposed", _second_life(document, "ZQ-EVERY-0002"))
    record_custody(api.context, every, OWNER_ORG, TRANSFER)
    active = await _repurpose(api, every, "remanufactured", _second_life(document, "ZQ-EVERY-0003"))
    original = await api.issue(_second_life(document, "ZQ-EVERY-0006"))
    recycled = await _repurpose(api, original, "re-used", _second_life(document, "ZQ-EVERY-0005"))
    record_custody(api.context, recycled, OWNER_ORG, TRANSFER)
    waste = await api.request(OWNER, "POST", f"{API}/passports/{recycled}/events",
                              json={"type": "status-change", "status": "waste"})
    assert waste.status_code == 201, waste.text
    record_custody(api.context, recycled, OWNER_ORG, RECYCLED)

    current = (await api.current(every)).json()
    full = current["passport"]
    recycled_full = (await api.current(recycled)).json()["passport"]
    # Every leaf of the model has a value: B holds all but the recovered masses, which only a recycled (ceased)
    # passport has, and a ceased passport is never succeeded.
    assert_complete(full, except_pointers=RECOVERY)
    assert_complete(recycled_full, except_pointers=LINKS)
    secrets = Secrets.of(full, recycled_full)
    for view in View:  # every non-public value is findable by its text, except enumerations and the like
        hidden = {p for doc in (full, recycled_full) for p, _ in leaf_values(doc)
                  if audience(p) not in VIEW_AUDIENCES[view]}
        assert not {p for p in hidden - {p for p, _ in secrets.by_view[view]} if not indistinct(p)}

    response = await api.request(OWNER, "POST", f"{API}/models", json=model_part(document))
    assert response.status_code == 201, response.text
    model_id = response.json()["modelId"]
    item = item_part(document)
    item["general"]["serialNumber"] = "ZQ-EVERY-0004"
    model_passport = await api.issue(item, model_id=model_id)
    response = await api.request(OWNER, "PUT", f"{API}/models/{model_id}", json=model_part(document),
                                 headers={"If-Match": response.headers["etag"]})
    assert response.status_code == 202, response.text
    job_id = response.json()["job"]["jobId"]

    event = {"passportId": model_passport, "event": {"type": "state-of-health",
                                                     "condition": {"stateOfCharge": {
                                                         "value": 57.1193, "lastUpdate": "2026-11-01T07:41:23Z"}}}}
    response = await api.request(OWNER, "POST", f"{API}/imports", content=json.dumps(event) + "\n",
                                 headers={"Content-Type": NDJSON, "Idempotency-Key": "world"})
    assert response.status_code == 200, response.text
    assert response.json()["succeeded"] == 1
    import_id = response.json()["importId"]

    rival_passport = await api.issue(example("passport-lmt"), role=OTHER)
    spare, _ = create_api_key(api.context, OWNER_ORG, "legitimate_interest", label="spare")
    credential = await api.request(ANONYMOUS, "GET", f"{API}/passports/{every}/credential")
    return World(api, first, every, active, recycled, model_id, model_passport, rival_passport, import_id, job_id,
                 spare.key_id, full, recycled_full, secrets, credential.content, current["version"],
                 {first, every, active, recycled, original, model_passport})


# --- the routes, with the status each role gets ------------------------------------------------------------------

ALL = dict.fromkeys(ROLES, 200)
GONE_TO_THE_PUBLIC = {role: 410 if ROLE_VIEW[role] is View.PUBLIC else 200 for role in ROLES}
RECOVERY = ("/custody/events/-/recoveredMaterials/-/material", "/custody/events/-/recoveredMaterials/-/mass")
LINKS = ("/general/successorPassports/-",)
ROLE_ORG = {OWNER: OWNER_ORG, OTHER: OTHER_ORG}
SHOWN_ID = re.compile(r'"passportId": ?"(urn:uuid:[0-9a-f-]{36})"')
CSV_ID = re.compile(r"^(urn:uuid:[0-9a-f-]{36}),", re.MULTILINE)


def only(allowed: Mapping[str, int], denied: int = 403, anonymous: int = 401) -> dict[str, int]:
    """Statuses: ``allowed`` for the roles named, 401 for anonymous callers, ``denied`` for the others."""
    return {role: allowed.get(role, anonymous if role == ANONYMOUS else denied) for role in ROLES}


@dataclass(frozen=True)
class Call:
    label: str
    method: str
    url: str
    expected: Mapping[str, int]
    kwargs: Mapping[str, Any] = field(default_factory=dict)


def read_calls(w: World) -> list[Call]:
    p = f"{API}/passports/{w.every}"
    versions = w.every_version  # B: 1 issued by the first repurpose, 2 the transfer, 3 frozen by the second
    calls = [
        Call("get", "GET", p, ALL),
        Call("versions", "GET", f"{p}/versions", ALL),
        Call("credential jwt", "GET", f"{p}/credential?format=jwt", ALL),
        Call("get first", "GET", f"{API}/passports/{w.first}", ALL),
        Call("get model passport", "GET", f"{API}/passports/{w.model_passport}", ALL),
        Call("get recycled", "GET", f"{API}/passports/{w.recycled}", GONE_TO_THE_PUBLIC),
        Call("versions recycled", "GET", f"{API}/passports/{w.recycled}/versions", GONE_TO_THE_PUBLIC),
        Call("credential recycled", "GET", f"{API}/passports/{w.recycled}/credential", GONE_TO_THE_PUBLIC),
        Call("credential recycled jwt", "GET", f"{API}/passports/{w.recycled}/credential?format=jwt",
             GONE_TO_THE_PUBLIC),
        Call("get recycled v1", "GET", f"{API}/passports/{w.recycled}?version=1", GONE_TO_THE_PUBLIC),
    ]
    for number in range(1, versions + 1):
        calls.append(Call(f"get v{number}", "GET", f"{p}?version={number}", ALL))
        for view in View:
            allowed = {role: 200 if view_contains(ROLE_VIEW[role], view) else 403 for role in ROLES}
            calls.append(Call(f"credential v{number} {view}", "GET",
                              f"{p}/credential?view={view.value}&version={number}", allowed))
    for view in View:
        allowed = {role: 200 if view_contains(ROLE_VIEW[role], view) else 403 for role in ROLES}
        calls.append(Call(f"credential {view}", "GET", f"{p}/credential?view={view.value}", allowed))
    return calls


def search_calls(w: World) -> list[Call]:
    s = f"{API}/passports"
    serial = w.full["general"]["serialNumber"]
    calls = [Call(f"search {query or 'all'}", "GET", f"{s}?{query}", ALL) for query in (
        "", f"serial={serial}", f"gtin={w.full['general']['gtin']}", "category=ev", "chemistry=NMC",
        f"manufacturer={OWNER_ORG}", f"model={w.model_id}", "updatedSince=2026-01-01T00:00:00Z", "limit=1")]
    calls += [Call(f"csv {query or 'all'}", "GET", f"{s}?{query}", ALL, {"headers": {"Accept": "text/csv"}})
              for query in ("", f"serial={serial}", f"manufacturer={OWNER_ORG}")]
    # Makers and legitimate-interest organisations may filter by status; the search then keeps to the passports
    # they may see beyond the public view (responsible, custody, grants, ownership): issue 8.
    status_readers = {LEGITIMATE: 200, OWNER: 200, OTHER: 200}
    calls += [
        Call("search by status", "GET", f"{s}?status=remanufactured", only(status_readers, anonymous=403)),
        Call("search by status, own", "GET", f"{s}?status=remanufactured&manufacturer={OWNER_ORG}",
             only({**status_readers, OWNER: 200}, anonymous=403)),
        Call("search by status, rival's", "GET", f"{s}?status=original&manufacturer={OTHER_ORG}",
             only({**status_readers, OTHER: 200}, anonymous=403)),
        Call("csv by status", "GET", f"{s}?status=remanufactured", only(status_readers, anonymous=403),
             {"headers": {"Accept": "text/csv"}}),
    ]
    return calls


def write_calls(w: World, example_lmt: Mapping[str, Any], example_industrial: Mapping[str, Any]) -> list[Call]:
    p, c = f"{API}/passports/{w.every}", f"{API}/passports/{w.active}"
    soh = {"type": "state-of-health", "condition": {"stateOfCharge": {"value": 12.5,
                                                                      "lastUpdate": "2026-11-20T10:00:00Z"}}}
    makers = {OWNER: 201, OTHER: 201}
    lines = "\n".join(json.dumps(line) for line in (
        {"passportId": w.every, "event": soh}, {"passportId": w.active, "event": soh},
        {"gtin": w.full["general"]["gtin"], "serialNumber": "ZQ-EVERY-0003", "event": soh})) + "\n"
    return [
        Call("issue", "POST", f"{API}/passports", only(makers), {"json": example_industrial}),
        # the legitimate-interest organisation holds this battery: holders may record events, but it is frozen
        Call("events on frozen", "POST", f"{p}/events", only({OWNER: 409, LEGITIMATE: 409}), {"json": soh}),
        Call("events", "POST", f"{c}/events", only({OWNER: 201}), {"json": soh}),
        Call("patch frozen", "PATCH", p, only({OWNER: 409}),
             {"json": {"general": {"modelName": "x"}}, "headers": {"If-Match": "*"}}),
        Call("patch", "PATCH", c, only({OWNER: 200}),
             {"json": {"general": {"modelName": "x"}}, "headers": {"If-Match": "*"}}),
        Call("repurpose frozen", "POST", f"{p}/repurpose", only({OWNER: 409}),
             {"json": {"status": "re-used", "passport": {**w.full, "passportId": None}}}),
        Call("import", "POST", f"{API}/imports", only({OWNER: 200, OTHER: 200}),
             {"content": lines, "headers": {"Content-Type": NDJSON, "Idempotency-Key": "matrix"}}),
        Call("import report", "GET", f"{API}/imports/{w.import_id}", only({OWNER: 200}, denied=403) | {OTHER: 404}),
        Call("models", "GET", f"{API}/models", ALL),
        Call("model", "GET", f"{API}/models/{w.model_id}", ALL),
        Call("register model", "POST", f"{API}/models", only(makers), {"json": model_part(example_lmt)}),
        Call("correct model", "PUT", f"{API}/models/{w.model_id}", only({OWNER: 202}),
             {"json": model_part(w.full), "headers": {"If-Match": "*"}}),
        Call("job", "GET", f"{API}/jobs/{w.job_id}", only({OWNER: 200, ADMIN: 200}) | {OTHER: 404}),
        Call("verify", "POST", f"{API}/verify", ALL,
             {"content": w.public_credential, "headers": {"Content-Type": "application/json"}}),
    ]


def admin_calls(w: World) -> list[Call]:
    admin = {ADMIN: 200}
    return [
        Call("orgs", "GET", f"{API}/orgs", only(admin)),
        Call("create org", "POST", f"{API}/orgs", only({ADMIN: 201}), {"json": {"slug": "newco", "name": "New"}}),
        Call("own org", "GET", f"{API}/orgs/{OWNER_ORG}", only({ADMIN: 200, OWNER: 200})),
        Call("api keys", "GET", f"{API}/orgs/{OWNER_ORG}/apikeys", only(admin)),
        Call("create api key", "POST", f"{API}/orgs/{OWNER_ORG}/apikeys", only({ADMIN: 201}),
             {"json": {"role": "authority", "label": "made by the matrix"}}),
        Call("revoke api key", "DELETE", f"{API}/apikeys/{w.spare_key_id}", only({ADMIN: 204})),
        Call("signing keys", "GET", f"{API}/orgs/{OWNER_ORG}/keys", only({ADMIN: 200, OWNER: 200})),
        Call("rotate", "POST", f"{API}/orgs/{OWNER_ORG}/keys/rotate", only({ADMIN: 201})),
    ]


# --- what a response may contain ---------------------------------------------------------------------------------


def column_leaves(column: str) -> list[str]:
    prefix = "/" + column.replace(".", "/")
    return [node.pointer for node in leaves(Passport) if node.pointer == prefix or
            node.pointer.startswith(prefix + "/")]


def check_csv(text: str, role: str, w: World) -> None:
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    assert header[:4] == ["passportId", "version", "view", "modelId"]
    if role not in (OWNER, OTHER):  # a manufacturer's header covers its own passports' full view
        assert not [c for c in header[4:] if any(audience(p) not in VIEW_AUDIENCES[ROLE_VIEW[role]]
                                                  for p in column_leaves(c))]
    for row in body:
        view = View(row[2])
        if row[0].removeprefix("urn:uuid:") in w.acme:
            assert view is ROLE_VIEW[role], row[:4]
        for column, cell in zip(header[4:], row[4:], strict=True):
            if cell:
                outside = [p for p in column_leaves(column) if audience(p) not in VIEW_AUDIENCES[view]]
                assert not outside, f"{column} of a {view} row holds {cell!r}"


def check_json(value: Any, role: str, w: World) -> None:
    """Every passport and model document inside ``value`` holds only fields of the view the role has of it: the
    role's view for the owner's data, the full view for a manufacturer's own."""
    for document, owner in documents_in(value, w.acme):
        view = View.FULL if (role in (OWNER, OTHER) and owner == ROLE_ORG[role]) else ROLE_VIEW[role]
        outside = fields_outside(document, view)
        assert not outside, f"fields outside the {view} view: {outside}"


def documents_in(value: Any, acme: set[str]) -> list[tuple[Mapping[str, Any], str]]:
    """(document, organisation responsible for it) of every passport and battery model in a JSON response; a
    passport not among the owner's (``acme``) is the other manufacturer's."""
    found: list[tuple[Mapping[str, Any], str]] = []
    if isinstance(value, Mapping):
        passport, model = value.get("passport"), value.get("model")
        if isinstance(passport, Mapping):
            identifier = str(value.get("passportId") or passport.get("passportId") or "")
            found.append((passport, OWNER_ORG if identifier.removeprefix("urn:uuid:") in acme else OTHER_ORG))
        if isinstance(model, Mapping) and "organisation" in value:
            found.append((model, str(value["organisation"])))
        for key, item in value.items():
            if key not in ("passport", "model"):
                found += documents_in(item, acme)
    elif isinstance(value, list):
        for item in value:
            found += documents_in(item, acme)
    return found


def check_body(response: httpx.Response, role: str, w: World, label: str) -> None:
    body = response.text
    kind = response.headers.get("content-type", "")
    if kind.startswith("application/vc+jwt"):
        body = jws_payload(body)
        check_json(json.loads(body)["credentialSubject"], role, w)
    elif kind.startswith("text/csv"):
        check_csv(body, role, w)
    elif body and ("json" in kind or kind.startswith("application/vc")):
        check_json(response.json(), role, w)
    # A second-life link names another passport, whose own id is public where that passport itself is shown.
    shown = set(SHOWN_ID.findall(body)) | set(CSV_ID.findall(body))
    leaked = [(pointer, text) for pointer, text in w.secrets.leaked(ROLE_VIEW[role], body)
              if not (pointer in LINK_FIELDS and text in shown)]
    assert not leaked, f"{label}: {role} received values outside its view: {leaked[:5]}"
    for other_role, key in w.api.keys.items():
        assert key not in body, f"{label}: the API key of {other_role} appears in a response"


async def walk(w: World, role: str, calls: list[Call]) -> dict[str, httpx.Response]:
    seen: dict[str, httpx.Response] = {}
    for call in calls:
        response = await w.api.request(role, call.method, call.url, **call.kwargs)
        expected = call.expected[role]
        assert response.status_code == expected, f"{call.label} as {role}: {response.status_code} {response.text}"
        if expected >= 400:
            assert response.headers["content-type"] == "application/problem+json", call.label
        check_body(response, role, w, call.label)
        seen[call.label] = response
    return seen


@pytest.mark.parametrize("role", ROLES)
async def test_reads_show_exactly_the_role_view(world: World, role: str) -> None:
    responses = await walk(world, role, read_calls(world))
    view = ROLE_VIEW[role]
    envelope = responses["get"].json()
    assert envelope["view"] == view.value
    assert envelope["passport"] == project(world.full, view)  # every field of the view, and nothing else
    assert responses["get"].headers["etag"] == f'"v3-{view.value}"'  # repurposed, transferred, frozen
    listed = responses["versions"].json()["versions"]
    assert [v["version"] for v in listed] == [1, 2, 3]
    assert all((v["fullViewHash"] is not None) == (view is View.FULL) for v in listed)
    subject = json.loads(jws_payload(responses["credential jwt"].text))["credentialSubject"]
    assert subject["view"] == view.value
    assert subject["passport"] == project(world.full, view)
    for number in (1, 2, 3):
        credential = responses[f"credential v{number} {View.PUBLIC}"].json()
        assert credential["credentialSubject"]["version"] == number
    if view is not View.PUBLIC:
        assert responses["get recycled"].json()["passport"] == project(world.recycled_full, view)


@pytest.mark.parametrize("role", ROLES)
async def test_search_rows_and_csv_are_in_the_role_view(world: World, role: str) -> None:
    responses = await walk(world, role, search_calls(world))
    view = ROLE_VIEW[role]
    rows = responses[f"search serial={world.full['general']['serialNumber']}"].json()["items"]
    assert [row["passportId"] for row in rows] == [f"urn:uuid:{world.every}"]
    assert rows[0]["view"] == view.value
    assert rows[0]["passport"] == project(world.full, view)
    everything = responses["search all"].json()["items"]
    assert {row["passportId"].removeprefix("urn:uuid:") for row in everything} >= world.acme - {world.recycled}
    if role == LEGITIMATE:
        found = {row["passportId"].removeprefix("urn:uuid:") for row in responses["search by status"].json()["items"]}
        assert found == {world.every, world.active}
    csv_rows = list(csv.reader(io.StringIO(responses["csv all"].text)))
    assert len(csv_rows) == 1 + len(everything)
    paged = responses["search limit=1"]
    assert len(paged.json()["items"]) == 1
    assert paged.json()["next_cursor"]
    assert 'rel="next"' in paged.headers["link"]


@pytest.mark.parametrize("role", ROLES)
async def test_writes_models_imports_and_jobs(world: World, role: str, example: Any) -> None:
    responses = await walk(world, role, write_calls(world, example("passport-lmt"), example("passport-industrial")))
    model = responses["model"].json()["model"]
    view = View.FULL if role == OWNER else ROLE_VIEW[role]
    assert model == project(model_part(world.full), view)  # model data is passport data: the same audiences
    if role == OTHER:  # its import's lines about another maker's passports fail alone, without echoing data
        report = responses["import"].json()
        assert [r.get("problem", {}).get("status") for r in report["results"]] == [403, 403, 403]
    if role == OWNER:
        report = responses["import"].json()
        assert [r.get("problem", {}).get("status") for r in report["results"]] == [409, None, None]
        job = responses["job"].json()
        assert job["status"] == "done"
        assert job["report"][0]["passportId"] == f"urn:uuid:{world.model_passport}"


@pytest.mark.parametrize("role", ROLES)
async def test_administration(world: World, role: str, clock: FakeClock) -> None:
    clock.advance(seconds=1)  # the rotation retires the key after what it signed
    responses = await walk(world, role, admin_calls(world))
    if role == ADMIN:
        listed = responses["api keys"].json()
        assert listed
        assert all("key" not in item and "keyHash" not in item for item in listed)
        created = responses["create api key"].json()
        assert created["key"].startswith("pp_")
        assert created["role"] == "authority"
        assert {o["slug"] for o in responses["orgs"].json()} >= {OWNER_ORG, OTHER_ORG}
        assert responses["create org"].json()["did"].endswith(":orgs:newco")
    # after a rotation, what was signed before still verifies
    response = await world.api.request(role, "POST", f"{API}/verify", content=world.public_credential,
                                       headers={"Content-Type": "application/json"})
    assert response.status_code == 200, response.text


async def test_fields_outside_a_view_cannot_be_filtered(world: World) -> None:
    """DESIGN §3: a role may filter only by fields its view contains (the status is Annex XIII point 4). Makers and
    legitimate-interest organisations may, but then only over the passports they may see beyond the public view
    (issue 8): a rival's passports never answer a status filter."""
    for role, query, status in [
        (ANONYMOUS, "status=original", 403), (AUTHORITY, "status=original", 403), (ADMIN, "status=waste", 403),
        (OWNER, "status=original", 200), (OWNER, f"status=original&manufacturer={OWNER_ORG}", 200),
        (LEGITIMATE, "status=original", 200),
    ]:
        response = await world.api.request(role, "GET", f"{API}/passports?{query}")
        assert response.status_code == status, (role, query, response.text)
        if status == 403:
            assert response.json()["type"] == "/problems/forbidden"
    for role, query in [(OWNER, f"status=original&manufacturer={OTHER_ORG}"),
                        (OTHER, f"status=original&manufacturer={OWNER_ORG}")]:
        response = await world.api.request(role, "GET", f"{API}/passports?{query}")
        assert response.status_code == 200, (role, query, response.text)
        assert response.json()["items"] == [], (role, query)
