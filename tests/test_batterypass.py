"""Battery Pass v1.2 export and import: valid against the published schemas, an exact round trip on everything
the Battery Pass model carries, and every field of our model either carried or listed in NOT_CARRIED."""

from __future__ import annotations

import copy
import json
import re
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import jsonschema
import pytest

from passport.batterypass import (
    ASPECTS,
    NOT_CARRIED,
    Conversion,
    from_batterypass,
    strip_not_carried,
    to_batterypass,
)
from passport.errors import ConversionError
from passport.models import Passport
from passport.models.introspect import all_fields, leaves

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "docs" / "examples").glob("passport-*.json"))
EV = ROOT / "docs" / "examples" / "passport-ev.json"
# Upstream defect (reference README): the GeneralProductInformation e-mail pattern lost its backslashes.
BROKEN_EMAIL_PATTERN = "^[w.-]+@[w.-]+.[A-Za-z]{2,}$"
EMAIL_PATTERN = r"^[\w.-]+@[\w.-]+\.[A-Za-z]{2,}$"
OPTIONAL_GROUPS = ("carbonFootprint", "supplyChainDueDiligence", "condition")


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def round_trip(document: dict[str, Any]) -> dict[str, Any]:
    return from_batterypass(to_batterypass(document).document).document


def minimal(document: dict[str, Any]) -> dict[str, Any]:
    """The example without any optional field or group but its id (BP's required fields get filled anyway)."""
    doc = copy.deepcopy(document)
    for key in OPTIONAL_GROUPS:
        doc.pop(key, None)
    for node in leaves(Passport):
        if not node.required and "/-" not in node.pointer and node.pointer != "/passportId":
            *path, last = node.pointer.split("/")[1:]
            parent = doc
            for part in path:
                parent = parent.get(part) or {}
            parent.pop(last, None)
    return doc


def values_at(node: Any, tokens: list[str]) -> Iterator[Any]:
    """The values a model pointer names in a document (``-``: every item; trailing ``-``: the whole list)."""
    if not tokens:
        yield node
        return
    head, rest = tokens[0], tokens[1:]
    if head == "-":
        if not rest:
            yield node
        for item in node if rest and isinstance(node, list) else []:
            yield from values_at(item, rest)
    elif isinstance(node, dict) and node.get(head) is not None:
        yield from values_at(node[head], rest)


def is_listed(pointer: str) -> bool:
    return any(pointer == listed or pointer.startswith(listed + "/") for listed, _ in NOT_CARRIED)


# --- the published schemas (third-party reference data) -----------------------------------------------------


def _repair_email_pattern(schema: Any) -> int:
    """Replace the broken e-mail pattern wherever it occurs; the number of replacements."""
    count = 0
    if isinstance(schema, dict):
        if schema.get("pattern") == BROKEN_EMAIL_PATTERN:
            schema["pattern"] = EMAIL_PATTERN
            count += 1
        count += sum(_repair_email_pattern(value) for value in schema.values())
    elif isinstance(schema, list):
        count += sum(_repair_email_pattern(value) for value in schema)
    return count


@pytest.fixture(scope="module")
def validators(reference_dir: Path) -> dict[str, Any]:
    """One Draft 4 validator per aspect, format checks on, the documented upstream defect repaired."""
    folder = reference_dir / "batterypass-1.2"
    result = {}
    for aspect in ASPECTS:
        schema = json.loads((folder / f"{aspect}-schema.json").read_text(encoding="utf-8"))
        repaired = _repair_email_pattern(schema)
        assert repaired == (1 if aspect == "GeneralProductInformation" else 0), aspect
        result[aspect] = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
    return result


def assert_valid(aspects: dict[str, Any], validators: dict[str, Any]) -> None:
    assert tuple(aspects) == ASPECTS
    problems = [f"{aspect}/{'/'.join(map(str, error.absolute_path))}: {error.message}"
                for aspect in ASPECTS for error in validators[aspect].iter_errors(aspects[aspect])]
    assert problems == []


