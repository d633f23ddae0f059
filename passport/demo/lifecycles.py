"""The demo's lifecycles: batteries handed in as waste, collected, dismantled and recycled (with recovered masses),
EV packs given a second life under a successor passport, and state-of-health updates, each through the same
lifecycle and custody services as any other."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Mapping
from typing import Any

from passport.demo.data import MODELS, ModelSpec, gtin
from passport.service.context import ServiceContext
from passport.service.custody import Custody, parse_custody_event
from passport.service.lifecycle import Lifecycle, StateOfHealth, StatusChange
from passport.service.passports import Passports


def _event(custody: Custody, passport_id: str, organisation: str, body: Mapping[str, Any]) -> None:
    custody.apply(passport_id, organisation, parse_custody_event(json.dumps(body).encode()))


def _lifecycles(context: ServiceContext, issued: dict[str, list[str]], rng: random.Random) -> None:
    passports = Passports(context)
    lifecycle, custody = Lifecycle(passports), Custody(passports)
    for spec in MODELS:
        ids = issued[spec.identifier]
        for position, passport_id in enumerate(ids):
            share = position / max(1, len(ids))
            if share < 0.12:
                _recycle(lifecycle, custody, passport_id, spec, rng, position % 3)
            elif share < 0.20:
                _waste(lifecycle, custody, passport_id, spec, position % 3)
            elif share < 0.30 and spec.example == "passport-ev":
                _second_life(lifecycle, passport_id, spec, rng)
            elif share < 0.55:
                _health_update(lifecycle, passport_id, spec, rng)


def _waste(lifecycle: Lifecycle, custody: Custody, passport_id: str, spec: ModelSpec, stage: int) -> None:
    lifecycle.apply(passport_id, spec.organisation, StatusChange(type="status-change", status="waste"))
    _event(custody, passport_id, spec.organisation, {"type": "transfer", "to": "collectco"})
    if stage >= 1:
        _event(custody, passport_id, "collectco", {"type": "collected", "note": "Collection point Hannover-Nord"})
    if stage >= 2:
        _event(custody, passport_id, "collectco", {"type": "transfer", "to": "recyclex"})
        _event(custody, passport_id, "recyclex", {"type": "received-for-treatment"})


def _recycle(
    lifecycle: Lifecycle, custody: Custody, passport_id: str, spec: ModelSpec, rng: random.Random, variant: int
) -> None:
    _waste(lifecycle, custody, passport_id, spec, 2)
    if variant:
        _event(custody, passport_id, "recyclex", {"type": "dismantled", "note": "Pack opened, modules discharged"})
    document = lifecycle.passports.current_document(passport_id)
    recovered = []
    for material in document["composition"]["batteryMaterials"]:
        name, mass = material["batteryMaterialName"], material["batteryMaterialMass"]
        if name in ("Cobalt", "Nickel", "Lithium", "Copper", "Lead", "Manganese", "Aluminium"):
            efficiency = {"Lithium": rng.uniform(0.55, 0.85)}.get(name, rng.uniform(0.88, 0.97))
            recovered.append({"material": name, "mass": round(mass * efficiency, 3)})
    _event(
        custody,
        passport_id,
        "recyclex",
        {"type": "recycled", "recoveredMaterials": recovered, "note": "Hydrometallurgical treatment"},
    )


def _health_update(lifecycle: Lifecycle, passport_id: str, spec: ModelSpec, rng: random.Random) -> None:
    document = lifecycle.passports.current_document(passport_id)
    condition = document.get("condition") or {}
    stamp = "2026-11-20T06:00:00Z"
    readings: dict[str, Any] = {"stateOfCharge": {"value": round(rng.uniform(20, 90), 1), "lastUpdate": stamp}}
    if "stateOfCertifiedEnergy" in condition:
        readings["stateOfCertifiedEnergy"] = {"value": round(rng.uniform(91, 99.5), 1), "lastUpdate": stamp}
    if "remainingCapacity" in condition:
        rated = document["performance"]["ratedCapacity"]
        readings["remainingCapacity"] = {"value": round(rated * rng.uniform(0.9, 0.99), 2), "lastUpdate": stamp}
    from passport.models.condition import BatteryCondition

    event = StateOfHealth(
        type="state-of-health",
        condition=BatteryCondition.model_validate_json(json.dumps(readings), by_alias=True, by_name=False),
    )
    lifecycle.apply(passport_id, spec.organisation, event)


def _second_life(lifecycle: Lifecycle, passport_id: str, spec: ModelSpec, rng: random.Random) -> None:
    """An EV pack becomes a stationary storage unit of SecondLife: a successor passport, linked both ways."""
    custody = Custody(lifecycle.passports)
    _event(custody, passport_id, spec.organisation, {"type": "delegation", "to": "secondlife"})
    successor = copy.deepcopy(lifecycle.passports.current_document(passport_id))
    successor.pop("passportId", None)
    successor.pop("custody", None)
    general = successor["general"]
    serial = general["serialNumber"]
    general.update(
        gtin=gtin("0952012345693"),
        serialNumber=f"SL-{serial[-5:]}",
        modelIdentifier="SL-2L-ESS",
        modelName="SecondLife storage unit (former EV pack)",
        batteryCategory="stationary",
        manufacturingDate="2026-11-02",
        puttingIntoService="2026-11-10",
    )
    general.pop("successorPassports", None)
    general["operatorInformation"]["contactName"] = "SecondLife Storage GmbH"
    successor["performance"].pop("capacityThresholdForExhaustion", None)
    condition = successor.get("condition") or {}
    soce = condition.pop("stateOfCertifiedEnergy", {"value": 80.0})
    rated = successor["performance"]["ratedCapacity"]
    condition["remainingCapacity"] = {
        "value": round(rated * soce["value"] / 100, 2),
        "lastUpdate": "2026-11-10T08:00:00Z",
    }
    successor["condition"] = condition
    status = ("repurposed", "re-used", "remanufactured")[rng.randrange(3)]
    lifecycle.repurpose(passport_id, "secondlife", status, successor)
