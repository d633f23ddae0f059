"""Must show 3 and 4 of issue 8.

3. Every read of non-public data is in the access log (``GET /api/v1/access-log``, JSON and CSV) with its basis or
   purpose, whatever the channel: the JSON read, version history, credentials (Data Integrity and JWS), search, CSV
   export, the console (pages and downloads), inventories and reports; authorities' reads too. Public reads (anonymous
   callers, the resolver, organisations without access, a public credential) are not. A maker reads exactly the
   reads of its own passports.
4. Purposes, grants, access requests (approved, refused), owners and revocations are in the audit log
   (``GET /api/v1/audit-log``), and survive an export and a restore: after the restore the same grants give the same
   access (and still expire), and the audit entries are all there.

Both run on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from passport.clock import rfc3339
from passport.service import dump
from passport.service.apikeys import create_api_key
from passport.service.context import ServiceContext
from passport.service.models import model_part
from passport.web.app import create_app
from tests.api_fixtures import (
    ADMIN,
    ANONYMOUS,
    AUTHORITY,
    LEGITIMATE,
    OTHER,
    OTHER_ORG,
    OWNER,
    OWNER_ORG,
    ROLE_KEYS,
    Api,
    ApiFactory,
)
from tests.conftest import FakeClock
from tests.test_access_grants import (
    AGGREGATOR,
    API,
    BY_PASSPORT,
    NOBODY,
    OWNER_LI,
    RECYCLER_ORG,
    add_organisation,
    bare,
    console_cookie,
    console_get,
    event,
    give_grant,
    problem,
    variant,
)

pytestmark = pytest.mark.anyio
AUTHORITY_ORG = ROLE_KEYS[AUTHORITY][0]
Entry = tuple[str, str | None, str, str, str, str, int]  # reader, passport, manufacturer, view, basis, channel, n


def entry_of(row: dict[str, Any]) -> Entry:
    passport = row["passportId"]
    return (row["reader"], bare(passport) if passport else None, row["manufacturer"], row["view"], row["basis"],
            row["channel"], int(row["passports"]))


@dataclass
class Reads:
    api: Api
    acme: list[str]
    rival: str
    grant_id: str  # the repairer's grant on acme[0]
    expected: Counter[Entry]

    def expect(self, reader: str, passport: str | None, manufacturer: str, view: str, basis: str, channel: str,
               passports: int = 1) -> None:
        self.expected[(reader, passport, manufacturer, view, basis, channel, passports)] += 1


async def ok(api: Api, caller: str, url: str, **kwargs: Any) -> httpx.Response:
    response = await api.request(caller, "GET", url, **kwargs)
    assert response.status_code == 200, (caller, url, response.text)
    return response


@pytest.fixture
async def reads(api_factory: ApiFactory, database_url: str, example: Any) -> Reads:
    """Two passports of acme, one of rival; a repairer with a grant on acme's first; an organisation with nothing;
    and the recycler of seed_roles, with a grant on all of acme's."""
    api = await api_factory(database_url)
    await add_organisation(api, BY_PASSPORT, purposes=("repairer",))
    await add_organisation(api, NOBODY, purposes=("recycler",))
    document = example("passport-ev")
    document.pop("passportId")
    acme = [await api.issue(variant(document, f"LOG-000{n}")) for n in (1, 2)]
    rival = await api.issue(variant(document, "LOG-0003"), role=OTHER)
    grant_id = await give_grant(api, OWNER, BY_PASSPORT, "passport", acme[0], "repairer",
                                api.context.clock() + dt.timedelta(days=30))
    return Reads(api, acme, rival, grant_id, Counter())