@pytest.mark.reference
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_export_validates_against_the_battery_pass_schemas(path: Path, validators: dict[str, Any]) -> None:
    assert_valid(to_batterypass(load(path)).document, validators)


@pytest.mark.reference
def test_export_of_a_passport_without_optional_fields_validates(validators: dict[str, Any]) -> None:
    assert_valid(to_batterypass(minimal(load(EV))).document, validators)


@pytest.mark.reference
@pytest.mark.parametrize("aspect", ASPECTS)
def test_upstream_sample_payloads_convert_or_fail_cleanly(aspect: str, reference_dir: Path) -> None:
    """The samples hold random values: a result or a ConversionError, never a traceback or a NaN."""
    payload = json.loads((reference_dir / "batterypass-1.2" / f"{aspect}-payload.json").read_text("utf-8"))
    aspects = to_batterypass(load(EV)).document
    aspects[aspect] = payload
    try:
        result = from_batterypass(aspects)
    except ConversionError as exc:
        where = exc.detail
    else:
        json.dumps(result.document, allow_nan=False)
        where = f"/{aspect}/"
    assert where.startswith(f"/{aspect}/")


@pytest.mark.reference
def test_upstream_general_information_reads_with_a_gs1_identifier(reference_dir: Path) -> None:
    """The sample's identifier is random text; given a GS1 one, the rest of the sample reads."""
    folder = reference_dir / "batterypass-1.2"
    aspects = to_batterypass(load(EV)).document
    aspects["GeneralProductInformation"] = json.loads((folder / "GeneralProductInformation-payload.json")
                                                      .read_text("utf-8"))
    aspects["GeneralProductInformation"]["productIdentifier"] = "(01)09520123456788(21)X-1"
    result = from_batterypass(aspects)
    general = result.document["general"]
    assert (general["serialNumber"], general["batteryStatus"]) == ("X-1", "original")
    assert (general["manufacturingDate"], general["puttingIntoService"]) == ("2025-06-17", "2025-06-17")
    assert "passportId" not in result.document
    assert any("urn:bmwk:123456687678" in warning for warning in result.warnings)


@pytest.mark.reference
def test_all_upstream_sample_payloads_together(reference_dir: Path) -> None:
    folder = reference_dir / "batterypass-1.2"
    aspects = {name: json.loads((folder / f"{name}-payload.json").read_text("utf-8")) for name in ASPECTS}
    with pytest.raises(ConversionError, match="productIdentifier"):
        from_batterypass(aspects)


# --- round trip ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_round_trip_is_exact_on_everything_battery_pass_carries(path: Path) -> None:
    document = load(path)
    assert strip_not_carried(round_trip(document)) == strip_not_carried(document)


def test_round_trip_without_optional_fields_adds_nothing() -> None:
    document = minimal(load(EV))
    back = round_trip(document)
    assert strip_not_carried(back) == strip_not_carried(document)
    assert not set(OPTIONAL_GROUPS) & set(back)


def test_stage_footprints_become_shares_and_come_back_exactly() -> None:
    document = load(EV)
    document["carbonFootprint"]["batteryCarbonFootprint"] = 95.0
    stages = document["carbonFootprint"]["carbonFootprintPerLifecycleStage"]
    stages[1]["carbonFootprint"] = 35.5  # 35.5 % of 95 then back gives 35.50000000000001 without care
    aspect = to_batterypass(document).document["CarbonFootprintForBatteries"]
    shares = [stage["carbonFootprint"] for stage in aspect["carbonFootprintPerLifecycleStage"]]
    assert shares == pytest.approx([100 * s["carbonFootprint"] / 95.0 for s in stages])
    assert [s["lifecycleStage"] for s in aspect["carbonFootprintPerLifecycleStage"]] == [
        "RawMaterialExtraction", "MainProduction", "Distribution", "Recycling"]
    assert aspect["absoluteCarbonFootprint"] == pytest.approx(4900.0)  # t -> kg
    assert round_trip(document)["carbonFootprint"] == document["carbonFootprint"]


