"""A realistic demo: several manufacturers and battery models (NMC, NCA, LFP, sodium-ion, lead-acid; EV, LMT,
industrial and stationary), a few hundred passports in every status, second-life chains, and recyclers with custody
transfers, dismantled and recycled batteries and recovered masses. Idempotent: loading it again changes nothing.

Built from the documented examples (docs/examples), varied per model and item; every document goes through the
same validation, signing and storage as any other."""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import json
import random
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from passport.errors import Conflict
from passport.rules import gs1_check_digit
from passport.service.apikeys import create_api_key
from passport.service.context import ServiceContext
from passport.service.custody import Custody, parse_custody_event
from passport.service.lifecycle import Lifecycle, StateOfHealth, StatusChange
from passport.service.models import BatteryModels, item_part, model_part
from passport.service.organisations import create_organisation
from passport.service.passports import Passports

# The demo varies the documented examples; they live in the repository (an editable install, as `make run` makes).
EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"
ORGANISATIONS: tuple[tuple[str, str, str], ...] = (
    ("voltdrive", "VoltDrive Batteries GmbH", "manufacturer"),
    ("pedalvolt", "PedalVolt e-Mobility BV", "manufacturer"),
    ("gridstore", "GridStore Energy Storage SAS", "manufacturer"),
    ("leadtrac", "LeadTrac Industrial Batteries S.p.A.", "manufacturer"),
    ("secondlife", "SecondLife Storage GmbH", "manufacturer"),
    ("collectco", "CollectCo Battery Collection GmbH", "legitimate_interest"),
    ("recyclex", "RecycleX Hydrometallurgy AB", "legitimate_interest"),
    ("fixit", "FixIt Battery Repair Ltd", "legitimate_interest"),
    ("fleetco", "FleetCo Vehicle Leasing SE", "legitimate_interest"),
    ("msa", "Federal Market Surveillance Authority", "authority"),
    ("operations", "Passport Service Operations", "admin"),
)


def gtin(base: str) -> str:
    """A GTIN-14 from 13 digits and the computed check digit."""
    return base + str(gs1_check_digit(base))


@dataclass(frozen=True)
class ModelSpec:
    organisation: str
    example: str
    gtin: str
    identifier: str
    name: str
    count: int
    tweak: Callable[[dict[str, Any]], None] | None = None


def _scale_materials(document: dict[str, Any], factor: float) -> None:
    for material in document["composition"]["batteryMaterials"]:
        material["batteryMaterialMass"] = round(material["batteryMaterialMass"] * factor, 3)
    document["general"]["batteryMass"] = round(document["general"]["batteryMass"] * factor, 2)


def _ev_58(document: dict[str, Any]) -> None:
    _scale_materials(document, 0.78)
    performance = document["performance"]
    performance.update(ratedCapacity=148.0, ratedEnergy=58.0, ratedMaximumPower=180000.0)
    document["composition"]["batteryChemistry"] = {
        "shortName": "NCA",
        "clearName": "Lithium nickel cobalt aluminium oxide (NCA) / graphite",
    }


def _lmt_500(document: dict[str, Any]) -> None:
    _scale_materials(document, 0.8)
    document["performance"].update(ratedCapacity=13.9, ratedEnergy=0.5)
    document["composition"]["batteryChemistry"] = {
        "shortName": "NMC",
        "clearName": "Lithium nickel manganese cobalt oxide (NMC 622)",
    }


def _sodium(document: dict[str, Any]) -> None:
    """The LFP cabinet turned into a sodium-ion one: no lithium, cobalt or nickel."""
    composition = document["composition"]
    composition["batteryChemistry"] = {
        "shortName": "Na-ion",
        "clearName": "Sodium-ion: Prussian white cathode / hard carbon anode",
    }
    composition["activeMaterials"] = {
        "cathode": "Na2Fe[Fe(CN)6] (Prussian white)",
        "anode": "Hard carbon",
        "electrolyte": "1.0 M NaPF6 in EC:DEC",
    }
    composition["batteryMaterials"] = [
        {
            "batteryMaterialName": "Sodium",
            "batteryMaterialIdentifier": "7440-23-5",
            "batteryMaterialMass": 31.0,
            "batteryMaterialLocation": {"componentName": "Cathode"},
            "isCriticalRawMaterial": False,
        },
        {
            "batteryMaterialName": "Iron",
            "batteryMaterialIdentifier": "7439-89-6",
            "batteryMaterialMass": 88.0,
            "batteryMaterialLocation": {"componentName": "Cathode"},
            "isCriticalRawMaterial": False,
        },
        {
            "batteryMaterialName": "Aluminium",
            "batteryMaterialIdentifier": "7429-90-5",
            "batteryMaterialMass": 190.0,
            "batteryMaterialLocation": {"componentName": "Current collectors and housing"},
            "isCriticalRawMaterial": False,
        },
    ]
    composition["criticalRawMaterials"] = []
    composition["hazardousSubstances"] = composition["hazardousSubstances"][:1]
    composition["hazardousSubstances"][0].update(
        hazardousSubstanceName="Sodium hexafluorophosphate", hazardousSubstanceIdentifier="21324-39-0"
    )
    document["circularity"]["recycledContent"] = []
    document["performance"].update(ratedEnergy=50.0, ratedCapacity=160.0)