async def test_every_read_of_non_public_data_is_logged_and_the_maker_reads_its_own(
    reads: Reads, clock: FakeClock
) -> None:
    api, (first, second), rival = reads.api, reads.acme, reads.rival
    li = "legitimate_interest"
    assert await log_of(api, AUTHORITY) == [], "issuing and granting read nothing"

    # Public reads, by anyone: nothing is logged.
    for caller in (ANONYMOUS, ADMIN, NOBODY, OTHER):
        for passport in (first, second):
            await ok(api, caller, f"{API}/passports/{passport}")
            await ok(api, caller, f"{API}/passports/{passport}/versions")
            await ok(api, caller, f"{API}/passports/{passport}/credential")
        if caller != OTHER:  # (rival's search would read its own passport)
            await ok(api, caller, f"{API}/passports?limit=1000")
            await ok(api, caller, f"{API}/passports", headers={"Accept": "text/csv"})
    for caller in (NOBODY, LEGITIMATE, AUTHORITY):
        await ok(api, caller, "/01/09520123456788/21/LOG-0001", headers={"Accept": "application/json"})
        await ok(api, caller, f"/p/{first}", headers={"Accept": "application/json"})
    await ok(api, LEGITIMATE, f"{API}/passports/{first}/credential?view=public")
    await ok(api, NOBODY, f"{API}/inventory")  # aggregates nothing
    await ok(api, NOBODY, f"{API}/reports/recycled-content")
    await ok(api, OTHER, f"{API}/passports/{first}/credential?format=jwt")
    cookie = await console_cookie(api, NOBODY)
    for url in (f"/console/passports/{first}", "/console/passports", "/console/passports.csv"):
        assert (await console_get(api, cookie, url)).status_code == 200
    assert await log_of(api, AUTHORITY) == [], "public reads are not logged"

    # The recycler (a manufacturer grant from acme, purpose recycler) reads by every channel.
    clock.advance(minutes=1)
    since = clock.now
    await ok(api, LEGITIMATE, f"{API}/passports/{first}")
    reads.expect(RECYCLER_ORG, first, OWNER_ORG, li, "recycler", "api")
    await ok(api, LEGITIMATE, f"{API}/passports/{first}?version=1")
    reads.expect(RECYCLER_ORG, first, OWNER_ORG, li, "recycler", "api")
    await ok(api, LEGITIMATE, f"{API}/passports/{first}/versions")
    reads.expect(RECYCLER_ORG, first, OWNER_ORG, li, "recycler", "versions")
    await ok(api, LEGITIMATE, f"{API}/passports/{second}/credential")
    reads.expect(RECYCLER_ORG, second, OWNER_ORG, li, "recycler", "credential")
    await ok(api, LEGITIMATE, f"{API}/passports/{second}/credential?format=jwt&view=legitimate_interest")
    reads.expect(RECYCLER_ORG, second, OWNER_ORG, li, "recycler", "credential")
    await ok(api, LEGITIMATE, f"{API}/passports/{rival}")  # rival's: public, not logged
    await ok(api, LEGITIMATE, f"{API}/passports?limit=1000")  # rival's row is public
    reads.expect(RECYCLER_ORG, first, OWNER_ORG, li, "recycler", "search")
    reads.expect(RECYCLER_ORG, second, OWNER_ORG, li, "recycler", "search")
    await ok(api, LEGITIMATE, f"{API}/passports?status=original")
    reads.expect(RECYCLER_ORG, first, OWNER_ORG, li, "recycler", "search")
    reads.expect(RECYCLER_ORG, second, OWNER_ORG, li, "recycler", "search")
    exported = await ok(api, LEGITIMATE, f"{API}/passports?limit=1", headers={"Accept": "text/csv"})
    assert len(exported.text.strip().splitlines()) == 4  # every page of the export: three passports
    reads.expect(RECYCLER_ORG, first, OWNER_ORG, li, "recycler", "csv")
    reads.expect(RECYCLER_ORG, second, OWNER_ORG, li, "recycler", "csv")
    cookie = await console_cookie(api, LEGITIMATE)
    for url in (f"/console/passports/{second}", "/console/passports", "/console/passports.csv",
                f"/console/passports/{rival}"):
        assert (await console_get(api, cookie, url)).status_code == 200, url
    reads.expect(RECYCLER_ORG, second, OWNER_ORG, li, "recycler", "console")
    for _ in ("page", "csv"):
        reads.expect(RECYCLER_ORG, first, OWNER_ORG, li, "recycler", "console")
        reads.expect(RECYCLER_ORG, second, OWNER_ORG, li, "recycler", "console")
    await ok(api, LEGITIMATE, f"{API}/inventory")
    reads.expect(RECYCLER_ORG, None, OWNER_ORG, li, "recycler", "inventory", 2)
    await ok(api, LEGITIMATE, f"{API}/reports/recycled-content")
    reads.expect(RECYCLER_ORG, None, OWNER_ORG, li, "recycler", "report", 2)
    assert (await console_get(api, cookie, "/console/inventory")).status_code == 200
    reads.expect(RECYCLER_ORG, None, OWNER_ORG, li, "recycler", "inventory", 2)

    # The repairer's grant covers the first passport only; its purpose is the basis.
    await ok(api, BY_PASSPORT, f"{API}/passports/{first}")
    reads.expect(BY_PASSPORT, first, OWNER_ORG, li, "repairer", "api")
    await ok(api, BY_PASSPORT, f"{API}/passports/{second}")

    # Authorities: no grant needed, every read logged, whichever maker's.
    await ok(api, AUTHORITY, f"{API}/passports/{first}")
    reads.expect(AUTHORITY_ORG, first, OWNER_ORG, "authority", "authority", "api")
    await ok(api, AUTHORITY, f"{API}/passports/{rival}/credential")
    reads.expect(AUTHORITY_ORG, rival, OTHER_ORG, "authority", "authority", "credential")
    await ok(api, AUTHORITY, f"{API}/inventory")
    reads.expect(AUTHORITY_ORG, None, OWNER_ORG, "authority", "authority", "inventory", 2)
    reads.expect(AUTHORITY_ORG, None, OTHER_ORG, "authority", "authority", "inventory", 1)

    # The makers' own reads of their full view.
    await ok(api, OWNER, f"{API}/passports/{first}")
    reads.expect(OWNER_ORG, first, OWNER_ORG, "full", "responsible-operator", "api")
    await ok(api, OTHER, f"{API}/passports/{rival}/versions")
    reads.expect(OTHER_ORG, rival, OTHER_ORG, "full", "responsible-operator", "versions")

    everything = await log_of(api, AUTHORITY)
    assert Counter(entry_of(row) for row in everything) == reads.expected
    assert all(row["at"] == "2026-11-25T10:01:00.000Z" for row in everything)
    grants = {row["grantId"] for row in everything if row["reader"] == BY_PASSPORT}
    assert grants == {reads.grant_id}
    seeded = {g.grant_id for g in api.context.store.list_grants(grantee=RECYCLER_ORG)}
    assert {row["grantId"] for row in everything if row["reader"] == RECYCLER_ORG and row["passportId"]} == seeded
    assert {row["apiKeyId"] for row in everything if row["reader"] == BY_PASSPORT} == {
        k.key_id for k in api.context.store.list_api_keys(BY_PASSPORT)}

    # Each maker reads exactly the reads of its passports; they learn who read them.
    for maker, org in ((OWNER, OWNER_ORG), (OTHER, OTHER_ORG)):
        own = await log_of(api, maker)
        assert Counter(entry_of(row) for row in own) == Counter(
            {e: n for e, n in reads.expected.items() if e[2] == org}), maker
        assert [row["id"] for row in own] == sorted((row["id"] for row in own), reverse=True), "newest first"
    readers = {row["reader"] for row in await log_of(api, OWNER)}
    assert readers == {RECYCLER_ORG, BY_PASSPORT, AUTHORITY_ORG, OWNER_ORG}
    # Filters: one passport, one reader, since a time; the CSV holds the same rows.
    only_first = await log_of(api, OWNER, f"passport=urn:uuid:{first}")
    assert {row["passportId"] for row in only_first} == {f"urn:uuid:{first}"}
    assert len(only_first) == sum(n for e, n in reads.expected.items() if e[1] == first)
    by_repairer = await log_of(api, OWNER, f"reader={BY_PASSPORT}")
    assert [entry_of(row) for row in by_repairer] == [(BY_PASSPORT, first, OWNER_ORG, li, "repairer", "api", 1)]
    assert await log_of(api, OTHER, f"passport={first}") == []  # acme's passport: nothing for rival
    assert await log_of(api, OWNER, f"since={rfc3339(since + dt.timedelta(seconds=1))}") == []
    assert len(await log_of(api, OWNER, "limit=3")) == 3
    for how in ({"params": {"format": "csv"}}, {"headers": {"Accept": "text/csv"}}):
        response = await ok(api, OWNER, f"{API}/access-log", **how)
        assert response.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert [(r["id"], r["reader"], r["basis"], r["channel"]) for r in rows] == [
            (r["id"], r["reader"], r["basis"], r["channel"]) for r in await log_of(api, OWNER)]
    # Reading the logs reads no passport.
    assert Counter(entry_of(row) for row in await log_of(api, AUTHORITY)) == reads.expected
    problem(await api.request(OWNER, "GET", f"{API}/access-log?since=2026-11-25T10:00:00"), 400)
    problem(await api.request(OWNER, "GET", f"{API}/access-log?passport=not-a-passport"), 404)
    problem(await api.request(LEGITIMATE, "GET", f"{API}/access-log"), 403)


