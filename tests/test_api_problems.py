"""Must show 2 of the API issue: bad input gets a 4xx ``application/problem+json`` answer, never a 500: malformed
JSON, wrong content types, unknown fields, oversized bodies, invalid values, unknown ids, missing, wrong and revoked
API keys, forbidden transitions, missing or stale If-Match, and the public asking for a ceased passport. One test
pins the problem shape."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from passport.service.models import item_part, model_part
from tests.api_fixtures import ADMIN, ANONYMOUS, AUTHORITY, LEGITIMATE, NDJSON, OWNER, PROBLEM_JSON, Api
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.anyio
API = "/api/v1"
MIB = 1024 * 1024
PROBLEM_MEMBERS = {"type", "title", "status", "detail", "instance"}
# Documented extensions (docs/api.md): the list of problems of an invalid document or request, the reason slug
# of a failed verification.
EXTENSIONS = {"problems", "reason"}
SLUG = re.compile(r"^/problems/[a-z0-9]+(-[a-z0-9]+)*$")


def assert_problem(response: httpx.Response, status: int, slug: str | None = None) -> dict[str, Any]:
    """The response is an RFC 9457 problem of ``status`` (and ``slug``), in the pinned shape."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    assert PROBLEM_MEMBERS <= set(body) <= PROBLEM_MEMBERS | EXTENSIONS, body
    assert body["status"] == status
    assert SLUG.match(body["type"]), body["type"]
    assert isinstance(body["title"], str)
    assert body["title"]
    assert isinstance(body["detail"], str)
    assert body["detail"]
    assert body["instance"] == response.request.url.path
    if slug is not None:
        assert body["type"] == f"/problems/{slug}", body
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")
    return body


@pytest.fixture
async def issued(api: Api, example: Any) -> tuple[Api, str]:
    """The API and a passport (EV example) of the owner."""
    return api, await api.issue(example("passport-ev"))


async def test_the_problem_shape_is_pinned(issued: tuple[Api, str]) -> None:
    api, _ = issued
    missing = str(uuid.UUID(int=7))
    response = await api.request(ANONYMOUS, "GET", f"{API}/passports/{missing}")
    body = assert_problem(response, 404, "not-found")
    assert set(body) == PROBLEM_MEMBERS
    assert body == {"type": "/problems/not-found", "title": "Not found", "status": 404,
                    "detail": f"no passport {missing}", "instance": f"{API}/passports/{missing}"}
    invalid = await api.request(OWNER, "POST", f"{API}/passports", json={"general": {}})
    body = assert_problem(invalid, 422, "document-invalid")
    assert body["problems"]
    for problem in body["problems"]:
        assert set(problem) == {"pointer", "message", "severity", "code"}
        assert problem["pointer"] == "" or problem["pointer"].startswith("/")


# --- request bodies ------------------------------------------------------------------------------------------------

def _deep(levels: int) -> bytes:
    return b'{"general": ' + b"[" * levels + b"]" * levels + b"}"


BAD_BODIES: list[tuple[str, bytes, str, int, str]] = [
    ("malformed", b'{"general": ', "application/json", 400, "invalid-input"),
    ("empty", b"", "application/json", 400, "invalid-input"),
    ("not an object", b"[1, 2]", "application/json", 400, "invalid-input"),
    ("not utf-8", b'{"a": "\xff"}', "application/json", 400, "invalid-input"),
    ("duplicate keys", b'{"general": {}, "general": {}}', "application/json", 400, "invalid-input"),
    ("NaN", b'{"general": {"batteryMass": NaN}}', "application/json", 400, "invalid-input"),
    ("Infinity", b'{"general": {"batteryMass": -Infinity}}', "application/json", 400, "invalid-input"),
    ("huge integer", b'{"general": {"warrantyPeriod": 123456789012345678901234567890}}', "application/json", 400,
     "invalid-input"),
    ("deep nesting", _deep(40), "application/json", 400, "invalid-input"),
    ("very deep nesting", _deep(100_000), "application/json", 400, "invalid-input"),
    ("text/plain", b"{}", "text/plain", 415, "unsupported-media-type"),
    ("no content type", b"{}", "", 415, "unsupported-media-type"),
    ("form", b"a=b", "application/x-www-form-urlencoded", 415, "unsupported-media-type"),
    ("oversized", b'{"x": "' + b"a" * (MIB + 10) + b'"}', "application/json", 413, "payload-too-large"),
]


