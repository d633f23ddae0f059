"""Battery models hold passport data (composition, …): a legitimate-interest organisation reads a model's restricted
data only with a grant for the model or its manufacturer, like a passport's, and such reads are logged."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from passport.access import Role, View
from passport.service.access_management import decide_purpose, grant
from passport.service.apikeys import Caller, create_api_key
from passport.service.models import model_part
from passport.service.organisations import create_organisation
from tests.api_fixtures import ADMIN, AUTHORITY, OWNER, OWNER_ORG, ROLE_KEYS, Api, api, api_factory, fields_outside  # noqa: F401

pytestmark = pytest.mark.anyio


async def test_model_reads_follow_the_access_policy(api: Api, example: Any) -> None:  # noqa: F811
    context = api.context
    created = await api.request(OWNER, "POST", "/api/v1/models", json=model_part(example("passport-ev")))
    assert created.status_code == 201, created.text
    model_id = created.json()["modelId"]
    create_organisation(context, "fixit", "FixIt")
    fixit = {"Authorization": f"Bearer {create_api_key(context, 'fixit', 'legitimate_interest')[1]}"}

    async def view_of(headers: dict[str, str]) -> str:
        one = await api.client.get(f"/api/v1/models/{model_id}", headers=headers)
        assert one.status_code == 200, one.text
        listed = await api.client.get("/api/v1/models", headers=headers)
        [item] = [m for m in listed.json()["items"] if m["modelId"] == model_id]
        assert item["model"] == one.json()["model"]
        for view in View:
            if not fields_outside(one.json()["model"], view):
                return view.value
        raise AssertionError("no view holds these fields")

    full_model = (await api.request(OWNER, "GET", f"/api/v1/models/{model_id}")).json()["model"]
    assert fields_outside(full_model, View.PUBLIC), "the model has non-public data to protect"
    assert await view_of(fixit) == "public"
    assert context.store.list_access(reader="fixit") == []

    decide_purpose(context, Caller(Role.ADMIN, ROLE_KEYS[ADMIN][0]), "fixit", "repairer", approve=True)
    given = grant(context, Caller(Role.MANUFACTURER, OWNER_ORG), "fixit", "model", model_id, "repairer",
                  context.clock() + dt.timedelta(days=30))
    assert await view_of(fixit) == "legitimate_interest"
    reads = context.store.list_access(reader="fixit")
    assert {(r.channel, r.view, r.basis, r.grant_id, r.manufacturer) for r in reads} == {
        ("model", "legitimate_interest", "repairer", given.grant_id, OWNER_ORG)}
    assert len(reads) == 2  # the model, and the model in the list

    authority = await api.request(AUTHORITY, "GET", f"/api/v1/models/{model_id}")
    assert fields_outside(authority.json()["model"], View.AUTHORITY) == []
    assert any(r.channel == "model" for r in context.store.list_access(reader=ROLE_KEYS[AUTHORITY][0]))
    own = await api.request(OWNER, "GET", f"/api/v1/models/{model_id}")
    assert own.json()["model"] == full_model
    assert context.store.list_access(reader=OWNER_ORG) == [], "a maker reading its own model is not logged"