async def log_of(api: Api, caller: str, query: str = "") -> list[dict[str, Any]]:
    response = await ok(api, caller, f"{API}/access-log?{query}")
    assert response.headers["cache-control"] == "no-store"
    entries: list[dict[str, Any]] = response.json()["entries"]
    return entries


# --- Must show 4: audited, and surviving export and restore --------------------------------------------------------


async def view_of(api: Api, caller: str, passport: str) -> str:
    return str((await ok(api, caller, f"{API}/passports/{passport}")).json()["view"])


async def test_access_decisions_are_audited_and_survive_export_and_restore(
    api: Api, clock: FakeClock, example: Any, context_factory: Callable[..., ServiceContext], database_url: str,
    tmp_path: Path,
) -> None:
    document = example("passport-ev")
    document.pop("passportId")
    await add_organisation(api, BY_PASSPORT, purposes=("repairer",))
    await add_organisation(api, NOBODY, purposes=("recycler",))
    await add_organisation(api, OWNER_LI)
    await add_organisation(api, AGGREGATOR, purposes=("aggregator",))
    before = await decisions_in(api)  # seed_roles' and these organisations' purposes, the recycler's grant
    assert {e["action"] for e in before} == {"purpose.requested", "purpose.approved", "grant.created"}
    refused_purpose = await api.request(NOBODY, "POST", f"{API}/orgs/{NOBODY}/purposes", json={"purpose": "repairer"})
    assert refused_purpose.status_code == 202
    assert (await api.request(ADMIN, "POST", f"{API}/orgs/{NOBODY}/purposes/repairer/refuse")).status_code == 200
    response = await api.request(OWNER, "POST", f"{API}/models", json=model_part(document))
    assert response.status_code == 201, response.text
    model_id = str(response.json()["modelId"])
    first, second, third = [await api.issue(variant(document, f"AUD-000{n}")) for n in (1, 2, 3)]
    later = clock.now + dt.timedelta(days=30)
    by_passport = await give_grant(api, OWNER, BY_PASSPORT, "passport", first, "repairer", later)
    by_model = await give_grant(api, OWNER, BY_PASSPORT, "model", model_id, "repairer", later)
    revoked = await api.request(OWNER, "DELETE", f"{API}/grants/{by_model}")
    assert revoked.status_code == 204
    owner = await api.request(OWNER, "PUT", f"{API}/passports/{second}/owner", json={"owner": OWNER_LI})
    assert owner.status_code == 200
    delegated = await give_grant(api, OWNER_LI, AGGREGATOR, "passport", second, "aggregator", later)

    def ask(passport: str) -> dict[str, Any]:
        return {"scope": {"kind": "passport", "id": passport}, "purpose": "recycler", "justification": "we recycle"}

    approved_request = (await api.request(NOBODY, "POST", f"{API}/access-requests", json=ask(third))).json()["id"]
    refused_request = (await api.request(NOBODY, "POST", f"{API}/access-requests", json=ask(first))).json()["id"]
    pending_request = (await api.request(NOBODY, "POST", f"{API}/access-requests", json=ask(second))).json()["id"]
    approval = await api.request(OWNER, "POST", f"{API}/access-requests/{approved_request}/approve",
                                 json={"expiresAt": (clock.now + dt.timedelta(days=10)).isoformat()})
    assert approval.status_code == 200, approval.text
    from_request = approval.json()["grantId"]
    refusal = await api.request(OWNER, "POST", f"{API}/access-requests/{refused_request}/refuse",
                                json={"reason": "no contract"})
    assert refusal.status_code == 200

    keys = {name: k.key_id for name in (OWNER_ORG, NOBODY, OWNER_LI, ROLE_KEYS[ADMIN][0])
            for k in api.context.store.list_api_keys(name)}
    expected = [
        ("purpose.requested", f"org:{NOBODY}", NOBODY, {"purpose": "repairer"}),
        ("purpose.refused", f"org:{NOBODY}", ROLE_KEYS[ADMIN][0], {"purpose": "repairer"}),
        ("grant.created", f"grant:{by_passport}", OWNER_ORG,
         {"grantee": BY_PASSPORT, "scope": "passport", "value": first, "purpose": "repairer"}),
        ("grant.created", f"grant:{by_model}", OWNER_ORG,
         {"grantee": BY_PASSPORT, "scope": "model", "value": model_id, "purpose": "repairer"}),
        ("grant.revoked", f"grant:{by_model}", OWNER_ORG, {"grantee": BY_PASSPORT}),
        ("owner.set", f"passport:{second}", OWNER_ORG, {"owner": OWNER_LI}),
        ("grant.created", f"grant:{delegated}", OWNER_LI,
         {"grantee": AGGREGATOR, "scope": "passport", "value": second, "purpose": "aggregator"}),
        ("access-request.created", f"request:{approved_request}", NOBODY,
         {"scope": "passport", "value": third, "purpose": "recycler", "approver": OWNER_ORG}),
        ("access-request.created", f"request:{refused_request}", NOBODY, {"approver": OWNER_ORG}),
        ("access-request.created", f"request:{pending_request}", NOBODY, {"approver": OWNER_ORG}),
        ("access-request.approved", f"request:{approved_request}", OWNER_ORG, {"grant": from_request}),
        ("grant.created", f"grant:{from_request}", OWNER_ORG,
         {"grantee": NOBODY, "scope": "passport", "value": third, "purpose": "recycler",
          "request": approved_request}),
        ("access-request.refused", f"request:{refused_request}", OWNER_ORG, {"reason": "no contract", "grant": None}),
    ]
    decisions = await decisions_in(api)
    assert decisions[: len(before)] == before
    assert [(e["action"], e["subject"], e["actor"]) for e in decisions[len(before):]] == [
        (a, s, o) for a, s, o, _ in expected]
    for entry, (_, _, actor, details) in zip(decisions[len(before):], expected, strict=True):
        assert entry["details"].items() >= details.items(), entry
        if actor in keys:
            assert entry["apiKeyId"] == keys[actor], entry
    assert all("expiresAt" in e["details"] for e in decisions if e["action"] == "grant.created")
    assert (await ok(api, AUTHORITY, f"{API}/audit-log")).json()["entries"] == (
        await ok(api, ADMIN, f"{API}/audit-log")).json()["entries"]
    only = (await ok(api, ADMIN, f"{API}/audit-log?subject=request:{approved_request}")).json()["entries"]
    assert [e["action"] for e in only] == ["access-request.approved", "access-request.created"]
    assert {e["actor"] for e in (await ok(api, ADMIN, f"{API}/audit-log?actor={OWNER_LI}")).json()["entries"]} == {
        OWNER_LI}

    access = {(who, passport): await view_of(api, who, passport)
              for who in (BY_PASSPORT, NOBODY, OWNER_LI, AGGREGATOR, LEGITIMATE)
              for passport in (first, second, third)}
    assert [p for (who, p), view in access.items() if who == BY_PASSPORT and view != "public"] == [first]
    assert [p for (who, p), view in access.items() if who == NOBODY and view != "public"] == [third]

    # Export; restore into an empty database (SQLite or PostgreSQL); the export of the restore is the same file.
    exported = tmp_path / "export.ndjson"
    with exported.open("wb") as out:
        dump.export(api.context, out)
    target = context_factory(database_url)
    dump.restore(target, exported)
    again = tmp_path / "again.ndjson"
    with again.open("wb") as out:
        dump.export(target, out)
    assert _without_header(again.read_bytes()) == _without_header(exported.read_bytes())

    restored = await restored_api(target, api)
    try:
        assert await decisions_in(restored) == decisions
        for (who, passport), view in access.items():
            assert await view_of(restored, who, passport) == view, (who, passport)
        given = (await ok(restored, OWNER, f"{API}/grants?as=grantor")).json()["given"]
        assert {(g["id"], g["active"]) for g in given} == {(by_passport, True), (by_model, False),
                                                           (from_request, True), *(
            (g.grant_id, True) for g in target.store.list_grants(grantee=RECYCLER_ORG))}
        made = (await ok(restored, NOBODY, f"{API}/access-requests")).json()["made"]
        assert {(r["id"], r["status"]) for r in made} == {
            (approved_request, "approved"), (refused_request, "refused"), (pending_request, "pending")}
        # The restored grants still expire: past ten days the request's grant ends, in both installations.
        clock.advance(days=10)
        for client in (api, restored):
            assert await view_of(client, NOBODY, third) == "public"
            assert await view_of(client, BY_PASSPORT, first) == "legitimate_interest"
        # And a decision after the restore is audited after the restored entries.
        late = await restored.request(OWNER, "POST", f"{API}/access-requests/{pending_request}/refuse", json={})
        assert late.status_code == 200, late.text
        assert [e["action"] for e in await decisions_in(restored)][-1] == "access-request.refused"
        assert (await decisions_in(restored))[:-1] == decisions
    finally:
        await restored.client.aclose()