@pytest.mark.parametrize(("body", "media", "status", "slug"),
                         [pytest.param(b, m, s, g, id=name) for name, b, m, s, g in BAD_BODIES])
@pytest.mark.parametrize("route", ["issue", "patch", "events", "repurpose", "models", "verify"])
async def test_bad_bodies(issued: tuple[Api, str], route: str, body: bytes, media: str, status: int,
                          slug: str) -> None:
    api, pid = issued
    method, url = {"issue": ("POST", f"{API}/passports"), "patch": ("PATCH", f"{API}/passports/{pid}"),
                   "events": ("POST", f"{API}/passports/{pid}/events"),
                   "repurpose": ("POST", f"{API}/passports/{pid}/repurpose"),
                   "models": ("POST", f"{API}/models"), "verify": ("POST", f"{API}/verify")}[route]
    headers = {"If-Match": '"v1-full"'}
    if media:
        headers["Content-Type"] = media
    response = await api.request(OWNER, method, url, content=body, headers=headers)
    if route == "events" and body == b"[1, 2]":  # an event is validated as a whole: a list is no event
        status, slug = 422, "document-invalid"
    assert_problem(response, status, slug)


async def test_oversized_streamed_body_without_length(api: Api) -> None:
    """The limit holds while the body streams in, with no Content-Length to refuse it by."""

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"x": "'
        for _ in range(20):
            yield b"a" * 65536
        yield b'"}'

    response = await api.request(OWNER, "POST", f"{API}/passports", content=chunks(),
                                 headers={"Content-Type": "application/json"})
    assert "content-length" not in response.request.headers
    assert_problem(response, 413, "payload-too-large")


def _invalid_examples() -> list[Path]:
    return sorted((EXAMPLES / "invalid").glob("*.json"))


@pytest.mark.parametrize("path", _invalid_examples(), ids=lambda p: p.stem)
async def test_invalid_documents_are_422(api: Api, path: Path) -> None:
    """Every documented invalid example (unknown fields, wrong types, out-of-range values, broken rules)."""
    response = await api.request(OWNER, "POST", f"{API}/passports", content=path.read_bytes(),
                                 headers={"Content-Type": "application/json"})
    body = assert_problem(response, 422, "document-invalid")
    assert any(p["severity"] == "error" for p in body["problems"])


async def test_request_validation_is_422(issued: tuple[Api, str]) -> None:
    api, pid = issued
    p = f"{API}/passports/{pid}"
    for url in [f"{p}?version=0", f"{p}?version=abc", f"{p}?version=99999999999", f"{p}/credential?view=secret",
                f"{p}/credential?format=xml", f"{API}/passports?limit=0", f"{API}/passports?limit=1001",
                f"{API}/passports?gtin=abc", f"{API}/passports?category=car",
                f"{API}/passports?updatedSince=yesterday", f"{API}/passports?serial={'x' * 30}"]:
        body = assert_problem(await api.request(LEGITIMATE, "GET", url), 422, "request-invalid")
        assert body["problems"][0]["pointer"].startswith("/query/")
    for url in [f"{API}/passports?cursor=!!!", f"{API}/passports?cursor=abcd",
                f"{API}/passports?updatedSince=2026-11-01T00:00:00"]:
        assert_problem(await api.request(LEGITIMATE, "GET", url), 400, "invalid-input")


