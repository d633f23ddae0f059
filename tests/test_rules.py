"""Business rules, each on its own: one document breaking it, the code and pointer reported."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest

from passport.errors import DocumentInvalid
from passport.rules import RULES, RuleContext, cas_is_valid, check_rules, gs1_check_digit, gtin_is_valid
from passport.validation import check, parse_passport

NOW = RuleContext(now=dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC))
Doc = dict[str, Any]


def findings(document: Doc) -> list[tuple[str, str, str]]:
    passport = parse_passport(json.dumps(document).encode())
    return [(p.code, p.severity, p.pointer) for p in check_rules(passport, NOW)]


@pytest.mark.parametrize(
    ("gtin", "valid"),
    [("09520123456788", True), ("09520123456789", False), ("4006381333931", True), ("96385074", True),
     ("036000291452", True), ("036000291453", False), ("12345", False), ("abcdefghijklmn", False),
     ("0952012345678²", False), ("٠٩٥٢٠١٢٣٤٥٦٧٨٨", False)],  # non-ASCII digits (superscript, Arabic-Indic)
)
def test_gtin_check_digit(gtin: str, valid: bool) -> None:
    assert gtin_is_valid(gtin) is valid


def test_gs1_check_digit_known_values() -> None:
    assert gs1_check_digit("0952012345678") == 8
    assert gs1_check_digit("400638133393") == 1


@pytest.mark.parametrize(
    ("cas", "valid"),
    [("7440-48-4", True), ("7439-93-2", True), ("7732-18-5", True), ("7440-48-5", False), ("21324-40-3", True),
     ("1-1-1", False), ("744²-48-4", False)],
)
def test_cas_check_digit(cas: str, valid: bool) -> None:
    assert cas_is_valid(cas) is valid


def test_valid_example_has_no_findings(example: Callable[[str], Doc]) -> None:
    assert findings(example("passport-ev")) == []


def _set(document: Doc, path: str, value: Any) -> Doc:
    *parents, last = path.strip("/").split("/")
    target: Any = document
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if isinstance(target, list):
        target[int(last)] = value
    elif value is _DELETE:
        del target[last]
    else:
        target[last] = value
    return document


_DELETE = object()

CASES: list[tuple[str, list[tuple[str, Any]], str, str, str]] = [
    ("recycled-sum", [("/circularity/recycledContent/0/preConsumerShare", 54.4),
                      ("/circularity/recycledContent/0/postConsumerShare", 56.9)],
     "recycled-share-sum", "error", "/circularity/recycledContent/0"),
    ("recycled-twice", [("/circularity/recycledContent/1/recycledMaterial", "Co")],
     "recycled-metal-once", "error", "/circularity/recycledContent/1/recycledMaterial"),
    ("mass", [("/general/batteryMass", 100.0)], "material-mass", "error", "/composition/batteryMaterials"),
    ("gtin", [("/general/gtin", "09520123456789")], "gtin-check-digit", "error", "/general/gtin"),
    ("cas", [("/composition/batteryMaterials/0/batteryMaterialIdentifier", "7440-02-1")],
     "cas-check-digit", "error", "/composition/batteryMaterials/0/batteryMaterialIdentifier"),
    ("voltage", [("/performance/minimumVoltage", 400.0)], "voltage-order", "error", "/performance/nominalVoltage"),
    ("idle-range", [("/performance/temperatureRangeIdleState", {"lower": 60.0, "upper": -40.0})],
     "temperature-range-order", "error", "/performance/temperatureRangeIdleState"),
    ("future-manufacture", [("/general/manufacturingDate", "2027-01-01"), ("/general/puttingIntoService", _DELETE)],
     "date-order", "error", "/general/manufacturingDate"),
    ("service-before-manufacture", [("/general/puttingIntoService", "2026-01-01")],
     "date-order", "error", "/general/puttingIntoService"),
    ("future-reading", [("/condition/stateOfCharge/lastUpdate", "2026-12-01T00:00:00Z")],
     "date-order", "error", "/condition/stateOfCharge/lastUpdate"),
    ("carbon-sum", [("/carbonFootprint/batteryCarbonFootprint", 80.0)],
     "carbon-stage-sum", "warning", "/carbonFootprint/carbonFootprintPerLifecycleStage"),
    ("carbon-stage-twice", [("/carbonFootprint/carbonFootprintPerLifecycleStage/3/lifecycleStage", "distribution")],
     "carbon-stage-once", "error", "/carbonFootprint/carbonFootprintPerLifecycleStage"),
    ("no-threshold-ev", [("/performance/capacityThresholdForExhaustion", _DELETE)],
     "category-requirements", "error", "/performance/capacityThresholdForExhaustion"),
    ("no-cycles-ev", [("/performance/expectedNumberOfCycles", _DELETE)],
     "category-requirements", "error", "/performance/expectedNumberOfCycles"),
    ("no-soce-ev", [("/condition/stateOfCertifiedEnergy", _DELETE)],
     "state-of-health-kind", "warning", "/condition/stateOfCertifiedEnergy"),
    ("no-separate-collection", [("/conformity/labels/0/labelingSubject", "CarbonFootPrint")],
     "separate-collection-label", "error", "/conformity/labels"),
    ("lead-unmarked", [("/composition/leadContent", 0.01)], "cd-pb-marking", "error", "/conformity/labels"),
    ("rte", [("/performance/roundTripEfficiencyAt50PercentCycleLife", 96.0)],
     "round-trip-efficiency-order", "warning", "/performance/roundTripEfficiencyAt50PercentCycleLife"),
    ("no-cell-resistance", [("/performance/initialInternalResistance/2/batteryComponent", "module")],
     "internal-resistance-components", "error", "/performance/initialInternalResistance"),
    ("power-soc", [("/performance/originalPowerCapability/1/atSoC", 50.0)],
     "power-at-soc", "warning", "/performance/originalPowerCapability"),
    ("repurposed-without-link", [("/general/batteryStatus", "repurposed")],
     "second-life-links", "error", "/general/predecessorPassports"),
    ("original-with-link", [("/general/predecessorPassports", ["urn:uuid:01934b6e-7c1a-7d2e-9a41-3f5b8c2d1e99"])],
     "second-life-links", "error", "/general/predecessorPassports"),
    ("self-link", [("/general/batteryStatus", "re-used"),
                   ("/general/predecessorPassports", ["urn:uuid:01934b6e-7c1a-7d2e-9a41-3f5b8c2d1e01"])],
     "second-life-links", "error", "/general/predecessorPassports"),
    ("remaining-capacity", [("/condition/remainingCapacity", {"value": 300.0, "lastUpdate": "2026-10-02T08:30:00Z"})],
     "remaining-capacity", "warning", "/condition/remainingCapacity/value"),
    ("crm-not-listed", [("/composition/criticalRawMaterials", ["Nickel"])],
     "critical-raw-materials", "warning", "/composition/criticalRawMaterials"),
]


@pytest.mark.parametrize(("changes", "code", "severity", "pointer"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rule_reports(
    example: Callable[[str], Doc], changes: list[tuple[str, Any]], code: str, severity: str, pointer: str
) -> None:
    document = example("passport-ev")
    for path, value in changes:
        _set(document, path, value)
    assert (code, severity, pointer) in findings(document)


def test_ev_rules_on_other_categories(example: Callable[[str], Doc]) -> None:
    document = example("passport-ev")
    document["general"]["batteryCategory"] = "stationary"
    found = findings(document)
    assert ("category-requirements", "error", "/performance/capacityThresholdForExhaustion") in found
    assert ("category-requirements", "error", "/condition/stateOfCertifiedEnergy") in found
    assert ("state-of-health-kind", "warning", "/condition/remainingCapacity") in found
    document["performance"]["ratedEnergy"] = 1.5
    assert ("passport-scope", "warning", "/performance/ratedEnergy") in findings(document)


def test_lmt_needs_cycle_life_data(example: Callable[[str], Doc]) -> None:
    document = example("passport-ev")
    document["general"]["batteryCategory"] = "lmt"
    del document["performance"]["capacityThresholdForExhaustion"]
    del document["condition"]["stateOfCertifiedEnergy"]
    del document["performance"]["cRateLifeCycleTest"]
    assert ("category-requirements", "error", "/performance/cRateLifeCycleTest") in findings(document)


def test_errors_reject_and_warnings_pass(example: Callable[[str], Doc]) -> None:
    document = example("passport-ev")
    document["carbonFootprint"]["batteryCarbonFootprint"] = 80.0
    checked = check(json.dumps(document).encode(), NOW)
    assert [w.code for w in checked.warnings] == ["carbon-stage-sum"]
    document["general"]["gtin"] = "09520123456789"
    with pytest.raises(DocumentInvalid) as caught:
        check(json.dumps(document).encode(), NOW)
    assert {p.code for p in caught.value.problems} == {"gtin-check-digit", "carbon-stage-sum"}


def test_rule_codes_are_unique_and_documented() -> None:
    codes = [rule.code for rule in RULES]
    assert len(codes) == len(set(codes))
    assert all(rule.summary and rule.severity in ("error", "warning") for rule in RULES)
    assert {case[2] for case in CASES} == set(codes) - {"passport-scope"}