def _without_header(export: bytes) -> list[bytes]:
    """The lines of an export but its header (which has the export time) and the trailer (whose digest covers it)."""
    return export.splitlines()[1:-1]


async def decisions_in(api: Api) -> list[dict[str, Any]]:
    """The access decisions in the audit log, oldest first (the HTTP interface's own entries left out)."""
    entries = (await ok(api, ADMIN, f"{API}/audit-log")).json()["entries"]
    return [e for e in reversed(entries) if ":" in e["subject"] and not e["subject"].startswith("/")]


async def restored_api(target: ServiceContext, source: Api) -> Api:
    """A client of the restored installation, with a new API key for every key of the source (keys are never
    exported)."""
    app = create_app(target.settings, target)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    keys: dict[str, str] = {}
    for name in source.keys:
        organisation, role = ROLE_KEYS.get(name, (name, "legitimate_interest"))
        keys[name] = create_api_key(target, organisation, role, label=name)[1]
    return Api(client, target, keys)


async def test_aggregates_log_the_basis_each_read_would_have(reads: Reads) -> None:
    """An inventory or report logs, per manufacturer, the basis a read of each passport it counted would record
    (the grant's purpose and id, custody, owner, responsible-operator, authority), not a catch-all; the recovery
    report too, since its input masses come from the recycled batteries' declared composition."""
    api, (first, second), rival = reads.api, reads.acme, reads.rival
    li = "legitimate_interest"
    recycler_grant = next(g.grant_id for g in api.context.store.list_grants(grantee=RECYCLER_ORG))
    await event(api, OTHER, rival, {"type": "transfer", "to": RECYCLER_ORG})
    owner = await api.request(OWNER, "PUT", f"{API}/passports/{second}/owner", json={"owner": BY_PASSPORT})
    assert owner.status_code == 200, owner.text

    async def logged(caller: str, url: str) -> set[tuple[str, str, str, str, str | None, int]]:
        before = {row["id"] for row in await log_of(api, AUTHORITY)}
        await ok(api, caller, url)
        return {(row["manufacturer"], row["view"], row["basis"], row["channel"], row["grantId"], row["passports"])
                for row in await log_of(api, AUTHORITY) if row["id"] not in before and row["reader"] != AUTHORITY_ORG}

    # the recycler: acme's two by its manufacturer grant, rival's by custody
    for url, channel in ((f"{API}/inventory", "inventory"), (f"{API}/reports/recycled-content", "report")):
        assert await logged(LEGITIMATE, url) == {
            (OWNER_ORG, li, "recycler", channel, recycler_grant, 2), (OTHER_ORG, li, "custody", channel, None, 1)}
    # the repairer: one battery by its passport grant, the other as its registered owner
    assert await logged(BY_PASSPORT, f"{API}/inventory") == {
        (OWNER_ORG, li, "repairer", "inventory", reads.grant_id, 1), (OWNER_ORG, li, "owner", "inventory", None, 1)}
    assert await logged(OWNER, f"{API}/reports/recycled-content") == {
        (OWNER_ORG, li, "responsible-operator", "report", None, 2)}
    assert await log_of(api, AUTHORITY, f"passport={first}") == [], "aggregates name no passport"

    # The recycler treats rival's battery; its recovery report reads rival's declared composition (input masses).
    await event(api, LEGITIMATE, rival, {"type": "status-change", "status": "waste"})
    await event(api, LEGITIMATE, rival, {"type": "recycled", "recoveredMaterials": [
        {"material": "Co", "mass": 4.1}, {"material": "nickel", "mass": 33.2}]})
    report = await ok(api, LEGITIMATE, f"{API}/reports/recovery")
    assert len(report.json()["rows"]) == 2, "two materials of one battery"
    assert await logged(LEGITIMATE, f"{API}/reports/recovery") == {(OTHER_ORG, li, "custody", "report", None, 1)}
    before = {row["id"] for row in await log_of(api, AUTHORITY)}
    await ok(api, AUTHORITY, f"{API}/reports/recovery")
    assert [(row["reader"], row["manufacturer"], row["basis"], row["channel"], row["passports"])
            for row in await log_of(api, AUTHORITY) if row["id"] not in before] == [
        (AUTHORITY_ORG, OTHER_ORG, "authority", "report", 1)]
    # a recovery report over nothing reads nothing
    before = {row["id"] for row in await log_of(api, AUTHORITY)}
    await ok(api, BY_PASSPORT, f"{API}/reports/recovery")
    assert [row for row in await log_of(api, AUTHORITY) if row["id"] not in before] == []