async def test_unknown_members_are_refused(issued: tuple[Api, str], example: Any) -> None:
    api, pid = issued
    p = f"{API}/passports/{pid}"
    cases: list[tuple[str, str, Mapping[str, Any], int, str]] = [
        ("PATCH", p, {"general": {"frameColour": "red"}}, 422, "document-invalid"),
        ("PATCH", p, {"nonsense": 1}, 422, "document-invalid"),
        ("POST", f"{p}/events", {"type": "state-of-health", "condition": {}, "extra": 1}, 422, "document-invalid"),
        ("POST", f"{p}/events", {"type": "teleported"}, 422, "document-invalid"),
        ("POST", f"{p}/events", {"type": "status-change", "status": "original"}, 422, "document-invalid"),
        ("POST", f"{p}/events", {"type": "negative-event"}, 422, "document-invalid"),
        ("POST", f"{p}/events", {"type": "state-of-health", "condition": {"stateOfCharge": {"value": 101,
                                  "lastUpdate": "2026-11-01T00:00:00Z"}}}, 422, "document-invalid"),
        ("POST", f"{p}/repurpose", {"status": "re-used", "passport": {}, "colour": 1}, 400, "invalid-input"),
        ("POST", f"{p}/repurpose", {"status": "re-used"}, 400, "invalid-input"),
        ("POST", f"{p}/repurpose", {"status": "original", "passport": example("passport-lmt")}, 400,
         "invalid-input"),
        ("POST", f"{API}/models", {**model_part(example("passport-lmt")), "colour": "red"}, 422,
         "document-invalid"),
    ]
    for method, url, body, status, slug in cases:
        response = await api.request(OWNER, method, url, json=body, headers={"If-Match": '"v1-full"'})
        assert_problem(response, status, slug)
    for body in ({"slug": "ok-slug", "name": "X", "extra": 1}, {"slug": "Not A Slug", "name": "X"}, {}):
        assert_problem(await api.request(ADMIN, "POST", f"{API}/orgs", json=body), 422, "request-invalid")
    assert_problem(await api.request(ADMIN, "POST", f"{API}/orgs/acme/apikeys", json={"role": "root"}), 400)
    assert_problem(await api.request(ADMIN, "POST", f"{API}/orgs", json={"slug": "acme", "name": "Again"}), 409)


async def test_immutable_and_lifecycle_fields_do_not_change_by_patch(issued: tuple[Api, str]) -> None:
    api, pid = issued
    for patch, status in [({"general": {"gtin": "09520123456801"}}, 400), ({"passportId": None}, 400),
                          ({"general": {"batteryStatus": "waste"}}, 409),
                          ({"general": {"successorPassports": [f"urn:uuid:{uuid.UUID(int=1)}"]}}, 409),
                          ({"general": {"batteryMass": -1}}, 422), ({"general": {"batteryMass": "3"}}, 422)]:
        response = await api.request(OWNER, "PATCH", f"{API}/passports/{pid}", json=patch,
                                     headers={"If-Match": '"v1-full"'})
        assert_problem(response, status)


# --- ids -----------------------------------------------------------------------------------------------------------

async def test_unknown_and_malformed_ids_are_404(issued: tuple[Api, str]) -> None:
    api, _ = issued
    for pid in (str(uuid.UUID(int=9)), "not-a-uuid", "urn:uuid:zz", "%00", "1" * 300):
        base = f"{API}/passports/{pid}"
        for role, method, url, body in [
            (ANONYMOUS, "GET", base, None), (ANONYMOUS, "GET", f"{base}/versions", None),
            (ANONYMOUS, "GET", f"{base}/credential", None),
            (OWNER, "PATCH", base, {"general": {"modelName": "x"}}),
            (OWNER, "POST", f"{base}/events", {"type": "status-change", "status": "waste"}),
            (OWNER, "POST", f"{base}/repurpose", {"status": "re-used", "passport": {}}),
        ]:
            response = await api.request(role, method, url, json=body, headers={"If-Match": '"v1-full"'})
            assert_problem(response, 404, "not-found")
    for role, method, url in [(ANONYMOUS, "GET", f"{API}/models/{uuid.UUID(int=3)}"),
                              (OWNER, "PUT", f"{API}/models/nope"), (OWNER, "GET", f"{API}/jobs/nope"),
                              (OWNER, "GET", f"{API}/imports/nope"), (ADMIN, "GET", f"{API}/orgs/nope"),
                              (ADMIN, "GET", f"{API}/orgs/nope/apikeys"), (ADMIN, "DELETE", f"{API}/apikeys/nope"),
                              (ADMIN, "POST", f"{API}/orgs/nope/keys/rotate"), (ANONYMOUS, "GET", "/nowhere")]:
        response = await api.request(role, method, url, json={}, headers={"If-Match": "*"})
        assert_problem(response, 404, "not-found")
    version = await api.request(ANONYMOUS, "GET", f"{API}/passports/{issued[1]}?version=7")
    assert_problem(version, 404, "not-found")


async def test_passport_ids_may_be_urns(issued: tuple[Api, str]) -> None:
    api, pid = issued
    response = await api.request(ANONYMOUS, "GET", f"{API}/passports/urn:uuid:{pid}")
    assert response.status_code == 200
    assert response.json()["passportId"] == f"urn:uuid:{pid}"


async def test_wrong_method_is_405(api: Api) -> None:
    response = await api.request(OWNER, "DELETE", f"{API}/passports")
    assert_problem(response, 405, "method-not-allowed")