# --- value conversions --------------------------------------------------------------------------------------


def test_identifiers_dates_and_enumerations_take_the_battery_pass_form() -> None:
    aspects = to_batterypass(load(EV)).document
    general = aspects["GeneralProductInformation"]
    assert general["productIdentifier"] == "(01)09520123456788(21)VD75-2026-000142"
    assert general["batteryPassportIdentifier"] == "urn:uuid:01934b6e7c1a7d2e9a413f5b8c2d1e01"
    assert re.fullmatch(r"^urn:[a-z0-9]+:[a-z0-9]+$", general["batteryPassportIdentifier"])
    assert general["manufacturingDate"] == "2026-09-14T00:00:00Z"
    assert general["warrentyPeriod"] == "--09"  # 96 months from September 2026: ends in September
    assert general["batteryStatus"] == "Original"
    materials = [c["recycledMaterial"] for c in aspects["Circularity"]["recycledContent"]]
    assert materials == ["Cobalt", "Lithium", "Nickel"]
    back = from_batterypass(aspects).document
    assert back["passportId"] == "urn:uuid:01934b6e-7c1a-7d2e-9a41-3f5b8c2d1e01"
    assert back["general"]["gtin"] == "09520123456788"
    assert back["general"]["serialNumber"] == "VD75-2026-000142"


@pytest.mark.parametrize(("ours", "theirs"), [("original", "Original"), ("repurposed", "Repurposed"),
                                              ("re-used", "Reused"), ("remanufactured", "Remanufactured"),
                                              ("waste", "Waste")])
def test_status_values(ours: str, theirs: str) -> None:
    document = load(EV)
    document["general"]["batteryStatus"] = ours
    aspects = to_batterypass(document).document
    assert aspects["GeneralProductInformation"]["batteryStatus"] == theirs
    assert from_batterypass(aspects).document["general"]["batteryStatus"] == ours


def test_readings_keep_their_time_stamp_where_battery_pass_does() -> None:
    condition = to_batterypass(load(EV)).document["PerformanceAndDurability"]["batteryCondition"]
    assert condition["stateOfCertifiedEnergy"] == {"stateOfCertifiedEnergyValue": 100.0,
                                                   "lastUpdate": "2026-10-02T08:30:00Z"}
    assert condition["remainingEnergy"] == {"remainingEnergyalue": 75.0, "lastUpdate": "2026-10-02T08:30:00Z"}
    assert condition["powerFade"] == 0.0
    assert condition["roundTripEfficiencyat50PerCentCycleLife"] == 93.0


def test_lifetime_reference_test_travels_as_a_data_uri() -> None:
    technical = to_batterypass(load(EV)).document["PerformanceAndDurability"]["batteryTechicalProperties"]
    uri = technical["lifetimeReferenceTest"]
    assert uri.startswith("data:text/plain;charset=utf-8,")
    assert urllib.parse.unquote(uri.split(",", 1)[1]) == "IEC 62660-1:2018, clause 7.6 (cycle life test)"


def test_idle_temperature_is_the_upper_boundary_clamped_to_battery_pass_bounds() -> None:
    document = load(EV)
    document["performance"]["temperatureRangeIdleState"] = {"lower": -40.0, "upper": 70.0}
    technical = to_batterypass(document).document["PerformanceAndDurability"]["batteryTechicalProperties"]
    assert technical["temperatureRangeIdleState"] == 60.0


