"""Must show 2 of the circularity issue: every custody and end-of-life event (transfer, delegation, collected,
received-for-treatment, dismantled, recycled, and the status change to waste) is allowed only to the right role and
to the current holder or responsible operator (403 otherwise), every forbidden transition is a 409 problem, and the
passport's history verifies after every event, in the service and through ``POST /api/v1/verify``.

The expectations come from a small model of the rules written here (:class:`Battery`), not from the service: for
each state a passport passes through, every event by every actor is tried; the refused ones must leave the passport
untouched, and each allowed one is recorded on a fresh passport brought to the same state."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from passport.access import View
from passport.service.apikeys import create_api_key
from passport.service.organisations import create_organisation
from passport.service.verification import verify_passport
from tests.api_fixtures import (
    ADMIN,
    ANONYMOUS,
    AUTHORITY,
    LEGITIMATE,
    OTHER,
    OTHER_ORG,
    OWNER,
    OWNER_ORG,
    PROBLEM_JSON,
    ROLE_KEYS,
    Api,
)

pytestmark = pytest.mark.anyio
API = "/api/v1"

# Actors besides the roles of seed_roles: a collector, an operator responsibility is delegated to, and a
# producer-responsibility organisation that becomes responsible when the battery is waste.
COLLECTOR, DELEGATE, PRO = "collector", "delegate", "pro"
EXTRA: Mapping[str, tuple[str, str]] = {
    COLLECTOR: ("collectco", "legitimate_interest"),
    DELEGATE: ("secondop", "manufacturer"),
    PRO: ("ecopro", "legitimate_interest"),
}
ACTORS: Mapping[str, tuple[str, str]] = {**ROLE_KEYS, **EXTRA}  # actor -> (organisation, role of its key)
ALL_ACTORS = (ANONYMOUS, *ACTORS)
RECYCLER = ROLE_KEYS[LEGITIMATE][0]
COLLECTCO, SECONDOP, ECOPRO = (EXTRA[a][0] for a in (COLLECTOR, DELEGATE, PRO))
WRITING_ROLES = ("manufacturer", "legitimate_interest")
STAGES = ("collected", "received-for-treatment", "dismantled")
RECOVERED = [{"material": "Co", "mass": 4.1}, {"material": "nickel", "mass": 33.2}]


def did(organisation: str) -> str:
    return f"did:web:testserver:orgs:{organisation}"


@dataclass
class Battery:
    """What the test knows of a passport, from the events it recorded, and what the rules (docs/api.md, DESIGN §3)
    say of the next one."""

    responsible: str = OWNER_ORG
    holder: str | None = None  # until a first transfer (or a move of responsibility), the responsible operator
    status: str = "original"
    stages: tuple[str, ...] = ()
    ceased: bool = False
    frozen: bool = False  # succeeded by a second-life passport
    events: tuple[tuple[str, str, str | None], ...] = ()  # (type, by, to) of the custody events

    @property
    def held_by(self) -> str:
        return self.holder or self.responsible

    def expect(self, actor: str, event: Mapping[str, Any]) -> int:
        """The status code ``actor`` gets for ``event``: who may comes first (401, 403), then the state (409)."""
        if actor == ANONYMOUS:
            return 401
        organisation, role = ACTORS[actor]
        if role not in WRITING_ROLES:
            return 403
        kind = event["type"]
        if kind == "delegation":
            allowed = {self.responsible}
        elif kind in ("recycled", "status-change"):
            allowed = {self.held_by, self.responsible}
        else:
            allowed = {self.held_by}
        if organisation not in allowed:
            return 403
        if self.ceased or self.frozen:
            return 409
        done = self.stages
        refused = {
            "transfer": event.get("to") == self.held_by,
            "delegation": self.status == "waste" or event.get("to") == self.responsible,
            "collected": self.status != "waste" or "collected" in done,
            "received-for-treatment": "collected" not in done or "received-for-treatment" in done,
            "dismantled": "received-for-treatment" not in done or "dismantled" in done,
            "recycled": self.status != "waste" or ("collected" in done and "received-for-treatment" not in done),
            "status-change": self.status == "waste",
        }[kind]
        return 409 if refused else 201

    def after(self, actor: str, event: Mapping[str, Any]) -> Battery:
        """The state an allowed event leads to."""
        kind, by = event["type"], ACTORS[actor][0]
        new = replace(self)
        if kind == "transfer":
            new.holder = event["to"]
        elif kind == "delegation":
            new.holder, new.responsible = self.held_by, event["to"]
        elif kind == "status-change":
            new.status = "waste"
            moved = event.get("responsibleOperator")
            if moved is not None and moved != self.responsible:
                new.holder, new.responsible = self.held_by, moved
        elif kind == "recycled":
            new.ceased = True
        if kind in STAGES:
            new.stages = (*self.stages, kind)
        if kind != "status-change":
            new.events = (*self.events, (kind, by, event.get("to")))
        return new


def candidates(battery: Battery) -> list[dict[str, Any]]:
    """Every event worth trying in a state: each type, with a target that may work and one that may not."""
    elsewhere = RECYCLER if battery.held_by != RECYCLER else COLLECTCO
    delegate = SECONDOP if battery.responsible != SECONDOP else OWNER_ORG
    return [
        {"type": "transfer", "to": elsewhere, "note": "handed over at the gate"},
        {"type": "transfer", "to": battery.held_by},
        {"type": "delegation", "to": delegate, "note": "written authorisation 2026-117"},
        {"type": "delegation", "to": battery.responsible},
        {"type": "collected", "note": "collection point Hannover-Nord"},
        {"type": "received-for-treatment"},
        {"type": "dismantled"},
        {"type": "recycled", "recoveredMaterials": RECOVERED, "process": "hydrometallurgical"},
        {"type": "status-change", "status": "waste"},
        {"type": "status-change", "status": "waste", "responsibleOperator": ECOPRO},
    ]


# --- driving passports through the API ------------------------------------------------------------------------


@dataclass
class World:
    api: Api
    document: dict[str, Any]  # the battery: the EV example
    serials: Iterator[int] = field(default_factory=lambda: iter(range(1, 1_000_000)))

    async def issue(self) -> str:
        return await self.api.issue(self.battery())

    def battery(self) -> dict[str, Any]:
        document = copy.deepcopy(self.document)
        document["general"]["serialNumber"] = f"CUST-{next(self.serials):06d}"
        return document


@pytest.fixture
async def world(api: Api, example: Any) -> World:
    """The roles of seed_roles plus a collector, a delegate and a producer-responsibility organisation, each with a
    key."""
    for actor, (organisation, role) in EXTRA.items():
        create_organisation(api.context, organisation, organisation.title())
        api.keys[actor] = create_api_key(api.context, organisation, role, label=actor)[1]
    document = example("passport-ev")
    document.pop("passportId")
    return World(api, document)


Step = tuple[str, Mapping[str, Any]]  # (actor, event); actor "repurpose" gives the battery a second life


async def drive(world: World, steps: Sequence[Step]) -> tuple[str, Battery]:
    """A new passport brought to a state by ``steps``, each allowed (each was checked in a shorter scenario)."""
    pid, battery = await world.issue(), Battery()
    for actor, event in steps:
        battery = await record(world, pid, battery, actor, event, check=False)
    return pid, battery


async def record(world: World, pid: str, battery: Battery, actor: str, event: Mapping[str, Any], *,
                 check: bool = True) -> Battery:
    """Record an allowed event; check the new version against the model and that the whole history verifies."""
    api = world.api
    if actor == "repurpose":
        response = await api.request(OWNER, "POST", f"{API}/passports/{pid}/repurpose",
                                     json={"status": "repurposed", "passport": world.battery()})
        assert response.status_code == 201, response.text
        battery = replace(battery, frozen=True)
        if check:
            await check_history(api, pid, battery)
        return battery
    assert battery.expect(actor, event) == 201, (actor, event, battery)
    before = api.context.store.get_passport(pid).current_version
    response = await api.request(actor, "POST", f"{API}/passports/{pid}/events", json=dict(event))
    assert response.status_code == 201, (actor, event, response.text)
    assert response.json()["version"] == before + 1
    battery = battery.after(actor, event)
    if check:
        await check_history(api, pid, battery)
    return battery


async def check_history(api: Api, pid: str, battery: Battery) -> None:
    """The stored passport is the state the model predicts, its credentials are issued by the responsible operator
    (the issuer is public; custody is not), and every version of every view verifies."""
    record_ = api.context.store.get_passport(pid)
    version = api.context.store.get_version(pid)
    assert (record_.organisation, record_.holder, record_.ceased) == (
        battery.responsible, battery.holder, battery.ceased)
    full = json.loads(version.credential(View.FULL.value))
    document = full["credentialSubject"]["passport"]
    assert document["general"]["batteryStatus"] == battery.status or battery.frozen
    custody = document.get("custody") or {}
    assert custody.get("holder") == (did(battery.holder) if battery.holder else None)
    if custody:
        assert custody["responsibleOperator"] == did(battery.responsible)
    assert [(e["type"], e["by"], e.get("to")) for e in custody.get("events", [])] == [
        (kind, did(by), did(to) if to else None) for kind, by, to in battery.events]
    for view in View:
        credential = json.loads(version.credential(view.value))
        assert credential["issuer"] == did(battery.responsible)
        assert ("passportStatus" in credential["credentialSubject"]) is battery.ceased
        verified = await api.request(ANONYMOUS, "POST", f"{API}/verify", content=version.credential(view.value),
                                     headers={"Content-Type": "application/json"})
        assert verified.status_code == 200, verified.text
        assert verified.json()["issuer"] == did(battery.responsible)
    assert verify_passport(api.context, pid).versions == version.version


async def check_state(world: World, scenario: Sequence[Step], length: int) -> Battery:
    """Every event by every actor on a passport in the state the first ``length`` steps of ``scenario`` lead to:
    refusals change nothing and are the right problem; each allowed event works (on a fresh passport in the same
    state; the scenario's next step is recorded, and checked, by the next state's test)."""
    api = world.api
    steps = scenario[:length]
    following = scenario[length] if length < len(scenario) else None
    pid, battery = await drive(world, steps)
    version = api.context.store.get_passport(pid).current_version
    allowed: list[Step] = []
    for candidate in candidates(battery):
        for actor in ALL_ACTORS:
            expected = battery.expect(actor, candidate)
            if expected == 201:
                allowed.append((actor, candidate))
                continue
            response = await api.request(actor, "POST", f"{API}/passports/{pid}/events", json=candidate)
            assert response.status_code == expected, (actor, candidate, battery, response.text)
            assert response.headers["content-type"].startswith(PROBLEM_JSON)
            problem = response.json()
            assert problem["status"] == expected
            slug = {401: "unauthorized", 403: "forbidden", 409: "transition-not-allowed"}[expected]
            assert problem["type"] == f"/problems/{slug}", problem
    assert api.context.store.get_passport(pid).current_version == version  # nothing refused left a trace
    await check_history(api, pid, battery)
    assert allowed or battery.ceased or battery.frozen, battery
    for actor, event in allowed:
        if (actor, event) == following:
            continue
        fresh, state = await drive(world, steps)
        assert state == battery
        await record(world, fresh, state, actor, event)
    return battery


# --- the scenarios ----------------------------------------------------------------------------------------------

TO_COLLECTOR = {"type": "transfer", "to": COLLECTCO}
TO_RECYCLER = {"type": "transfer", "to": RECYCLER}
WASTE = {"type": "status-change", "status": "waste"}

COLLECTION: list[Step] = [  # the maker hands the battery to a collector, who makes it waste and collects it, ...
    (OWNER, TO_COLLECTOR),
    (COLLECTOR, WASTE),
    (COLLECTOR, {"type": "collected"}),
    (COLLECTOR, TO_RECYCLER),  # ... then passes it on to the recycler, who treats it
    (LEGITIMATE, {"type": "received-for-treatment"}),
    (LEGITIMATE, {"type": "dismantled"}),
    (LEGITIMATE, {"type": "recycled", "recoveredMaterials": RECOVERED}),
]
RESPONSIBILITY: list[Step] = [  # responsibility moves by delegation, and at waste; custody stays where it is
    (OWNER, {"type": "delegation", "to": SECONDOP}),
    (OWNER, TO_RECYCLER),  # acme still holds the battery: only it hands it over
    (DELEGATE, {"type": "status-change", "status": "waste", "responsibleOperator": ECOPRO}),
    (PRO, {"type": "recycled"}),  # the responsible operator, not the holder, records the recycling
]
SECOND_LIFE: list[Step] = [(OWNER, TO_RECYCLER), ("repurpose", {})]


@pytest.mark.parametrize("length", range(len(COLLECTION) + 1))
async def test_collection_and_treatment(world: World, length: int) -> None:
    battery = await check_state(world, COLLECTION, length)
    assert battery.stages == tuple(e["type"] for _, e in COLLECTION[:length] if e["type"] in STAGES)


@pytest.mark.parametrize("length", range(1, len(RESPONSIBILITY) + 1))
async def test_responsibility_moves_custody_stays(world: World, length: int) -> None:
    battery = await check_state(world, RESPONSIBILITY, length)
    if length >= 3:
        assert (battery.responsible, battery.holder) == (ECOPRO, RECYCLER)


async def test_a_predecessor_frozen_by_a_second_life(world: World) -> None:
    """Its successor carries the battery on: nothing more is recorded on the predecessor."""
    battery = await check_state(world, SECOND_LIFE, len(SECOND_LIFE))
    assert battery.frozen and battery.holder == RECYCLER


async def test_waste_without_transfer_and_recycling_by_the_maker(world: World) -> None:
    """The shortest end of life: the maker, holding the battery, makes it waste and recycles it; once ceased, no
    actor may record anything (409 for those who could have, 403 for the others)."""
    battery = await check_state(world, [(OWNER, WASTE), (OWNER, {"type": "recycled"})], 2)
    assert battery.ceased and battery.holder is None


async def test_unknown_organisations_and_malformed_events(world: World) -> None:
    pid, battery = await drive(world, [])
    api = world.api
    for body, status in [({"type": "transfer", "to": "nobody-here"}, 404),
                         ({"type": "delegation", "to": "nobody-here"}, 404),
                         ({"type": "status-change", "status": "waste", "responsibleOperator": "nobody-here"}, 404),
                         ({"type": "transfer"}, 422),
                         ({"type": "transfer", "to": "Not A Slug"}, 422),
                         ({"type": "recycled", "recoveredMaterials": [{"material": "Co", "mass": -1}]}, 422),
                         ({"type": "status-change", "status": "original"}, 422),
                         ({"type": "teleported"}, 422)]:
        response = await api.request(OWNER, "POST", f"{API}/passports/{pid}/events", json=body)
        assert response.status_code == status, (body, response.text)
        assert response.headers["content-type"].startswith(PROBLEM_JSON)
    await check_history(api, pid, battery)
    assert api.context.store.get_passport(pid).current_version == 1


def test_the_model_matches_the_documented_table() -> None:
    """The model itself, on the rows of the table in docs/api.md (so that a mistake in it fails here too)."""
    fresh = Battery()
    assert fresh.expect(OWNER, TO_RECYCLER) == 201
    assert fresh.expect(LEGITIMATE, TO_RECYCLER) == 403  # not the holder
    assert fresh.expect(OTHER, WASTE) == 403
    assert fresh.expect(AUTHORITY, WASTE) == 403 and fresh.expect(ADMIN, WASTE) == 403
    assert fresh.expect(ANONYMOUS, WASTE) == 401
    assert fresh.expect(OWNER, {"type": "collected"}) == 409  # not waste
    assert fresh.expect(OWNER, {"type": "recycled"}) == 409
    held = fresh.after(OWNER, TO_RECYCLER)
    assert held.expect(LEGITIMATE, WASTE) == 201 and held.expect(OWNER, WASTE) == 201
    assert held.expect(OWNER, TO_COLLECTOR) == 403  # the maker no longer holds it
    waste = held.after(LEGITIMATE, WASTE)
    assert waste.expect(LEGITIMATE, {"type": "delegation", "to": SECONDOP}) == 403
    assert waste.expect(OWNER, {"type": "delegation", "to": SECONDOP}) == 409  # no delegation of waste
    assert waste.expect(OWNER, {"type": "recycled"}) == 201  # the responsible operator may record it
    collected = waste.after(LEGITIMATE, {"type": "collected"})
    assert collected.expect(LEGITIMATE, {"type": "recycled"}) == 409  # not received for treatment yet
    assert collected.expect(LEGITIMATE, {"type": "dismantled"}) == 409
    delegated = fresh.after(OWNER, {"type": "delegation", "to": SECONDOP})
    assert (delegated.responsible, delegated.held_by) == (SECONDOP, OWNER_ORG)
    assert delegated.expect(DELEGATE, TO_RECYCLER) == 403 and delegated.expect(OWNER, TO_RECYCLER) == 201
    assert OTHER_ORG not in {delegated.responsible, delegated.held_by}
