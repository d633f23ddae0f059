"""Shared fixtures of the HTTP API tests: an in-process client with an API key for every role, a passport with
every field filled (non-public fields hold distinctive sentinel values), and helpers that find any of those values
in a response.

Test modules import what they use from here (``from tests.api_fixtures import api_factory, ...``)."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import httpx
import pytest

from passport.access import VIEW_AUDIENCES, Role, View, project
from passport.models.base import Audience
from passport.models.introspect import FieldNode, leaves, unwrap
from passport.models.passport import Passport
from passport.service.access_management import decide_purpose, grant
from passport.service.apikeys import Caller, create_api_key
from passport.service.context import ServiceContext
from passport.service.organisations import create_organisation
from passport.web.app import create_app

# --- roles ----------------------------------------------------------------------------------------------------

ANONYMOUS, OWNER, OTHER, LEGITIMATE, AUTHORITY, ADMIN = (
    "anonymous", "owner", "other_manufacturer", "legitimate_interest", "authority", "admin")
ROLES = (ANONYMOUS, OWNER, OTHER, LEGITIMATE, AUTHORITY, ADMIN)
OWNER_ORG, OTHER_ORG = "acme", "rival"
# role name -> (organisation, API key role); anonymous has neither
ROLE_KEYS: Mapping[str, tuple[str, str]] = {
    OWNER: (OWNER_ORG, "manufacturer"),
    OTHER: (OTHER_ORG, "manufacturer"),
    LEGITIMATE: ("recycler", "legitimate_interest"),
    AUTHORITY: ("surveillance", "authority"),
    ADMIN: ("operator", "admin"),
}
# The view each role reads of a passport of OWNER_ORG (DESIGN §3).
ROLE_VIEW: Mapping[str, View] = {
    ANONYMOUS: View.PUBLIC, OWNER: View.FULL, OTHER: View.PUBLIC, LEGITIMATE: View.LEGITIMATE_INTEREST,
    AUTHORITY: View.AUTHORITY, ADMIN: View.PUBLIC,
}
PROBLEM_JSON = "application/problem+json"
NDJSON = "application/x-ndjson"


@dataclass
class Api:
    """An in-process client of one app, with a key for every role."""

    client: httpx.AsyncClient
    context: ServiceContext
    keys: dict[str, str] = field(default_factory=dict)

    def auth(self, role: str, **headers: str) -> dict[str, str]:
        """Headers for ``role`` (none for anonymous), plus ``headers`` (underscores become dashes)."""
        out = {name.replace("_", "-"): value for name, value in headers.items()}
        if role != ANONYMOUS:
            out["Authorization"] = f"Bearer {self.keys[role]}"
        return out

    async def request(self, role: str, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.auth(role), **kwargs.pop("headers", {})}
        return await self.client.request(method, url, headers=headers, **kwargs)

    async def issue(self, document: Mapping[str, Any], role: str = OWNER, model_id: str | None = None) -> str:
        """Issue a passport; its bare UUID."""
        params = {"modelId": model_id} if model_id else {}
        response = await self.request(role, "POST", "/api/v1/passports", json=document, params=params)
        assert response.status_code == 201, response.text
        return str(response.json()["passportId"]).removeprefix("urn:uuid:")

    async def current(self, passport_id: str, role: str = OWNER) -> httpx.Response:
        response = await self.request(role, "GET", f"/api/v1/passports/{passport_id}")
        assert response.status_code == 200, response.text
        return response


ApiFactory = Callable[..., Awaitable[Api]]


def seed_roles(context: ServiceContext) -> dict[str, str]:
    """Organisations and one API key per role. The legitimate-interest organisation, a recycler approved for that
    purpose, holds a grant from OWNER_ORG covering all its passports (issue 8: without one it would read the public
    view only; tests/test_access_grants.py covers that case)."""
    keys: dict[str, str] = {}
    for role, (organisation, key_role) in ROLE_KEYS.items():
        if organisation not in {o.slug for o in context.store.list_organisations()}:
            create_organisation(context, organisation, organisation.title())
        keys[role] = create_api_key(context, organisation, key_role, label=role)[1]
    recycler, owner = ROLE_KEYS[LEGITIMATE][0], ROLE_KEYS[OWNER][0]
    admin = Caller(Role.ADMIN, ROLE_KEYS[ADMIN][0])
    decide_purpose(context, admin, recycler, "recycler", approve=True)
    grant(context, Caller(Role.MANUFACTURER, owner), recycler, "manufacturer", owner, "recycler",
          context.clock() + dt.timedelta(days=365))
    return keys


@pytest.fixture
async def api_factory(context_factory: Callable[..., ServiceContext]) -> AsyncIterator[ApiFactory]:
    """Factory: ``await api_factory(database_url=None)`` -> an :class:`Api` on a fresh database."""
    clients: list[httpx.AsyncClient] = []

    async def make(database_url: str | None = None) -> Api:
        context = context_factory(database_url)
        app = create_app(context.settings, context)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
        clients.append(client)
        return Api(client, context, seed_roles(context))

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
async def api(api_factory: ApiFactory) -> Api:
    """An :class:`Api` on a fresh SQLite database."""
    return await api_factory()


# --- a passport with every field filled -------------------------------------------------------------------------


def cas(body: str) -> str:
    """A CAS registry number with its check digit (``body`` as ``NNNNNNN-NN``)."""
    digits = body.replace("-", "")
    check = sum(int(d) * (i + 1) for i, d in enumerate(reversed(digits))) % 10
    return f"{body}-{check}"


def _stamp(day: int, second: int) -> str:
    return f"2026-11-{day:02d}T07:41:{second:02d}Z"


def every_field_document(ev: Mapping[str, Any]) -> dict[str, Any]:
    """The EV example with every optional field filled; every non-public value is a distinctive sentinel (the
    ``zq`` prefix, odd numbers with four decimals, timestamps of no other field) so that finding its text in a
    response proves a leak. ``passportId``, ``predecessorPassports`` and ``successorPassports`` are left to the
    service (issue and repurpose set them), ``custody`` to custody events (:data:`TRANSFER`, :data:`RECYCLED`)."""
    doc = copy.deepcopy(dict(ev))
    doc.pop("passportId", None)
    general = doc["general"]
    general["serialNumber"] = "ZQ-EVERY-0001"
    general["puttingIntoService"] = "2026-10-19"
    general["registrationIdentifiers"] = {
        "economicOperatorIdentifier": "zq-authonly-eori-DE7734120",
        "manufacturerIdentifier": "zq-authonly-manufacturer-8812",
        "facilityIdentifier": "zq-authonly-facility-5519",
    }
    doc["conformity"]["resultOfTestReport"] = "https://notified-body.example.eu/zq-authonly-test-report-7731.pdf"
    doc["supplyChainDueDiligence"]["supplyChainIndices"] = 0.87
    composition = doc["composition"]
    composition["activeMaterials"] = {
        "cathode": "zq-restricted-cathode-NMC811", "anode": "zq-restricted-anode-graphite",
        "electrolyte": "zq-restricted-electrolyte-LiPF6", "separator": "zq-restricted-separator-PE",
    }
    composition["batteryMaterials"] = [
        {"batteryMaterialName": "zq-restricted-material-nickel", "batteryMaterialIdentifier": cas("9173625-48"),
         "batteryMaterialMass": 41.3729, "isCriticalRawMaterial": False,
         "batteryMaterialLocation": {"componentName": "zq-restricted-location-cathode",
                                     "componentId": "zq-restricted-component-17"}},
        {"batteryMaterialName": "zq-restricted-material-aluminium", "batteryMaterialIdentifier": cas("8264517-39"),
         "batteryMaterialMass": 87.0613, "isCriticalRawMaterial": False,
         "batteryMaterialLocation": {"componentName": "zq-restricted-location-housing",
                                     "componentId": "zq-restricted-component-29"}},
    ]
    for index, substance in enumerate(composition["hazardousSubstances"]):
        substance["hazardousSubstanceLocation"]["componentId"] = f"public-component-{index}"
    circularity = doc["circularity"]
    circularity["dismantlingAndRemovalInformation"] = [
        {"documentType": "DismantlingManual", "mimeType": "application/zq-restricted-manual",
         "documentURL": "https://service.example.com/zq-restricted-dismantling.pdf"},
    ]
    circularity["sparePartSources"] = [{
        "nameOfSupplier": "zq-restricted-supplier-name",
        "addressOfSupplier": {"streetAddress": "zq-restricted-street 9", "postalCode": "zq-restricted-77",
                              "addressLocality": "zq-restricted-town", "addressCountry": "AT"},
        "emailAddressOfSupplier": "zq-restricted-parts@spares.example.net",
        "supplierWebAddress": "https://spares.example.net/zq-restricted-shop",
        "components": [{"partName": "zq-restricted-part-module", "partNumber": "zq-restricted-PN-4411"}],
    }]
    circularity["safetyMeasures"]["safetyInstructions"] = "https://service.example.com/zq-restricted-safety.pdf"
    performance = doc["performance"]
    performance["expectedLifetime"] = 13.7291
    performance["initialSelfDischarge"] = 2.3917
    doc["condition"] = {
        "stateOfCertifiedEnergy": {"value": 97.3817, "lastUpdate": _stamp(1, 11)},
        "remainingCapacity": {"value": 183.4129, "lastUpdate": _stamp(1, 12)},
        "remainingEnergy": {"value": 71.9253, "lastUpdate": _stamp(1, 13)},
        "capacityFade": {"value": 3.4471, "lastUpdate": _stamp(1, 14)},
        "remainingPowerCapability": [
            {"atSoC": 79.3391, "powerCapabilityAt": 203917.4413, "lastUpdate": _stamp(1, 15)}],
        "powerFade": {"value": 2.9137, "lastUpdate": _stamp(1, 16)},
        "internalResistance": [
            {"ohmicResistance": 0.06431, "batteryComponent": "pack", "lastUpdate": _stamp(1, 17)}],
        "internalResistanceIncrease": [
            {"value": 4.1173, "batteryComponent": "pack", "lastUpdate": _stamp(1, 18)}],
        "remainingRoundTripEnergyEfficiency": {"value": 93.7713, "lastUpdate": _stamp(1, 19)},
        "roundTripEfficiencyFade": {"value": 1.2281, "lastUpdate": _stamp(1, 20)},
        "currentSelfDischargingRate": {"value": 1.8837, "lastUpdate": _stamp(1, 21)},
        "evolutionOfSelfDischarge": {"value": 0.7719, "lastUpdate": _stamp(1, 22)},
        "stateOfCharge": {"value": 57.1193, "lastUpdate": _stamp(1, 23)},
        "numberOfFullCycles": {"value": 7364519, "lastUpdate": _stamp(1, 24)},
        "energyThroughput": {"value": 4519.3371, "lastUpdate": _stamp(1, 25)},
        "capacityThroughput": {"value": 11873.2291, "lastUpdate": _stamp(1, 26)},
        "deepDischargeEvents": {"value": 8817263, "lastUpdate": _stamp(1, 27)},
        "overchargeEvents": {"value": 6627183, "lastUpdate": _stamp(1, 28)},
        "temperatureInformation": {
            "timeExtremeHighTemp": 17.4431, "timeExtremeLowTemp": 23.9917, "timeExtremeHighTempCharging": 5.1137,
            "timeExtremeLowTempCharging": 8.3319, "lastUpdate": _stamp(1, 29)},
        "negativeEvents": [{"negativeEvent": "zq-liveonly-negative-event-crash", "lastUpdate": _stamp(1, 30)}],
    }
    return doc


# Custody is recorded by custody events (the service fills holder, responsible operator, who and when): a transfer
# on the way, and the recycling with the recovered masses, which ceases the passport.
TRANSFER = {"type": "transfer", "to": "recycler", "note": "zq-liveonly-custody-note-transfer"}
RECYCLED = {"type": "recycled", "note": "zq-liveonly-custody-note-recycled",
            "recoveredMaterials": [{"material": "zq-liveonly-recovered-nickel", "mass": 3.7713}]}


def record_custody(context: ServiceContext, passport_id: str, organisation: str, event: Mapping[str, Any]) -> None:
    """A custody event, through the service (the HTTP route is another issue's)."""
    from passport.service.custody import Custody, parse_custody_event
    from passport.service.passports import Passports

    Custody(Passports(context)).apply(passport_id, organisation, parse_custody_event(json.dumps(event).encode()))


LINK_FIELDS = ("/general/predecessorPassports/-", "/general/successorPassports/-")


def leaf_values(document: Any, pointer: str = "") -> Iterator[tuple[str, Any]]:
    """(pointer with ``-`` for list items, scalar value) of every leaf value of a wire document."""
    if isinstance(document, Mapping):
        for key, value in document.items():
            if isinstance(value, Mapping) and pointer + "/" + key not in _MAP_FIELDS:
                yield from leaf_values(value, f"{pointer}/{key}")
            elif isinstance(value, Mapping):  # a language map (labelingMeaning): one field
                for text in value.values():
                    yield f"{pointer}/{key}", text
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, Mapping):
                        yield from leaf_values(item, f"{pointer}/{key}/-")
                    else:
                        yield f"{pointer}/{key}/-", item
            else:
                yield f"{pointer}/{key}", value