def test_placeholders_fill_required_fields_and_are_read_as_absent() -> None:
    aspects = to_batterypass(minimal(load(EV))).document
    technical = aspects["PerformanceAndDurability"]["batteryTechicalProperties"]
    condition = aspects["PerformanceAndDurability"]["batteryCondition"]
    assert aspects["GeneralProductInformation"]["puttingIntoService"] == "1970-01-01T00:00:00Z"
    assert technical["capacityThresholdForExhaustion"] == -1
    assert technical["lifetimeReferenceTest"] == "data:,"
    assert condition["stateOfCharge"] == {"stateOfChargeValue": -1, "lastUpdate": "1970-01-01T00:00:00Z"}
    assert aspects["CarbonFootprintForBatteries"]["carbonFootprintStudy"] == "data:,"
    assert aspects["SupplyChainDueDiligence"] == {"supplyChainDueDiligenceReport": "data:,"}
    back = from_batterypass(aspects).document
    assert "puttingIntoService" not in back["general"]
    assert "capacityThresholdForExhaustion" not in back["performance"]


# --- warnings -----------------------------------------------------------------------------------------------


def test_warnings_name_what_the_document_loses_and_only_that() -> None:
    warnings = to_batterypass(load(EV)).warnings
    assert any(w.startswith("/general/modelIdentifier:") for w in warnings)
    assert any("Carcinogenicity is not a Battery Pass hazard class" in w for w in warnings)
    assert not any("/0/hazardousSubstanceClass" in w for w in warnings)  # AcuteToxicity: carried
    quiet = to_batterypass(minimal(load(EV))).warnings
    assert not any(w.startswith(("/general/registrationIdentifiers", "/condition/")) for w in quiet)


def test_contact_email_outside_the_battery_pass_pattern_is_left_out() -> None:
    document = load(EV)
    document["general"]["operatorInformation"]["emailAddress"] = "compliance+bp@voltdrive.example.com"
    result = to_batterypass(document)
    assert "emailAddress" not in result.document["GeneralProductInformation"]["operatorInformation"]
    assert any(w.startswith("/general/operatorInformation/emailAddress:") for w in result.warnings)


def test_import_says_the_result_is_incomplete() -> None:
    result = from_batterypass(to_batterypass(load(EV)).document)
    assert any("modelIdentifier" in w for w in result.warnings)
    assert any(w.startswith("/GeneralProductInformation/warrentyPeriod:") for w in result.warnings)


# --- NOT_CARRIED is complete and true -----------------------------------------------------------------------


def test_not_carried_names_fields_of_the_model() -> None:
    pointers = {node.pointer for node in all_fields(Passport)}
    listed = [pointer for pointer, _ in NOT_CARRIED]
    assert [p for p in listed if p not in pointers] == []
    assert len(listed) == len(set(listed))
    assert all(reason.strip() for _, reason in NOT_CARRIED)


def _documents_covering_the_model() -> list[dict[str, Any]]:
    """The examples, and the EV example with the optional component identifiers no example sets."""
    documents = [load(path) for path in EXAMPLES]
    enriched = load(EV)
    enriched["composition"]["batteryMaterials"][0]["batteryMaterialLocation"]["componentId"] = "VD-CATH-811"
    enriched["composition"]["hazardousSubstances"][0]["hazardousSubstanceLocation"]["componentId"] = "VD-EL-1"
    return [*documents, enriched]


def test_every_field_is_carried_exactly_or_listed() -> None:
    """A field is carried when some document holds it and no round trip changes it. A new model field neither
    mapped nor listed fails here (if it is mapped, put it in an example or in the enrichment above)."""
    pointers = [node.pointer for node in leaves(Passport)]
    seen, lost = set(), set()
    for document in _documents_covering_the_model():
        back = round_trip(document)
        for pointer in pointers:
            tokens = pointer.split("/")[1:]
            found = list(values_at(document, tokens))
            seen |= {pointer} if found else set()
            lost |= {pointer} if found and found != list(values_at(back, tokens)) else set()
    carried = seen - lost
    assert [p for p in pointers if p not in carried and not is_listed(p)] == []
    not_exact = lost | (set(pointers) - seen)
    stale = [p for p, _ in NOT_CARRIED if not any(q == p or q.startswith(p + "/") for q in not_exact)]
    assert stale == []  # every entry loses something in some document (or no document holds it)