def _lead_acid(document: dict[str, Any]) -> None:
    """An industrial traction battery, lead-acid, 48 V 625 Ah (30 kWh)."""
    composition = document["composition"]
    composition["batteryChemistry"] = {"shortName": "Pb-acid", "clearName": "Lead-acid, tubular positive plates"}
    composition["activeMaterials"] = {
        "cathode": "Lead dioxide",
        "anode": "Sponge lead",
        "electrolyte": "Sulphuric acid, 1.28 g/cm3",
    }
    composition["batteryMaterials"] = [
        {
            "batteryMaterialName": "Lead",
            "batteryMaterialIdentifier": "7439-92-1",
            "batteryMaterialMass": 620.0,
            "batteryMaterialLocation": {"componentName": "Plates"},
            "isCriticalRawMaterial": False,
        },
        {
            "batteryMaterialName": "Sulphuric acid",
            "batteryMaterialIdentifier": "7664-93-9",
            "batteryMaterialMass": 160.0,
            "batteryMaterialLocation": {"componentName": "Electrolyte"},
            "isCriticalRawMaterial": False,
        },
    ]
    composition["criticalRawMaterials"] = []
    composition["leadContent"] = 64.0
    composition["hazardousSubstances"] = [
        {
            "hazardousSubstanceName": "Sulphuric acid",
            "hazardousSubstanceIdentifier": "7664-93-9",
            "hazardousSubstanceClass": "SkinCorrosionOrIrritation",
            "hazardousSubstanceConcentration": 16.5,
            "hazardousSubstanceImpact": ["Causes severe skin burns and eye damage."],
            "hazardousSubstanceLocation": {"componentName": "Electrolyte"},
        }
    ]
    document["conformity"]["labels"].append(
        {
            "labelingSubject": "HazardousMaterial",
            "labelingSymbol": "https://www.leadtrac.example.com/labels/pb.svg",
            "labelingMeaning": {"en": "Contains lead (Pb): return for recycling.", "de": "Enthält Blei (Pb)."},
        }
    )
    document["circularity"]["recycledContent"] = [
        {"recycledMaterial": "Pb", "preConsumerShare": 10.0, "postConsumerShare": 78.0}
    ]
    document["general"].update(batteryCategory="industrial", batteryMass=960.0)
    document["performance"].update(
        ratedCapacity=625.0,
        ratedEnergy=30.0,
        nominalVoltage=48.0,
        minimumVoltage=42.0,
        maximumVoltage=57.6,
        ratedMaximumPower=15000.0,
    )


MODELS: tuple[ModelSpec, ...] = (
    ModelSpec("voltdrive", "passport-ev", gtin("0952012345678"), "VD-75-NMC811", "VoltDrive 75 kWh traction pack", 80),
    ModelSpec(
        "voltdrive", "passport-ev", gtin("0952012345690"), "VD-58-NCA", "VoltDrive 58 kWh compact pack", 50, _ev_58
    ),
    ModelSpec("pedalvolt", "passport-lmt", gtin("0952012345679"), "PV-625-NCA", "PedalVolt 625 Wh frame battery", 60),
    ModelSpec(
        "pedalvolt", "passport-lmt", gtin("0952012345691"), "PV-500-NMC", "PedalVolt 500 Wh rack battery", 40, _lmt_500
    ),
    ModelSpec("gridstore", "passport-industrial", gtin("0871234567890"), "SEC100-LFP", "GridStore 100 kWh cabinet", 40),
    ModelSpec(
        "gridstore",
        "passport-industrial",
        gtin("0871234567892"),
        "SEC50-NA",
        "GridStore 50 kWh sodium-ion",
        20,
        _sodium,
    ),
    ModelSpec(
        "leadtrac",
        "passport-industrial",
        gtin("0952012345692"),
        "LT-48-625",
        "LeadTrac 48 V 625 Ah traction",
        20,
        _lead_acid,
    ),
)


