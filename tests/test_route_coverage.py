"""Must show 3 of issue 11, no leaks: every GET route of the app is covered by a leak test.

Each GET route (the API's, the resolver's and the console's, with or without an OpenAPI entry) is in exactly one of
two lists:

- :data:`COVERED`: routes that return passport data beyond the public view to some role, covered by the access
  matrix (tests/test_api_access_matrix.py) or by the scoped-access tests (tests/test_access_grants.py). Each entry
  names the test; this test checks that the test exists in that module and that the module requests the route.
- :data:`CHECKED_HERE`: routes that return no passport data, or only the public view (the resolver alias, QR codes,
  labels, DID documents, organisation and access administration, logs, the console's own pages, reports not
  covered elsewhere). This test is their leak test: for a passport with every field filled (each non-public value
  a distinctive sentinel), custody transferred and a recycled twin with recovered masses, every role (anonymous,
  the maker, another maker, a recycler with a grant, an authority, an administrator; the console's routes in a
  session of each) requests each of them, and no response holds a value outside the role's view.

A new GET route fails the first test until it is put in one list or the other."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest

from passport.access import View
from passport.service.sessions import sign_in
from tests.api_fixtures import (
    ANONYMOUS,
    AUTHORITY,
    LINK_FIELDS,
    OWNER,
    OWNER_ORG,
    RECYCLED,
    ROLE_VIEW,
    ROLES,
    TRANSFER,
    Api,
    Secrets,
    every_field_document,
    record_custody,
)
from tests.test_malformed_corpus import routes

pytestmark = pytest.mark.anyio
TESTS = Path(__file__).resolve().parent
MATRIX, GRANTS = "test_api_access_matrix.py", "test_access_grants.py"
READS = (MATRIX, "test_reads_show_exactly_the_role_view")
WRITES = (MATRIX, "test_writes_models_imports_and_jobs")
SCOPES = (GRANTS, "test_each_kind_of_access_shows_exactly_its_scope_until_expiry_or_revocation")
AGGREGATES = (GRANTS, "test_aggregates_count_only_the_passports_granted")

# route -> (module, test, a piece of the route's URL the module must hold)
COVERED: dict[str, tuple[str, str, str]] = {
    "/01/{path:path}": (*SCOPES, "/01/"),
    "/api/v1/passports": (MATRIX, "test_search_rows_and_csv_are_in_the_role_view", "/passports?"),
    "/api/v1/passports/{passport_id}": (*READS, "/passports/"),
    "/api/v1/passports/{passport_id}/versions": (*READS, "/versions"),
    "/api/v1/passports/{passport_id}/credential": (*READS, "/credential"),
    "/api/v1/models": (*WRITES, '"models"'),
    "/api/v1/models/{model_id}": (*WRITES, "/models/"),
    "/api/v1/jobs/{job_id}": (*WRITES, "/jobs/"),
    "/api/v1/imports/{import_id}": (*WRITES, "/imports/"),
    "/api/v1/inventory": (*AGGREGATES, "/inventory"),
    "/api/v1/reports/recycled-content": (*AGGREGATES, "/reports/recycled-content"),
    "/console/passports": (*SCOPES, '"/console/passports"'),
    "/console/passports.csv": (*SCOPES, "/console/passports.csv"),
    "/console/passports/{passport_id}": (*SCOPES, "/console/passports/{"),
    "/console/inventory.csv": (*AGGREGATES, "/console/inventory.csv"),
    "/console/reports/recycled-content.csv": (*AGGREGATES, "/console/reports/recycled-content.csv"),
}

# route -> what it shows (and so why this test, not the matrix, is its leak test)
CHECKED_HERE: dict[str, str] = {
    "/openapi.json": "the API description",
    "/docs": "the API description's page",
    "/docs/oauth2-redirect": "Swagger UI's helper page",
    "/healthz": "liveness",
    "/readyz": "readiness",
    "/metrics": "request counters",
    "/schemas/{name}.json": "published JSON Schemas",
    "/orgs/{slug}/did.json": "an organisation's public keys",
    "/.well-known/did.json": "the service's DID document",
    "/.well-known/jwks.json": "public keys",
    "/contexts/battery-passport/v1": "the JSON-LD context",
    "/.well-known/gs1resolver": "the resolver's description",
    "/p/{passport_id}": "the public view (the resolver alias)",
    "/p/{passport_id}/qr.png": "a QR code of the public URL",
    "/p/{passport_id}/qr.svg": "a QR code of the public URL",
    "/api/v1/labels": "printable labels: identity and QR codes",
    "/api/v1/reports/recovery": "recovered masses by material (custody data)",
    "/api/v1/orgs": "organisations",
    "/api/v1/orgs/{slug}": "an organisation",
    "/api/v1/orgs/{slug}/apikeys": "API key metadata",
    "/api/v1/orgs/{slug}/keys": "public signing keys",
    "/api/v1/orgs/{slug}/purposes": "an organisation's purposes",
    "/api/v1/grants": "grants",
    "/api/v1/access-requests": "access requests",
    "/api/v1/access-log": "who read which passport",
    "/api/v1/audit-log": "who wrote what",
    "/console": "a redirect",
    "/console/sign-in": "the sign-in form",
    "/console/inventory": "the inventory page (aggregates)",
    "/console/reports/recycled-content": "the recycled-content page (aggregates)",
    "/console/reports/recovery": "the recovery page (custody data)",
    "/console/reports/recovery.csv": "the recovery download (custody data)",
    "/console/access": "the access page: grants, requests, the access log",
    "/console/access-log.csv": "the access log download",
}


# The recovery reports are the Annex XII Part C reporting of recyclers to authorities: recovered masses per recycler
# and material, the report's very subject, for authorities too (whose view of a single passport has no custody).
RECOVERY_REPORTS = ("/api/v1/reports/recovery", "/console/reports/recovery", "/console/reports/recovery.csv")
REPORTED = frozenset({"/custody/events/-/recoveredMaterials/-/mass", "/custody/events/-/recoveredMaterials/-/material"})


def get_routes(app: Any) -> set[str]:
    return {path for method, path, _ in routes(app) if method == "GET"}


async def test_every_get_route_is_covered_by_a_leak_test(api: Api) -> None:
    found = get_routes(api.client._transport.app)  # type: ignore[attr-defined]
    both = set(COVERED) & set(CHECKED_HERE)
    assert not both, f"listed twice: {sorted(both)}"
    uncovered = sorted(found - set(COVERED) - set(CHECKED_HERE))
    assert not uncovered, f"GET routes no leak test covers (add them to COVERED or CHECKED_HERE): {uncovered}"
    gone = sorted((set(COVERED) | set(CHECKED_HERE)) - found)
    assert not gone, f"listed, but no longer routes of the app: {gone}"


@pytest.mark.parametrize("route", sorted(COVERED))
def test_the_named_leak_test_exists_and_requests_the_route(route: str) -> None:
    module, test, piece = COVERED[route]
    source = (TESTS / module).read_text("utf-8")
    tests = {node.name for node in ast.walk(ast.parse(source))
             if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_")}
    assert test in tests, f"{route}: {module} has no {test}"
    assert piece in source, f"{route}: {module} never requests it (no {piece!r} in its source)"


# --- the leak test of the routes checked here ----------------------------------------------------------------------


async def session_cookie(api: Api, role: str) -> str | None:
    if role == ANONYMOUS:
        return None
    cookie, _ = sign_in(api.context, api.keys[role])
    return cookie


def url_of(route: str, ids: dict[str, str]) -> str:
    url = re.sub(r"\{(\w+)(?::path)?\}", lambda m: ids[m.group(1)], route)
    if route == "/api/v1/labels":
        url += f"?ids={ids['passport_id']}"
    return url


async def test_no_route_checked_here_shows_a_role_more_than_its_view(api: Api, example: Any) -> None:
    document = every_field_document(example("passport-ev"))
    live = await api.issue(document)
    record_custody(api.context, live, OWNER_ORG, TRANSFER)
    twin = dict(document, general={**document["general"], "serialNumber": "ZQ-EVERY-0009"})
    recycled = await api.issue(twin)
    record_custody(api.context, recycled, OWNER_ORG, TRANSFER)
    waste = await api.request(OWNER, "POST", f"/api/v1/passports/{recycled}/events",
                              json={"type": "status-change", "status": "waste"})
    assert waste.status_code == 201, waste.text
    record_custody(api.context, recycled, OWNER_ORG, RECYCLED)
    full = (await api.current(live)).json()["passport"]
    recycled_full = (await api.current(recycled)).json()["passport"]
    secrets = Secrets.of(full, recycled_full, links=False)
    assert secrets.by_view[View.PUBLIC], "the passport has no non-public value to look for"
    ids = {"passport_id": live, "slug": OWNER_ORG, "name": "passport"}
    checked = 0
    for role in ROLES:
        view = ROLE_VIEW[role]
        cookie = await session_cookie(api, role)
        for route in sorted(CHECKED_HERE):
            url = url_of(route, ids)
            headers = {"Accept": "application/json"} if route.startswith("/p/") and "qr" not in route else {}
            if route.startswith("/console"):
                if cookie:
                    headers["Cookie"] = f"passport_session={cookie}"
                response = await api.client.get(url, headers=headers)
            else:
                response = await api.request(role, "GET", url, headers=headers)
            assert response.status_code < 500, f"{role} GET {url}: {response.status_code}"
            body = response.content.decode("utf-8", "replace")
            allowed = LINK_FIELDS + tuple(REPORTED if route in RECOVERY_REPORTS and role == AUTHORITY else ())
            leaked = [(pointer, text) for pointer, text in secrets.leaked(view, body) if pointer not in allowed]
            assert not leaked, f"{role} GET {url}: values outside the {view} view: {leaked[:5]}"
            for other, key in api.keys.items():
                assert key not in body, f"{role} GET {url}: the API key of {other}"
            checked += 1
    assert checked == len(ROLES) * len(CHECKED_HERE)
    # the routes did answer with content for the roles that may read them (not only refusals)
    report = await api.request(OWNER, "GET", "/api/v1/reports/recovery")
    assert report.status_code == 200, report.text
    assert json.dumps(report.json())
