"""Searches by update time (``updatedSince``, ``updatedBefore``) on SQLite and PostgreSQL: ordered by update time then
id, their cursor continues after the last row's (update time, id), so paging returns every passport changed in the
window exactly once, revised passports included, in the order they changed; a cursor of another kind of search is a
400 problem."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from tests.api_fixtures import OWNER, PROBLEM_JSON, ApiFactory
from tests.conftest import FakeClock

pytestmark = pytest.mark.anyio
API = "/api/v1/passports"


async def pages(api: Any, params: dict[str, str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    cursor = None
    for _ in range(50):
        answer = await api.request(OWNER, "GET", API, params={**params, **({"cursor": cursor} if cursor else {})})
        assert answer.status_code == 200, answer.text
        rows += answer.json()["items"]
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            return rows
    raise AssertionError("paging did not end")


async def test_paging_by_update_time_returns_each_change_once_in_order(
    api_factory: ApiFactory, database_url: str, clock: FakeClock, example: Callable[[str], dict[str, Any]],
) -> None:
    api = await api_factory(database_url)
    updated: dict[str, dt.datetime] = {}
    for number in range(7):
        clock.advance(minutes=1)
        document = example("passport-ev")
        document.pop("passportId", None)  # a new id for each
        # two passports share each issue time: the id breaks the tie, across pages too
        for twin in ("A", "B"):
            document["general"]["serialNumber"] = f"UPD-{number:04d}{twin}"
            updated[await api.issue(document)] = clock()
    issued = sorted(updated, key=lambda pid: (updated[pid], pid))
    since = updated[issued[6]]  # the 4th minute on
    clock.advance(minutes=5)
    for pid in issued[:3]:  # issued before the window, revised within it
        clock.advance(seconds=30)
        patch = await api.request(OWNER, "PATCH", f"{API}/{pid}", json={"general": {"modelName": "revised"}},
                                  headers={"If-Match": '"v1-full"'})
        assert patch.status_code == 200, patch.text
        updated[pid] = clock()

    def expected(low: dt.datetime | None, high: dt.datetime | None) -> list[str]:
        inside = [pid for pid, at in updated.items() if (low is None or at >= low) and (high is None or at < high)]
        return [f"urn:uuid:{pid}" for pid in sorted(inside, key=lambda pid: (updated[pid], pid))]

    window = {"updatedSince": since.isoformat(), "limit": "3"}
    got = [row["passportId"] for row in await pages(api, window)]
    assert got == expected(since, None)
    assert len(got) == 8 + 3  # 8 issued in the window, 3 revised into it
    before = updated[issued[0]]  # the first revision
    both = {**window, "updatedBefore": before.isoformat()}
    assert [row["passportId"] for row in await pages(api, both)] == expected(since, before)
    assert [row["passportId"] for row in await pages(api, {"updatedBefore": before.isoformat(), "limit": "4"})] \
        == expected(None, before)

    # a search by id gives cursors of ids: they do not continue a search by update time, nor the reverse
    by_id = await api.request(OWNER, "GET", API, params={"limit": "2"})
    by_update = await api.request(OWNER, "GET", API, params=window)
    for params, cursor in ((window, by_id.json()["next_cursor"]), ({"limit": "2"}, by_update.json()["next_cursor"]),
                           (window, base64.urlsafe_b64encode(b"yesterday|" + issued[0].encode()).decode())):
        refused = await api.request(OWNER, "GET", API, params={**params, "cursor": cursor})
        assert refused.status_code == 400, refused.text
        assert refused.headers["content-type"] == PROBLEM_JSON
        assert "cursor" in refused.json()["detail"]