def _example(name: str) -> dict[str, Any]:
    path = EXAMPLES / f"{name}.json"
    if not path.is_file():
        from passport.errors import ConfigurationError

        raise ConfigurationError(
            f"the demo needs the repository's docs/examples ({path} is missing): run it from an "
            "editable install of the repository (make run)"
        )
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _model_document(spec: ModelSpec, organisation_name: str) -> dict[str, Any]:
    document = _example(spec.example)
    document.pop("passportId", None)
    if spec.tweak:
        spec.tweak(document)
    general = document["general"]
    general.update(gtin=spec.gtin, modelIdentifier=spec.identifier, modelName=spec.name)
    general["manufacturerInformation"]["contactName"] = organisation_name
    if general["batteryCategory"] != "ev":
        document["performance"].pop("capacityThresholdForExhaustion", None)
    return model_part(document)


def _item(spec: ModelSpec, index: int, rng: random.Random, organisation_name: str) -> dict[str, Any]:
    document = item_part(_example(spec.example))
    document.pop("passportId", None)
    general = document["general"]
    made = dt.date(2026, 1, 5) + dt.timedelta(days=rng.randrange(0, 300))
    general.update(
        serialNumber=f"{spec.identifier.replace('-', '')[:6]}-{index:05d}",
        manufacturingDate=made.isoformat(),
        batchNumber=f"L{made:%y%m}",
    )
    general["puttingIntoService"] = (made + dt.timedelta(days=rng.randrange(10, 20))).isoformat()
    general["operatorInformation"]["contactName"] = organisation_name
    condition = document.get("condition")
    if condition:
        document["condition"] = _condition_for(spec, condition, made)
    return document


def _condition_for(spec: ModelSpec, condition: dict[str, Any], made: dt.date) -> dict[str, Any]:
    stamp = f"{made + dt.timedelta(days=20)}T08:00:00Z"
    condition = copy.deepcopy(condition)
    for value in condition.values():
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, dict) and "lastUpdate" in item:
                item["lastUpdate"] = stamp
    if spec.tweak in (_sodium, _lead_acid, _lmt_500, _ev_58):
        # readings sized for the original example do not fit a smaller or different battery: keep the state of
        # health the category needs, drop the rest
        keep = {"ev": "stateOfCertifiedEnergy"}.get(spec.example.removeprefix("passport-"), "remainingCapacity")
        condition = {key: value for key, value in condition.items() if key in (keep, "stateOfCharge")}
        if "remainingCapacity" in condition:
            condition["remainingCapacity"]["value"] = (
                100.0 if spec.tweak is _sodium else 600.0 if (spec.tweak is _lead_acid) else 13.5
            )
    return condition


@dataclass
class DemoResult:
    passports: int
    keys: dict[str, str]
    samples: list[tuple[str, str]]  # (label, canonical Digital Link URI)
    created: bool


def _passports_exist(context: ServiceContext) -> bool:
    try:
        context.store.get_organisation("voltdrive")
    except Exception:
        return False
    return True


def load(context: ServiceContext, keys_file: Path | None = None, count: int | None = None) -> DemoResult:
    """Load the demo once; on a database that already has it, only report what is there."""
    if _passports_exist(context):
        keys = json.loads(keys_file.read_text()) if keys_file and keys_file.is_file() else {}
        return DemoResult(context.store.count_passports(), keys, _samples(context), False)
    keys = _organisations(context)
    if keys_file is not None:
        _write_secret(keys_file, json.dumps(keys, indent=2) + "\n")
    rng = random.Random(20270218)  # noqa: S311 - not for secrets: the same demo every time
    issued, models = _issue_all(context, rng, count)
    _lifecycles(context, issued, rng)
    _access(context, issued, models)
    return DemoResult(context.store.count_passports(), keys, _samples(context), True)


def _write_secret(path: Path, text: str) -> None:
    import os

    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, 0o600)


def _organisations(context: ServiceContext) -> dict[str, str]:
    keys: dict[str, str] = {}
    for slug, name, role in ORGANISATIONS:
        with contextlib.suppress(Conflict):
            create_organisation(context, slug, name)
        _, token = create_api_key(context, slug, role, "demo")
        keys[f"{role}:{slug}"] = token
    return keys