_MAP_FIELDS = frozenset({"/conformity/labels/-/labelingMeaning"})
LEAVES: Mapping[str, FieldNode] = {node.pointer: node for node in leaves(Passport)}


def audience(pointer: str) -> Audience:
    node = LEAVES.get(pointer)
    assert node is not None, f"{pointer} is not a field of the passport"
    assert node.audience is not None
    return node.audience


def assert_complete(*documents: Mapping[str, Any], except_pointers: tuple[str, ...] = ()) -> None:
    """Every leaf of the passport model has a value in one of ``documents``."""
    filled = {pointer for document in documents for pointer, _ in leaf_values(document)}
    missing = sorted(set(LEAVES) - filled - set(except_pointers))
    assert not missing, f"fields without a value: {missing}"


def text_forms(value: Any) -> list[str]:
    """How a value can appear in a response body (JSON and CSV write numbers and strings alike)."""
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, float):
        return [json.dumps(value), str(value)]
    return [str(value)]


@dataclass(frozen=True)
class Secrets:
    """The non-public values of a passport, per view: what must never appear in a response to that view."""

    by_view: Mapping[View, tuple[tuple[str, str], ...]]  # view -> (pointer, text) hidden from it

    @classmethod
    def of(cls, *documents: Mapping[str, Any], links: bool = True) -> Secrets:
        """The secrets of one or more full documents."""
        by_view: dict[View, tuple[tuple[str, str], ...]] = {}
        for view in View:
            visible = json.dumps([project(full, view) for full in documents], ensure_ascii=False)
            hidden = []
            for pointer, value in (item for full in documents for item in leaf_values(full)):
                if audience(pointer) in VIEW_AUDIENCES[view] or (pointer in LINK_FIELDS and not links):
                    continue
                if indistinct(pointer):  # "pack", "original", DIDs: other passports' values, public metadata
                    continue
                for text in text_forms(value):
                    if len(text) >= 5 and text not in visible:
                        hidden.append((pointer, text))
            by_view[view] = tuple(hidden)
        return cls(by_view)

    def leaked(self, view: View, body: str) -> list[tuple[str, str]]:
        return [(pointer, text) for pointer, text in self.by_view[view] if text in body]


