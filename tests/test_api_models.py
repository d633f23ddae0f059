"""Battery models over HTTP: register once, issue passports from item data, correct the model and let the re-issue
job give every passport referencing it a new signed version with the corrected data."""

from __future__ import annotations

from typing import Any

import pytest

from passport.service.models import item_part, model_part
from passport.service.verification import verify_passport
from tests.api_fixtures import ANONYMOUS, AUTHORITY, OTHER, OWNER, Api

pytestmark = pytest.mark.anyio
API = "/api/v1"


async def register(api: Api, document: dict[str, Any]) -> tuple[str, str]:
    response = await api.request(OWNER, "POST", f"{API}/models", json=model_part(document))
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"{API}/models/{response.json()['modelId']}"
    return response.json()["modelId"], response.headers["etag"]


def item(document: dict[str, Any], serial: str) -> dict[str, Any]:
    data = item_part(document)
    data.pop("passportId", None)
    data["general"]["serialNumber"] = serial
    return data


async def test_register_issue_correct_and_reissue(api: Api, example: Any) -> None:
    lmt = example("passport-lmt")
    model_id, tag = await register(api, lmt)
    assert tag == '"v1-model"'
    read = await api.request(OWNER, "GET", f"{API}/models/{model_id}")
    assert read.json()["model"] == model_part(lmt)
    assert read.json()["version"] == 1

    passports = []
    for index in range(3):
        response = await api.request(OWNER, "POST", f"{API}/passports", json=item(lmt, f"LMT-{index}"),
                                     params={"modelId": model_id})
        assert response.status_code == 201, response.text
        assert response.json()["modelId"] == model_id
        full = response.json()["passport"]
        assert full["performance"] == lmt["performance"]  # the model's data, embedded in the signed version
        assert full["general"]["serialNumber"] == f"LMT-{index}"
        passports.append(response.json()["passportId"].removeprefix("urn:uuid:"))
    ceased = passports.pop()
    for body in ({"type": "status-change", "status": "waste"}, {"type": "recycled"}):
        assert (await api.request(OWNER, "POST", f"{API}/passports/{ceased}/events", json=body)).status_code == 201

    corrected = model_part(lmt)
    corrected["general"]["modelName"] = "Corrected model name"
    corrected["performance"]["ratedCapacity"] = lmt["performance"]["ratedCapacity"] + 1
    assert (await api.request(OWNER, "PUT", f"{API}/models/{model_id}", json=corrected)).status_code == 428
    stale = await api.request(OWNER, "PUT", f"{API}/models/{model_id}", json=corrected,
                              headers={"If-Match": '"v7-model"'})
    assert stale.status_code == 412
    denied = await api.request(OTHER, "PUT", f"{API}/models/{model_id}", json=corrected, headers={"If-Match": tag})
    assert denied.status_code == 403
    response = await api.request(OWNER, "PUT", f"{API}/models/{model_id}", json=corrected, headers={"If-Match": tag})
    assert response.status_code == 202, response.text
    assert response.headers["etag"] == '"v2-model"'
    job_id = response.json()["job"]["jobId"]
    assert response.headers["location"] == f"{API}/jobs/{job_id}"
    assert response.json()["model"]["version"] == 2

    # The job ran as a background task after the response (ASGITransport runs it before returning).
    job = (await api.request(OWNER, "GET", f"{API}/jobs/{job_id}")).json()
    assert job["status"] == "done"
    assert job["kind"] == "model-reissue"
    assert sorted(job["report"], key=lambda e: e["passportId"]) == [
        {"passportId": f"urn:uuid:{pid}", "version": 2} for pid in sorted(passports)]
    for pid in passports:
        current = (await api.current(pid)).json()
        assert current["version"] == 2
        assert current["passport"]["general"]["modelName"] == "Corrected model name"
        assert current["passport"]["performance"]["ratedCapacity"] == corrected["performance"]["ratedCapacity"]
        assert current["passport"]["general"]["serialNumber"].startswith("LMT-")  # the item data stays
        assert verify_passport(api.context, pid).versions == 2
    assert (await api.current(ceased)).json()["version"] == 3  # a ceased passport is frozen: not re-issued
    assert (await api.request(AUTHORITY, "GET", f"{API}/jobs/{job_id}")).status_code == 403
    assert (await api.request(OTHER, "GET", f"{API}/jobs/{job_id}")).status_code == 404

    later = await api.request(OWNER, "POST", f"{API}/passports", json=item(lmt, "LMT-9"), params={"modelId": model_id})
    assert later.json()["passport"]["general"]["modelName"] == "Corrected model name"
    listed = (await api.request(OWNER, "GET", f"{API}/models")).json()["items"]
    assert [m["modelId"] for m in listed] == [model_id]
    assert (await api.request(OTHER, "GET", f"{API}/models")).json()["items"] == []
    found = await api.request(ANONYMOUS, "GET", f"{API}/passports", params={"model": model_id})
    assert len(found.json()["items"]) == 3  # the ceased passport is gone for the public


async def test_item_bodies_hold_item_data_only(api: Api, example: Any) -> None:
    lmt = example("passport-lmt")
    model_id, _ = await register(api, lmt)
    body = item(lmt, "LMT-X")
    body["general"]["modelName"] = "Not yours to set here"
    response = await api.request(OWNER, "POST", f"{API}/passports", json=body, params={"modelId": model_id})
    assert response.status_code == 422
    assert response.json()["problems"][0]["pointer"] == "/general/modelName"
    assert response.json()["problems"][0]["code"] == "model-field"
    body = item(lmt, "LMT-Y")
    body["performance"] = {"ratedCapacity": 1.0}
    response = await api.request(OWNER, "POST", f"{API}/passports", json=body, params={"modelId": model_id})
    assert response.status_code == 422
    rival = await api.request(OTHER, "POST", f"{API}/passports", json=item(lmt, "LMT-Z"), params={"modelId": model_id})
    assert rival.status_code == 403
    unknown = await api.request(OWNER, "POST", f"{API}/passports", json=item(lmt, "LMT-Z"),
                                params={"modelId": "0193aaaa-0000-7000-8000-000000000000"})
    assert unknown.status_code == 404


async def test_model_validation(api: Api, example: Any) -> None:
    lmt = example("passport-lmt")
    document = model_part(lmt)
    document["general"]["gtin"] = "09520123456780"  # wrong check digit
    response = await api.request(OWNER, "POST", f"{API}/models", json=document)
    assert response.status_code == 422
    assert response.json()["problems"][0]["pointer"] == "/general/gtin"
    model_id, tag = await register(api, lmt)
    again = await api.request(OWNER, "POST", f"{API}/models", json=model_part(lmt))
    assert again.status_code == 409  # one model per GTIN and organisation
    moved = model_part(lmt)
    moved["general"]["gtin"] = example("passport-ev")["general"]["gtin"]
    response = await api.request(OWNER, "PUT", f"{API}/models/{model_id}", json=moved, headers={"If-Match": tag})
    assert response.status_code == 400
    broken = model_part(lmt)
    broken["performance"]["minimumVoltage"] = 1000.0
    response = await api.request(OWNER, "PUT", f"{API}/models/{model_id}", json=broken, headers={"If-Match": tag})
    assert response.status_code == 422
    assert (await api.request(OWNER, "GET", f"{API}/models/{model_id}")).json()["version"] == 1
