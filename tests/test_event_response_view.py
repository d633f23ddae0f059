"""The answer to an event is the new version in the caller's own view: a holder recording custody or end-of-life
events gets the legitimate-interest view back (never the full one with authority-only data), and that read is logged
like any other."""

from __future__ import annotations

from typing import Any

import pytest

from passport.access import View
from tests.api_fixtures import LEGITIMATE, OWNER, Api, api, api_factory, fields_outside  # noqa: F401

pytestmark = pytest.mark.anyio


async def test_a_holder_gets_its_own_view_back(api: Api, example: Any) -> None:  # noqa: F811
    passport_id = await api.issue(example("passport-ev"))
    url = f"/api/v1/passports/{passport_id}/events"
    made_waste = await api.request(OWNER, "POST", url, json={"type": "status-change", "status": "waste"})
    assert made_waste.status_code == 201 and made_waste.json()["view"] == "full"
    moved = await api.request(OWNER, "POST", url, json={"type": "transfer", "to": "recycler"})
    assert moved.status_code == 201 and moved.json()["view"] == "full"

    collected = await api.request(LEGITIMATE, "POST", url, json={"type": "collected"})
    assert collected.status_code == 201, collected.text
    body = collected.json()
    assert body["view"] == View.LEGITIMATE_INTEREST.value
    assert collected.headers["etag"].endswith('-legitimate_interest"')
    assert fields_outside(body["passport"], View.LEGITIMATE_INTEREST) == []
    assert "resultOfTestReport" not in collected.text
    full = api.context.store.get_version(passport_id).credential_json("full")["credentialSubject"]["passport"]
    assert fields_outside(full, View.LEGITIMATE_INTEREST), "the full view does hold fields the holder must not see"
    reads = api.context.store.list_access(passport_id=passport_id, reader="recycler")
    assert [(r.view, r.basis, r.channel) for r in reads] == [("legitimate_interest", "custody", "api")]