def _enumerated(pointer: str) -> bool:
    element, _ = unwrap(LEAVES[pointer].annotation)
    return isinstance(element, type) and issubclass(element, Enum)


# Custody values the service writes that are also public metadata of every version: the DIDs of organisations (the
# issuer of a credential, the signer in the version list) and the times (``validFrom``, ``createdAt``).
SERVICE_METADATA = frozenset({"/custody/holder", "/custody/responsibleOperator", "/custody/events/-/by",
                              "/custody/events/-/to", "/custody/events/-/at"})


def indistinct(pointer: str) -> bool:
    """Fields whose values cannot be told apart by their text (enumerations, booleans, country codes, service
    metadata): no value of theirs is a meaningful sentinel; the structural checks (no such field in a response)
    cover them."""
    element, _ = unwrap(LEAVES[pointer].annotation)
    return (_enumerated(pointer) or element is bool or pointer.endswith("/addressCountry")
            or pointer in SERVICE_METADATA)


def jws_payload(compact: str) -> str:
    """The decoded payload of a compact JWS (a VC-JOSE enveloped credential)."""
    payload = compact.strip().split(".")[1]
    return base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode("utf-8")


def passports_in(value: Any) -> Iterator[Mapping[str, Any]]:
    """Every passport document inside a JSON response: ``passport`` members of envelopes, search rows and
    credential subjects."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key == "passport" and isinstance(item, Mapping):
                yield item
            else:
                yield from passports_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from passports_in(item)


def fields_outside(document: Mapping[str, Any], view: View) -> list[str]:
    """Pointers of values in ``document`` whose audience lies outside ``view`` (or that are no field at all)."""
    return sorted({pointer for pointer, _ in leaf_values(document)
                   if pointer not in LEAVES or audience(pointer) not in VIEW_AUDIENCES[view]})


__all__ = [
    "ADMIN",
    "ANONYMOUS",
    "AUTHORITY",
    "LEGITIMATE",
    "LINK_FIELDS",
    "NDJSON",
    "OTHER",
    "OTHER_ORG",
    "OWNER",
    "OWNER_ORG",
    "PROBLEM_JSON",
    "RECYCLED",
    "ROLES",
    "ROLE_VIEW",
    "SERVICE_METADATA",
    "TRANSFER",
    "Api",
    "ApiFactory",
    "Secrets",
    "api",
    "api_factory",
    "assert_complete",
    "cas",
    "every_field_document",
    "fields_outside",
    "indistinct",
    "jws_payload",
    "leaf_values",
    "passports_in",
    "record_custody",
    "seed_roles",
]
