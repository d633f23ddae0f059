"""The demo's data: its organisations and their roles, the battery models each manufacturer registers (how each
varies a documented example of docs/examples), and the model and item documents built from them."""

from __future__ import annotations

import copy
import datetime as dt
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from passport.rules import gs1_check_digit
from passport.service.models import item_part, model_part

# The demo varies the documented examples; they live in the repository (an editable install, as `make run` makes):
# parents[2] is its root, this file being passport/demo/data.py.
EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
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
