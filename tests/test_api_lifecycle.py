"""Lifecycle over HTTP (DESIGN §3, Art. 77(7)-(8)): state-of-health readings, negative events, waste, recycling
(the passport ceases: 410 Gone to the public, still readable and verifiable for authorised roles), repurposing into
a linked successor passport. The whole history verifies after every event."""

from __future__ import annotations

from typing import Any

import pytest

from passport.service.verification import verify_passport
from tests.api_fixtures import ADMIN, ANONYMOUS, AUTHORITY, LEGITIMATE, OTHER, OWNER, Api

pytestmark = pytest.mark.anyio
API = "/api/v1"


async def event(api: Api, pid: str, body: dict[str, Any], status: int = 201) -> dict[str, Any]:
    """Send an event as the owner; check the status, and that every chain of the passport verifies."""
    response = await api.request(OWNER, "POST", f"{API}/passports/{pid}/events", json=body)
    assert response.status_code == status, response.text
    versions = (await api.request(OWNER, "GET", f"{API}/passports/{pid}/versions")).json()["versions"]
    assert verify_passport(api.context, pid).versions == len(versions)
    return dict(response.json())


def reading(value: float, when: str) -> dict[str, Any]:
    return {"value": value, "lastUpdate": when}


async def test_state_of_health_negative_events_waste_and_recycling(api: Api, example: Any) -> None:
    pid = await api.issue(example("passport-ev"))
    before = (await api.current(pid)).json()["passport"]["condition"]

    done = await event(api, pid, {"type": "state-of-health", "condition": {
        "stateOfCharge": reading(55.5, "2026-11-20T10:00:00Z"),
        "numberOfFullCycles": reading(120, "2026-11-20T10:00:00Z")}})
    assert done["version"] == 2
    condition = done["passport"]["condition"]
    assert condition["stateOfCharge"] == reading(55.5, "2026-11-20T10:00:00Z")  # readings given replace
    assert condition["numberOfFullCycles"] == reading(120, "2026-11-20T10:00:00Z")
    assert condition["stateOfCertifiedEnergy"] == before["stateOfCertifiedEnergy"]  # the others stay
    assert condition["powerFade"] == before["powerFade"]

    await event(api, pid, {"type": "negative-event", "negativeEvent": "Collision, rear", "lastUpdate":
                           "2026-11-21T09:00:00Z"})
    await event(api, pid, {"type": "state-of-health", "condition": {"negativeEvents": [
        {"negativeEvent": "Flooded garage", "lastUpdate": "2026-11-22T09:00:00Z"}]}})
    done = await event(api, pid, {"type": "negative-event", "negativeEvent": "Thermal alarm", "lastUpdate":
                                  "2026-11-23T09:00:00Z"})
    assert [e["negativeEvent"] for e in done["passport"]["condition"]["negativeEvents"]] == [
        "Collision, rear", "Flooded garage", "Thermal alarm"]  # negative events accumulate, in order
    assert done["passport"]["condition"]["stateOfCharge"]["value"] == 55.5

    failed = await event(api, pid, {"type": "recycled"}, 409)  # only a waste battery can be recycled
    assert failed["type"] == "/problems/transition-not-allowed"
    done = await event(api, pid, {"type": "status-change", "status": "waste"})
    assert done["passport"]["general"]["batteryStatus"] == "waste"
    await event(api, pid, {"type": "status-change", "status": "waste"}, 409)  # nothing leaves (or re-enters) waste
    await event(api, pid, {"type": "state-of-health", "condition": {  # a waste battery still gets readings
        "stateOfCharge": reading(3.0, "2026-11-24T09:00:00Z")}})
    done = await event(api, pid, {"type": "recycled"})
    final = done["version"]

    # Art. 77(8): ceased. Gone for the public, readable and verifiable for authorised roles.
    for url in (f"{API}/passports/{pid}", f"{API}/passports/{pid}/versions", f"{API}/passports/{pid}/credential"):
        gone = await api.request(ANONYMOUS, "GET", url)
        assert gone.status_code == 410
        assert gone.json()["type"] == "/problems/gone"
        assert (await api.request(ADMIN, "GET", url)).status_code == 410  # admins read the public view
        assert (await api.request(OTHER, "GET", url)).status_code == 410
    for role, view in ((OWNER, "full"), (AUTHORITY, "authority"), (LEGITIMATE, "legitimate_interest")):
        response = await api.request(role, "GET", f"{API}/passports/{pid}")
        assert response.status_code == 200
        assert response.json()["view"] == view
        assert response.json()["version"] == final
        credential = await api.request(role, "GET", f"{API}/passports/{pid}/credential")
        assert credential.json()["credentialSubject"]["passportStatus"] == "ceased"
        verified = await api.request(ANONYMOUS, "POST", f"{API}/verify", content=credential.content,
                                     headers={"Content-Type": "application/json"})
        assert verified.status_code == 200, verified.text
    assert (await api.request(OWNER, "GET", f"{API}/passports/{pid}/versions")).json()["ceased"] is True

    # frozen: every further event, revision or second life is refused
    for body in ({"type": "recycled"}, {"type": "status-change", "status": "waste"},
                 {"type": "negative-event", "negativeEvent": "late", "lastUpdate": "2026-11-24T10:00:00Z"},
                 {"type": "state-of-health", "condition": {"stateOfCharge": reading(1.0, "2026-11-24T10:00:00Z")}}):
        assert (await event(api, pid, body, 409))["type"] == "/problems/transition-not-allowed"
    patch = await api.request(OWNER, "PATCH", f"{API}/passports/{pid}", json={"general": {"modelName": "x"}},
                              headers={"If-Match": f'"v{final}-full"'})
    assert patch.status_code == 409
    repurpose = await api.request(OWNER, "POST", f"{API}/passports/{pid}/repurpose",
                                  json={"status": "re-used", "passport": example("passport-lmt")})
    assert repurpose.status_code == 409
    # out of public searches, still in those of authorised roles
    public = await api.request(ANONYMOUS, "GET", f"{API}/passports")
    assert f"urn:uuid:{pid}" not in {row["passportId"] for row in public.json()["items"]}
    listed = await api.request(AUTHORITY, "GET", f"{API}/passports")
    assert f"urn:uuid:{pid}" in {row["passportId"] for row in listed.json()["items"]}
    assert verify_passport(api.context, pid).versions == final