# --- API keys --------------------------------------------------------------------------------------------------------

async def test_keys_are_needed_only_for_writes(issued: tuple[Api, str], example: Any) -> None:
    api, pid = issued
    for method, url in [("GET", f"{API}/passports/{pid}"), ("GET", f"{API}/passports"),
                        ("GET", f"{API}/passports/{pid}/versions"), ("GET", f"{API}/passports/{pid}/credential"),
                        ("GET", f"{API}/models")]:
        assert (await api.request(ANONYMOUS, method, url)).status_code == 200
    for method, url in [("POST", f"{API}/passports"), ("PATCH", f"{API}/passports/{pid}"),
                        ("POST", f"{API}/passports/{pid}/events"), ("POST", f"{API}/passports/{pid}/repurpose"),
                        ("POST", f"{API}/models"), ("POST", f"{API}/imports"), ("GET", f"{API}/orgs"),
                        ("GET", f"{API}/jobs/x"), ("GET", f"{API}/imports/x")]:
        response = await api.request(ANONYMOUS, method, url, json=example("passport-lmt"))
        assert_problem(response, 401, "unauthorized")


@pytest.mark.parametrize("authorization", [
    "Bearer pp_wrong", "Bearer pp_" + "A" * 43, "Bearer not-even-a-key", "Bearer " + "x" * 5000, "Bearer",
    "Basic dXNlcjpwYXNz", "pp_without_scheme", "",
])
async def test_wrong_keys_are_401_on_every_route(issued: tuple[Api, str], authorization: str) -> None:
    """A wrong key is never taken for an anonymous caller, not even where anonymous callers may read."""
    api, pid = issued
    for method, url in [("GET", f"{API}/passports/{pid}"), ("GET", f"{API}/passports"),
                        ("POST", f"{API}/passports"), ("POST", f"{API}/verify")]:
        response = await api.client.request(method, url, headers={"Authorization": authorization}, json={})
        assert_problem(response, 401, "unauthorized")


async def test_revoked_keys_are_401(issued: tuple[Api, str]) -> None:
    api, pid = issued
    created = await api.request(ADMIN, "POST", f"{API}/orgs/acme/apikeys", json={"role": "manufacturer"})
    key = created.json()["key"]
    headers = {"Authorization": f"Bearer {key}"}
    assert (await api.client.get(f"{API}/passports/{pid}", headers=headers)).json()["view"] == "full"
    assert (await api.request(ADMIN, "DELETE", f"{API}/apikeys/{created.json()['id']}")).status_code == 204
    assert_problem(await api.client.get(f"{API}/passports/{pid}", headers=headers), 401, "unauthorized")
    assert_problem(await api.request(ADMIN, "DELETE", f"{API}/apikeys/{created.json()['id']}"), 404)


async def test_roles_without_the_right_are_403(issued: tuple[Api, str], example: Any) -> None:
    api, _ = issued
    for role in (LEGITIMATE, AUTHORITY, ADMIN):
        response = await api.request(role, "POST", f"{API}/passports", json=example("passport-lmt"))
        assert_problem(response, 403, "forbidden")
    for role in (OWNER, LEGITIMATE, AUTHORITY):
        assert_problem(await api.request(role, "GET", f"{API}/orgs"), 403, "forbidden")


# --- If-Match and transitions -----------------------------------------------------------------------------------

async def test_if_match(issued: tuple[Api, str]) -> None:
    api, pid = issued
    url, patch = f"{API}/passports/{pid}", {"general": {"modelName": "Renamed"}}
    assert_problem(await api.request(OWNER, "PATCH", url, json=patch), 428, "precondition-required")
    assert_problem(await api.request(OWNER, "PATCH", url, json=patch, headers={"If-Match": " "}), 428)
    for stale in ('"v2-full"', '"garbage"', "W/\"v9-full\"", '"v0-full"'):
        response = await api.request(OWNER, "PATCH", url, json=patch, headers={"If-Match": stale})
        assert_problem(response, 412, "precondition-failed")
    done = await api.request(OWNER, "PATCH", url, json=patch,
                             headers={"If-Match": '"v1-full"', "Content-Type": "application/merge-patch+json"})
    assert done.status_code == 200
    assert done.headers["etag"] == '"v2-full"'
    again = await api.request(OWNER, "PATCH", url, json=patch, headers={"If-Match": '"v1-full"'})
    assert_problem(again, 412, "precondition-failed")
    event = {"type": "status-change", "status": "waste"}
    stale_event = await api.request(OWNER, "POST", f"{url}/events", json=event, headers={"If-Match": '"v1-full"'})
    assert_problem(stale_event, 412, "precondition-failed")