# --- bad input ----------------------------------------------------------------------------------------------


def test_passport_without_id_cannot_be_exported() -> None:
    document = load(EV)
    del document["passportId"]
    with pytest.raises(ConversionError, match="no passportId"):
        to_batterypass(document)


def test_invalid_passport_is_refused() -> None:
    document = load(EV)
    document["general"]["batteryMass"] = "452.5"
    with pytest.raises(ConversionError, match=r"not a valid passport: /general/batteryMass"):
        to_batterypass(document)
    with pytest.raises(ConversionError, match="JSON object"):
        to_batterypass(cast(Any, []))


def test_missing_aspect_is_refused() -> None:
    aspects = to_batterypass(load(EV)).document
    del aspects["Labeling"]
    with pytest.raises(ConversionError, match="missing: Labeling"):
        from_batterypass(aspects)
    with pytest.raises(ConversionError, match="aspect names"):
        from_batterypass(cast(Any, [aspects]))


@pytest.mark.parametrize("identifier", [
    "eOMtThyhVNLWUZNRcBaQKxI", "(01)0952012345678(21)X", "(01)09520123456788",
    "https://id.gs1.org/01/09520123456788/21/VD75-2026-000142",
])
def test_unparseable_product_identifier_is_refused(identifier: str) -> None:
    aspects = to_batterypass(load(EV)).document
    aspects["GeneralProductInformation"]["productIdentifier"] = identifier
    with pytest.raises(ConversionError, match="/GeneralProductInformation/productIdentifier"):
        from_batterypass(aspects)


RATED_CAPACITY = ("batteryTechicalProperties", "ratedCapacity")


@pytest.mark.parametrize(("aspect", "path", "value", "message"), [
    ("PerformanceAndDurability", RATED_CAPACITY, "190", "must be a finite"),
    ("PerformanceAndDurability", RATED_CAPACITY, True, "must be a finite"),
    ("PerformanceAndDurability", RATED_CAPACITY, float("nan"), "must be a finite"),
    ("PerformanceAndDurability", ("batteryCondition",), [], "must be an object"),
    ("Labeling", ("labels",), {"labelingSubject": "x"}, "must be a list"),
    ("Labeling", ("labels", 0, "labelingMeaning"), {"en": 1}, "must be an object of texts"),
    ("GeneralProductInformation", ("batteryStatus",), "Broken", "is not one of Original"),
    ("GeneralProductInformation", ("manufacturingDate",), "14.09.2026", "is not a date-time"),
    ("Circularity", ("recycledContent", 0, "recycledMaterial"), "Co", "is not one of Cobalt"),
    ("MaterialComposition", ("batteryChemistry",), None, "is required"),
])
def test_wrong_types_and_values_are_refused_with_their_pointer(
    aspect: str, path: tuple[str | int, ...], value: Any, message: str
) -> None:
    aspects = to_batterypass(load(EV)).document
    parent = aspects[aspect]
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value
    pointer = "/".join(str(step) for step in (aspect, *path))
    with pytest.raises(ConversionError, match=re.escape(f"/{pointer}: ") + ".*" + re.escape(message)):
        from_batterypass(aspects)


def test_foreign_passport_identifier_is_left_out_with_a_warning() -> None:
    aspects = to_batterypass(load(EV)).document
    aspects["GeneralProductInformation"]["batteryPassportIdentifier"] = "urn:bmwk:123456687678"
    result = from_batterypass(aspects)
    assert isinstance(result, Conversion)
    assert "passportId" not in result.document
    assert any("urn:bmwk:123456687678" in w for w in result.warnings)