@pytest.mark.parametrize("status", ["repurposed", "re-used", "remanufactured"])
async def test_repurpose_links_both_ways_and_freezes_the_predecessor(api: Api, example: Any, status: str) -> None:
    old = await api.issue(example("passport-ev"))
    await event(api, old, {"type": "state-of-health", "condition": {
        "stateOfCertifiedEnergy": reading(81.0, "2026-11-20T10:00:00Z")}})
    successor = example("passport-ev")
    successor.pop("passportId")
    successor["general"]["serialNumber"] = "SL-2026-0001"
    response = await api.request(OWNER, "POST", f"{API}/passports/{old}/repurpose",
                                 json={"status": status, "passport": successor})
    assert response.status_code == 201, response.text
    body = response.json()
    new = body["successor"]["passportId"].removeprefix("urn:uuid:")
    assert response.headers["location"].endswith(f"/api/v1/passports/{new}")
    assert body["successor"]["version"] == 1
    assert body["successor"]["passport"]["general"]["batteryStatus"] == status
    assert body["successor"]["passport"]["general"]["predecessorPassports"] == [f"urn:uuid:{old}"]
    assert body["predecessor"]["version"] == 3
    assert body["predecessor"]["passport"]["general"]["batteryStatus"] == status
    assert body["predecessor"]["passport"]["general"]["successorPassports"] == [f"urn:uuid:{new}"]
    assert verify_passport(api.context, old).versions == 3
    assert verify_passport(api.context, new).versions == 1

    # the predecessor is frozen
    await event(api, old, {"type": "status-change", "status": "waste"}, 409)
    await event(api, old, {"type": "state-of-health", "condition": {
        "stateOfCharge": reading(5.0, "2026-11-21T10:00:00Z")}}, 409)
    patch = await api.request(OWNER, "PATCH", f"{API}/passports/{old}", json={"general": {"modelName": "x"}},
                              headers={"If-Match": '"v3-full"'})
    assert patch.status_code == 409
    again = await api.request(OWNER, "POST", f"{API}/passports/{old}/repurpose",
                              json={"status": status, "passport": {**successor, "general": {
                                  **successor["general"], "serialNumber": "SL-2026-0002"}}})
    assert again.status_code == 409

    # the links are data of the individual battery (Annex XIII 4): for legitimate interest, not the public
    for role, sees in ((LEGITIMATE, True), (OWNER, True), (ANONYMOUS, False), (AUTHORITY, False), (ADMIN, False)):
        general = (await api.request(role, "GET", f"{API}/passports/{new}")).json()["passport"]["general"]
        assert ("predecessorPassports" in general) is sees, role
        assert ("batteryStatus" in general) is sees, role
        frozen = (await api.request(role, "GET", f"{API}/passports/{old}")).json()["passport"]["general"]
        assert ("successorPassports" in frozen) is sees, role
    # the successor lives on
    await event(api, new, {"type": "status-change", "status": "waste"})
    await event(api, new, {"type": "recycled"})
    assert (await api.request(ANONYMOUS, "GET", f"{API}/passports/{new}")).status_code == 410
    assert (await api.request(ANONYMOUS, "GET", f"{API}/passports/{old}")).status_code == 200


async def test_repurpose_refusals(api: Api, example: Any) -> None:
    old = await api.issue(example("passport-ev"))
    successor = example("passport-lmt")
    successor.pop("passportId")
    url = f"{API}/passports/{old}/repurpose"
    other = f"urn:uuid:{await api.issue(example('passport-industrial'))}"
    wrong_link = {**successor, "general": {**successor["general"], "predecessorPassports": [other]}}
    for body, status in [({"status": "original", "passport": successor}, 400),
                         ({"status": "waste", "passport": successor}, 400),
                         ({"status": "re-used", "passport": wrong_link}, 400)]:
        response = await api.request(OWNER, "POST", url, json=body)
        assert response.status_code == status, response.text
    for role in (OTHER, LEGITIMATE, AUTHORITY, ADMIN):
        response = await api.request(role, "POST", url, json={"status": "re-used", "passport": successor})
        assert response.status_code == 403
    await event(api, old, {"type": "status-change", "status": "waste"})
    response = await api.request(OWNER, "POST", url, json={"status": "re-used", "passport": successor})
    assert response.status_code == 409  # nothing leaves waste
    assert verify_passport(api.context, old).versions == 2
