"""The console's access page: a legitimate-interest organisation asks for access, the maker approves (a grant, and
the LI view follows) or refuses, revokes, and reads who read its passports; an administrator approves purposes;
authorities read the whole access log. Every form is refused without the session's CSRF token, and every decision
lands in the audit log as through the API."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from passport.service.apikeys import create_api_key
from passport.service.context import ServiceContext
from passport.service.organisations import create_organisation
from passport.web.app import create_app
from tests.api_fixtures import ADMIN, AUTHORITY, OWNER, OWNER_ORG, seed_roles

pytestmark = pytest.mark.anyio


class Browser:
    """A cookie-keeping client signed in to the console with one API key."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.csrf = ""

    async def sign_in(self, key: str) -> None:
        form = await self.client.get("/console/sign-in")
        token = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert token, form.text
        done = await self.client.post("/console/sign-in", data={"api_key": key, "csrf": token.group(1)})
        assert done.status_code == 303, done.text
        page = await self.client.get("/console/access")
        assert page.status_code == 200, page.text
        self.csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]

    async def page(self) -> str:
        response = await self.client.get("/console/access")
        assert response.status_code == 200, response.text
        return response.text

    async def post(self, url: str, csrf: bool = True, **form: str) -> httpx.Response:
        return await self.client.post(url, data={**form, **({"csrf": self.csrf} if csrf else {})})


@pytest.fixture
async def world(
    context_factory: Callable[..., ServiceContext], example: Callable[[str], dict[str, Any]]
) -> AsyncIterator[tuple[ServiceContext, dict[str, Browser], str]]:
    context = context_factory()
    keys = seed_roles(context)
    create_organisation(context, "fixit", "FixIt Repair")
    keys["fixit"] = create_api_key(context, "fixit", "legitimate_interest", "fixit")[1]
    from passport.service.passports import Passports

    passport_id = Passports(context).issue(OWNER_ORG, example("passport-ev")).passport_id
    app = create_app(context.settings, context)
    clients = []
    browsers = {}
    for role in (OWNER, AUTHORITY, ADMIN, "fixit"):
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
        clients.append(client)
        browsers[role] = Browser(client)
        await browsers[role].sign_in(keys[role])
    yield context, browsers, passport_id
    for client in clients:
        await client.aclose()


async def _view_of(context: ServiceContext, fixit: Browser, passport_id: str) -> str:
    response = await fixit.client.get(f"/console/passports/{passport_id}")
    assert response.status_code == 200, response.text
    found = re.search(r"version \d+ · (\w+) view", response.text)
    assert found, response.text
    return found.group(1)


async def test_request_approve_revoke_through_the_console(
    world: tuple[ServiceContext, dict[str, Browser], str],
) -> None:
    context, browsers, passport_id = world
    fixit, maker, admin = browsers["fixit"], browsers[OWNER], browsers[ADMIN]
    assert await _view_of(context, fixit, passport_id) == "public"

    # no approved purpose yet: the request is refused with the reason, nothing is stored
    asked = await fixit.post("/console/access/requests", scope_kind="passport", scope_value=f"urn:uuid:{passport_id}",
                             purpose="repairer", justification="Cell imbalance; need the dismantling data")
    assert asked.status_code == 409 and "not approved for the purpose" in asked.text
    assert context.store.list_requests(requester="fixit") == []

    context.store.set_purpose("fixit", "repairer", "requested", context.clock())
    assert "fixit" in await admin.page()
    decided = await admin.post("/console/access/purposes/fixit/repairer/approve")
    assert decided.status_code == 303
    assert {p["status"] for p in context.store.list_purposes("fixit")} == {"approved"}

    asked = await fixit.post("/console/access/requests", scope_kind="passport", scope_value=f"urn:uuid:{passport_id}",
                             purpose="repairer", justification="Cell imbalance; need the dismantling data")
    assert asked.status_code == 303 and asked.headers["location"] == "/console/access?done=requested"
    [request] = context.store.list_requests(requester="fixit")
    page = await maker.page()
    assert "Cell imbalance; need the dismantling data" in page and f"/requests/{request.request_id}/approve" in page

    # no form works without the CSRF token, and only the responsible operator decides
    no_token = await maker.post(f"/console/access/requests/{request.request_id}/approve", csrf=False,
                                expires="2027-06-30")
    assert no_token.status_code == 403
    assert context.store.get_request(request.request_id).status == "pending"
    by_fixit = await fixit.post(f"/console/access/requests/{request.request_id}/approve", expires="2027-06-30")
    assert by_fixit.status_code == 403

    approved = await maker.post(f"/console/access/requests/{request.request_id}/approve", expires="2027-06-30")
    assert approved.status_code == 303
    [grant] = context.store.list_grants(grantee="fixit")
    assert (grant.scope_kind, grant.scope_value, grant.purpose) == ("passport", passport_id, "repairer")
    assert grant.expires_at.isoformat() == "2027-06-30T23:59:59+00:00"
    assert await _view_of(context, fixit, passport_id) == "legitimate_interest"
    assert "active" in await fixit.page()

    log = await maker.page()
    assert "Who read your passports" in log and "fixit (legitimate_interest)" in log
    csv = await maker.client.get("/console/access-log.csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "fixit" in csv.text and "console" in csv.text
    assert (await fixit.client.get("/console/access-log.csv")).status_code == 403

    revoked = await maker.post(f"/console/access/grants/{grant.grant_id}/revoke")
    assert revoked.status_code == 303
    assert context.store.get_grant(grant.grant_id).revoked_at is not None
    assert await _view_of(context, fixit, passport_id) == "public"

    actions = [e.action for e in context.store.list_audit()]
    for action in ("purpose.approved", "access-request.created", "access-request.approved", "grant.created",
                   "grant.revoked"):
        assert action in actions

    authority = await browsers[AUTHORITY].page()
    assert "Access log" in authority and "fixit (legitimate_interest)" in authority


async def test_refusal_and_bad_forms_are_explained(world: tuple[ServiceContext, dict[str, Browser], str]) -> None:
    context, browsers, passport_id = world
    fixit, maker = browsers["fixit"], browsers[OWNER]
    context.store.set_purpose("fixit", "repairer", "approved", context.clock())
    asked = await fixit.post("/console/access/requests", scope_kind="model", scope_value="no-such-model",
                             purpose="repairer", justification="x")
    assert asked.status_code == 404
    asked = await fixit.post("/console/access/requests", scope_kind="galaxy", scope_value=OWNER_ORG,
                             purpose="repairer", justification="x")
    assert asked.status_code in (400, 422) and "scope" in asked.text
    asked = await fixit.post("/console/access/requests", scope_kind="manufacturer", scope_value=OWNER_ORG,
                             purpose="repairer", justification="Independent repair")
    assert asked.status_code == 303
    [request] = context.store.list_requests(requester="fixit")
    bad_date = await maker.post(f"/console/access/requests/{request.request_id}/approve", expires="30/06/2027")
    assert bad_date.status_code in (400, 422) and "YYYY-MM-DD" in bad_date.text
    too_far = await maker.post(f"/console/access/requests/{request.request_id}/approve", expires="2040-01-01")
    assert too_far.status_code in (400, 422) and "five years" in too_far.text
    refused = await maker.post(f"/console/access/requests/{request.request_id}/refuse", reason="No contract")
    assert refused.status_code == 303
    record = context.store.get_request(request.request_id)
    assert (record.status, record.reason) == ("refused", "No contract")
    assert "No contract" in await fixit.page()
    assert context.store.list_grants(grantee="fixit") == []
    assert await _view_of(context, fixit, passport_id) == "public"