def _issue_all(
    context: ServiceContext, rng: random.Random, count: int | None
) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Passports and model ids, by model identifier."""
    names = {slug: name for slug, name, _ in ORGANISATIONS}
    passports = Passports(context)
    issued: dict[str, list[str]] = {}
    models: dict[str, str] = {}
    scale = 1.0 if count is None else count / sum(spec.count for spec in MODELS)
    for spec in MODELS:
        model, _ = BatteryModels(context).register(spec.organisation, _model_document(spec, names[spec.organisation]))
        ids = []
        for index in range(1, max(1, round(spec.count * scale)) + 1):
            item = _item(spec, index, rng, names[spec.organisation])
            ids.append(passports.issue(spec.organisation, item, model.model_id).passport_id)
        issued[spec.identifier], models[spec.identifier] = ids, model.model_id
    return issued, models


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


def _access(context: ServiceContext, issued: dict[str, list[str]], models: dict[str, str]) -> None:
    """Who else may read what (Art. 77(2)): approved purposes, grants by manufacturer, model and passport, a revoked
    grant, an owner, and access requests approved, refused and pending, as the access API would record them."""
    from passport.access import Role
    from passport.service import access_management as access
    from passport.service.apikeys import Caller

    def caller(slug: str) -> Caller:
        role = {s: r for s, _, r in ORGANISATIONS}[slug]
        return Caller(Role(role), None if role == "admin" else slug)

    admin = Caller(Role.ADMIN, "operations")
    for slug, purpose in (
        ("recyclex", "recycler"),
        ("collectco", "recycler"),
        ("fixit", "repairer"),
        ("fleetco", "aggregator"),
    ):
        access.request_purpose(context, caller(slug), purpose)
        access.decide_purpose(context, admin, slug, purpose, approve=True)
    later = context.clock() + dt.timedelta(days=730)
    access.grant(context, caller("voltdrive"), "recyclex", "manufacturer", "voltdrive", "recycler", later)
    access.grant(context, caller("pedalvolt"), "fixit", "model", models["PV-625-NCA"], "repairer", later)
    revoked = access.grant(context, caller("gridstore"), "recyclex", "model", models["SEC100-LFP"], "recycler", later)
    access.revoke_grant(context, caller("gridstore"), revoked.grant_id)
    fleet = [p for p in issued["VD-75-NMC811"] if not context.store.get_passport(p).ceased][-5:]
    for passport_id in fleet:
        access.set_owner(context, caller("voltdrive"), passport_id, "fleetco")
    lfp = issued["SEC100-LFP"][-1]
    approved = access.request_access(
        context,
        caller("fixit"),
        "passport",
        lfp,
        "repairer",
        "Inverter fault on site; we need the dismantling and safety data.",
    )
    access.decide_request(context, caller("gridstore"), approved.request_id, True, later, None)
    refused = access.request_access(
        context, caller("fixit"), "model", models["LT-48-625"], "repairer", "Routine maintenance contract negotiation."
    )
    access.decide_request(
        context,
        caller("leadtrac"),
        refused.request_id,
        False,
        None,
        "No maintenance contract with FixIt; ask the fleet operator.",
    )
    access.request_access(
        context,
        caller("fixit"),
        "manufacturer",
        "voltdrive",
        "repairer",
        "Independent repair of VoltDrive packs (Art. 77(2)(b)).",
    )


def _samples(context: ServiceContext) -> list[tuple[str, str]]:
    """Three passports worth opening: an EV pack, an e-bike battery and a stationary unit, each still in service."""
    from passport.storage import SearchQuery

    wanted = (
        (gtin("0952012345678"), "EV traction pack (NMC)"),
        (gtin("0952012345679"), "E-bike battery (NCA)"),
        (gtin("0871234567890"), "Stationary storage (LFP)"),
    )
    found = []
    for code, label in wanted:
        rows = context.store.search(
            SearchQuery(gtin=code, status="original", include_ceased=False, limit=20), ["public"]
        )
        if rows:
            record = rows[len(rows) // 2][0]
            found.append((label, context.urls.digital_link(record.gtin, record.serial)))
    return found


def iter_roles() -> Iterator[tuple[str, str, str]]:
    yield from ORGANISATIONS


__all__ = ["ORGANISATIONS", "DemoResult", "load"]