async def test_model_if_match(api: Api, example: Any) -> None:
    document = model_part(example("passport-lmt"))
    created = await api.request(OWNER, "POST", f"{API}/models", json=document)
    url = f"{API}/models/{created.json()['modelId']}"
    assert_problem(await api.request(OWNER, "PUT", url, json=document), 428, "precondition-required")
    assert_problem(await api.request(OWNER, "PUT", url, json=document, headers={"If-Match": '"v2-model"'}), 412)
    item = item_part(example("passport-lmt"))
    item["general"]["batteryMass"] = 1.0  # model data in an item body
    response = await api.request(OWNER, "POST", f"{API}/passports", json=item,
                                 params={"modelId": created.json()["modelId"]})
    assert_problem(response, 422, "document-invalid")


async def test_forbidden_transitions_are_409_and_ceased_is_410(issued: tuple[Api, str], example: Any) -> None:
    api, pid = issued
    events = f"{API}/passports/{pid}/events"
    body = assert_problem(await api.request(OWNER, "POST", events, json={"type": "recycled"}), 409,
                          "transition-not-allowed")
    assert "waste" in body["detail"]
    assert (await api.request(OWNER, "POST", events, json={"type": "status-change", "status": "waste"})).is_success
    assert_problem(await api.request(OWNER, "POST", events, json={"type": "status-change", "status": "waste"}), 409)
    repurpose = await api.request(OWNER, "POST", f"{API}/passports/{pid}/repurpose",
                                  json={"status": "re-used", "passport": example("passport-lmt")})
    assert_problem(repurpose, 409, "transition-not-allowed")
    assert (await api.request(OWNER, "POST", events, json={"type": "recycled"})).status_code == 201
    for role, method, url, payload in [
        (OWNER, "POST", events, {"type": "recycled"}),
        (OWNER, "POST", events, {"type": "negative-event", "negativeEvent": "x", "lastUpdate": "2026-11-01T00:00:00Z"}),
        (OWNER, "PATCH", f"{API}/passports/{pid}", {"general": {"modelName": "x"}}),
    ]:
        response = await api.request(role, method, url, json=payload, headers={"If-Match": '"v3-full"'})
        assert_problem(response, 409, "transition-not-allowed")
    for url in (f"{API}/passports/{pid}", f"{API}/passports/{pid}/versions", f"{API}/passports/{pid}/credential"):
        assert_problem(await api.request(ANONYMOUS, "GET", url), 410, "gone")
        assert (await api.request(AUTHORITY, "GET", url)).status_code == 200


async def test_imports_refuse_bad_requests(api: Api) -> None:
    url = f"{API}/imports"
    assert_problem(await api.request(OWNER, "POST", url, content=b"{}\n", headers={"Content-Type": NDJSON}), 400,
                   "invalid-input")  # no Idempotency-Key
    assert_problem(await api.request(OWNER, "POST", url, content=b"{}", headers={
        "Content-Type": "application/json", "Idempotency-Key": "k"}), 415)
    assert_problem(await api.request(OWNER, "POST", url, content=b"a,b\n\"open", headers={
        "Content-Type": "text/csv", "Idempotency-Key": "csv"}), 400, "invalid-input")
    assert_problem(await api.request(OWNER, "POST", url, content=b"nope,columns\n1,2\n", headers={
        "Content-Type": "text/csv", "Idempotency-Key": "csv2"}), 400, "invalid-input")


async def test_verify_reports_why(issued: tuple[Api, str]) -> None:
    api, pid = issued
    credential = json.loads((await api.request(ANONYMOUS, "GET", f"{API}/passports/{pid}/credential")).content)
    credential["credentialSubject"]["passport"]["general"]["modelName"] = "Tampered"
    body = assert_problem(await api.request(ANONYMOUS, "POST", f"{API}/verify", json=credential), 422,
                          "verification-failed")
    assert body["reason"]
    del credential["proof"]
    assert_problem(await api.request(ANONYMOUS, "POST", f"{API}/verify", json=credential), 422)
    assert_problem(await api.request(ANONYMOUS, "POST", f"{API}/verify", json={"proof": 1}), 422)
