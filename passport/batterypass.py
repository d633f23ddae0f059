"""The passport as the seven Battery Pass data model v1.2 aspect documents (DIN DKE SPEC 99100), and back.

:func:`to_batterypass` writes the aspects with the names and values of the published v1.2 JSON Schemas, their
misspellings included (``warrentyPeriod``, ``batteryTechicalProperties``, ``thirdPartyAussurances``, ...);
each validates against its schema once GeneralProductInformation's broken e-mail pattern is repaired (see the
reference README). :func:`from_batterypass` reads them back. Where the models differ:

- productIdentifier is the GS1 element string ``(01)<GTIN>(21)<serial>``; batteryPassportIdentifier is
  ``urn:uuid:`` and 32 hex digits, as BP's pattern ``^urn:[a-z0-9]+:[a-z0-9]+$`` admits no hyphen (the import
  puts them back). Dates become ``YYYY-MM-DDT00:00:00Z``; status, stages and metals take BP's enumerations.
- Stage footprints become shares of the total in % (BP's definition), the absolute footprint kg CO2e (ours t);
  the import inverts both exactly for values of up to 15 significant digits. The lifetime reference test, a
  name with us, travels as a ``data:`` URI because BP wants a URI.
- Values BP requires and we lack get placeholders (:mod:`passport.batterypass_values`), left out on import.
- :data:`NOT_CARRIED` lists what BP cannot carry exactly; the export warns about each one the document holds,
  and leaves out contact e-mail addresses outside BP's pattern (``+``, ``%``), with a warning.

The import holds what BP carries, nothing else: it lacks the NOT_CARRIED fields (the required model identifier
among them), so it is no complete passport. :func:`strip_not_carried` makes the two sides comparable.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from passport import batterypass_values as bp
from passport.batterypass_values import Reader, give
from passport.errors import ConversionError
from passport.models.passport import Passport

ASPECTS: tuple[str, ...] = ("GeneralProductInformation", "MaterialComposition", "CarbonFootprintForBatteries",
                             "Circularity", "PerformanceAndDurability", "Labeling", "SupplyChainDueDiligence")

_NO_TOWN = "The Battery Pass postal address has street, postal code and country only, no town."
_NO_STAMP = "Battery Pass v1.2 gives this value without the time it was recorded."
_NO_LINKS = "Battery Pass v1.2 has no links between the passports of a battery's lives (Art. 77(7))."
_NO_CONTENT = "Battery Pass v1.2 has no lead, cadmium or mercury content."

NOT_CARRIED: tuple[tuple[str, str], ...] = (
    ("/general/modelIdentifier", "Battery Pass v1.2 has no model identification."),
    ("/general/modelName", "Battery Pass v1.2 has no model name."),
    ("/general/batchNumber", "productIdentifier carries GTIN and serial only, as the GS1 element string "
     "(01)GTIN(21)serial."),
    ("/general/manufacturingPlace/facilityName", "The Battery Pass manufacturing place is an address only."),
    ("/general/manufacturingPlace/addressLocality", _NO_TOWN),
    ("/general/warrantyPeriod", "warrentyPeriod is an xsd:gMonth (--MM): the export gives the month the "
     "warranty ends (month of manufacture plus the period), which loses the year and is not read back."),
    ("/general/manufacturerInformation/postalAddress/addressLocality", _NO_TOWN),
    ("/general/operatorInformation/postalAddress/addressLocality", _NO_TOWN),
    ("/general/registrationIdentifiers", "Battery Pass v1.2 has no registry identifiers."),
    ("/general/predecessorPassports/-", _NO_LINKS),
    ("/general/successorPassports/-", _NO_LINKS),
    ("/conformity/declarationOfConformityId", "Labeling links the declaration of conformity, no number."),
    ("/conformity/instructionsForUse", "Battery Pass v1.2 has no instructions for use."),
    ("/composition/activeMaterials", "Battery Pass v1.2 lists materials by CAS number, without the cathode, "
     "anode, electrolyte and separator descriptions."),
    ("/composition/hazardousSubstances/-/hazardousSubstanceClass", "BP knows AcuteToxicity, "
     "SkinCorrosionOrIrritation and EyeDamageOrIrritation only; other classes go as AcuteToxicity."),
    ("/composition/criticalRawMaterials/-", "Battery Pass v1.2 flags each material (isCriticalRawMaterial) "
     "but has no list of critical raw materials."),
    ("/composition/leadContent", _NO_CONTENT),
    ("/composition/cadmiumContent", _NO_CONTENT),
    ("/composition/mercuryContent", _NO_CONTENT),
    ("/circularity/sparePartSources/-/addressOfSupplier/addressLocality", _NO_TOWN),
    ("/performance/voltageTemperatureRange", "Battery Pass v1.2 gives voltages without a temperature range."),
    ("/performance/powerTemperatureRange", "Battery Pass v1.2 gives power without a temperature range."),
    ("/performance/temperatureRangeIdleState", "BP has one number, bounded to -20..60 °C: the export gives "
     "the upper boundary, clamped to those bounds, read back as the upper boundary; the lower one is lost."),
    ("/condition/powerFade/lastUpdate", _NO_STAMP),
    ("/condition/internalResistance/-", "Battery Pass v1.2 has the initial resistance and its increase, not "
     "the current resistance."),
    ("/condition/roundTripEfficiencyFade/lastUpdate", _NO_STAMP),
    ("/condition/evolutionOfSelfDischarge/lastUpdate", _NO_STAMP),
    ("/condition/energyThroughput/lastUpdate", _NO_STAMP),
    ("/condition/deepDischargeEvents", "Battery Pass v1.2 has no count of deep-discharge events."),
    ("/condition/overchargeEvents", "Battery Pass v1.2 has no count of overcharge events."),
    ("/custody", "Battery Pass v1.2 has no custody or end-of-life record (holder, transfers, collection, "
     "treatment, recycling)."),
)
# Lost for some values only: the conversion itself says when.
_WARNED_WHERE_LOST = frozenset({"/composition/hazardousSubstances/-/hazardousSubstanceClass"})

_INCOMPLETE = ("Battery Pass v1.2 does not carry every passport field (NOT_CARRIED in docs/data-model.md): "
               "the result lacks them, among others the required general.modelIdentifier, the towns of the "
               "addresses and composition.activeMaterials; add them before issuing it.")


@dataclass(frozen=True)
class Conversion:
    document: dict[str, Any]  # to_batterypass: {aspect name: aspect}; from_batterypass: a passport document
    warnings: list[str]  # plain-language notes on anything not carried exactly


def to_batterypass(passport: Mapping[str, Any]) -> Conversion:
    """The seven Battery Pass v1.2 aspects of a passport (wire form, full view); raises ConversionError."""
    doc = _validated(passport)
    notes: list[str] = []
    conformity = doc["conformity"]
    labels = [give(label, bp.LABEL) for label in conformity["labels"]]
    aspects = {
        "GeneralProductInformation": _general_out(doc, notes),
        "MaterialComposition": _composition_out(doc["composition"], notes),
        "CarbonFootprintForBatteries": _carbon_out(doc.get("carbonFootprint") or {}, notes),
        "Circularity": _circularity_out(doc["circularity"], notes),
        "PerformanceAndDurability": _performance_out(doc["performance"], doc.get("condition") or {}),
        "Labeling": {**give(conformity, bp.LABELING), "labels": labels},
        "SupplyChainDueDiligence": give(doc.get("supplyChainDueDiligence") or {}, bp.DUE_DILIGENCE),
    }
    return Conversion(aspects, _lost(doc) + notes)


def from_batterypass(aspects: Mapping[str, Any]) -> Conversion:
    """The passport document the seven aspects carry (incomplete: see NOT_CARRIED); raises ConversionError."""
    notes: list[str] = []
    r = _aspect_readers(aspects, notes)
    general, labeling = r["GeneralProductInformation"], r["Labeling"]
    performance, condition = _performance_in(r["PerformanceAndDurability"])
    labels = [label.take(bp.LABEL) for label in labeling.objs("labels")]
    document = {
        "passportId": _passport_id_in(general, notes),
        "general": _general_in(general, notes),
        "conformity": {**labeling.take(bp.LABELING), "labels": labels},
        "carbonFootprint": _carbon_in(r["CarbonFootprintForBatteries"], notes),
        "supplyChainDueDiligence": r["SupplyChainDueDiligence"].take(bp.DUE_DILIGENCE),
        "composition": _composition_in(r["MaterialComposition"]),
        "circularity": _circularity_in(r["Circularity"]),
        "performance": performance,
        "condition": condition,
    }
    return Conversion(bp.compact(document), [*notes, _INCOMPLETE])


def strip_not_carried(document: Mapping[str, Any]) -> dict[str, Any]:
    """A copy without the NOT_CARRIED fields and without null, [] and {} (which mean "absent" in our model):
    what a round trip through Battery Pass must give back exactly."""
    result = copy.deepcopy(dict(document))
    for pointer, _ in NOT_CARRIED:
        for container, key in list(bp.matches(result, pointer.split("/")[1:])):
            del container[key]
    stripped: dict[str, Any] = bp.compact(result)
    return stripped


def _validated(passport: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(passport, Mapping):
        raise ConversionError("a passport document must be a JSON object")
    if passport.get("passportId") is None:
        raise ConversionError("the passport has no passportId, which Battery Pass requires as "
                              "batteryPassportIdentifier: issue it first (the service assigns the id)")
    try:
        text = json.dumps(passport, allow_nan=False)
        Passport.model_validate_json(text, by_alias=True, by_name=False)
    except (TypeError, ValueError) as exc:  # Pydantic's ValidationError is a ValueError
        raise ConversionError(f"not a valid passport: {_first_problem(exc)}") from None
    document: dict[str, Any] = json.loads(text)  # a private copy: the aspects share no list with the input
    return document


def _first_problem(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return str(exc)
    first = errors(include_url=False)[0]
    return "/" + "/".join(str(part) for part in first["loc"]) + f": {first['msg']}"


def _lost(doc: dict[str, Any]) -> list[str]:
    def held(pointer: str) -> bool:
        return any(c[key] not in (None, [], {}) for c, key in bp.matches(doc, pointer.split("/")[1:]))

    return [f"{p}: {reason}" for p, reason in NOT_CARRIED if p not in _WARNED_WHERE_LOST and held(p)]


def _aspect_readers(aspects: Mapping[str, Any], notes: list[str]) -> dict[str, Reader]:
    if not isinstance(aspects, Mapping):
        raise ConversionError("expected a JSON object keyed by the Battery Pass aspect names")
    missing = [name for name in ASPECTS if name not in aspects]
    if missing:
        raise ConversionError(f"Battery Pass aspect(s) missing: {', '.join(missing)}")
    notes += [f"/{name}: not a Battery Pass v1.2 aspect; ignored" for name in aspects if name not in ASPECTS]
    return {name: Reader.of(copy.deepcopy(aspects[name]), f"/{name}") for name in ASPECTS}


def _general_out(doc: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    general = doc["general"]
    made, service = general["manufacturingDate"], general.get("puttingIntoService")
    return {
        "productIdentifier": bp.product_identifier(general["gtin"], general["serialNumber"]),
        "batteryPassportIdentifier": bp.bp_passport_id(doc["passportId"]),
        "batteryCategory": general["batteryCategory"],
        "batteryMass": general["batteryMass"],
        "manufacturingDate": bp.to_datetime(made),
        "manufacturingPlace": give(general["manufacturingPlace"], bp.ADDRESS),
        "puttingIntoService": bp.EPOCH if service is None else bp.to_datetime(service),
        "warrentyPeriod": bp.warranty_month(made, general.get("warrantyPeriod") or 0),
        "manufacturerInformation": _contact_out(general, "manufacturerInformation", notes),
        "operatorInformation": _contact_out(general, "operatorInformation", notes),
        "batteryStatus": bp.STATUS[general["batteryStatus"]],
    }


def _contact_out(general: dict[str, Any], key: str, notes: list[str]) -> dict[str, Any]:
    contact = general[key]
    out = {**give(contact, bp.CONTACT), "postalAddress": give(contact["postalAddress"], bp.ADDRESS)}
    email = out.get("emailAddress")
    if email is not None and not bp.BP_EMAIL.fullmatch(email):
        del out["emailAddress"]  # optional in BP: better absent than failing the aspect
        notes.append(f"/general/{key}/emailAddress: {email!r} does not match Battery Pass's e-mail pattern; "
                     "left out")
    return out


def _passport_id_in(r: Reader, notes: list[str]) -> str | None:
    text = r.text("batteryPassportIdentifier")
    passport_id = bp.our_passport_id(text)
    if passport_id is None:
        notes.append(f"{r.where}/batteryPassportIdentifier: {text!r} is not a UUID URN; passportId left out "
                     "(the service assigns one)")
    return passport_id


def _general_in(r: Reader, notes: list[str]) -> dict[str, Any]:
    gtin, serial = bp.parse_product_identifier(r.text("productIdentifier"), f"{r.where}/productIdentifier")
    service = r.get("puttingIntoService", "text", required=False)
    if service is not None:  # the epoch is the placeholder for "not put into service"
        service = None if service == bp.EPOCH else bp.to_date(service, f"{r.where}/puttingIntoService")
    warranty = r.get("warrentyPeriod", "text", required=False)
    if warranty is not None:
        notes.append(f"{r.where}/warrentyPeriod: {warranty!r} is a month, not a period; left out")
    return {
        "gtin": gtin,
        "serialNumber": serial,
        "batteryCategory": r.text("batteryCategory"),
        "batteryMass": r.number("batteryMass"),
        "manufacturingDate": bp.to_date(r.text("manufacturingDate"), f"{r.where}/manufacturingDate"),
        "manufacturingPlace": r.obj("manufacturingPlace").take(bp.ADDRESS),
        "puttingIntoService": service,
        "manufacturerInformation": _contact_in(r.obj("manufacturerInformation")),
        "operatorInformation": _contact_in(r.obj("operatorInformation")),
        "batteryStatus": bp.reverse(bp.STATUS, r.text("batteryStatus"), f"{r.where}/batteryStatus"),
    }


def _contact_in(r: Reader) -> dict[str, Any]:
    return {**r.take(bp.CONTACT), "postalAddress": r.obj("postalAddress").take(bp.ADDRESS)}


def _composition_out(composition: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    hazards = composition.get("hazardousSubstances") or []
    materials = [{**give(m, bp.MATERIAL), "batteryMaterialLocation": give(m["batteryMaterialLocation"],
                                                                          bp.LOCATION)}
                 for m in composition["batteryMaterials"]]
    return {
        "batteryChemistry": give(composition["batteryChemistry"], bp.CHEMISTRY),
        "batteryMaterials": materials,
        "hazardousSubstances": [_hazard_out(hazard, i, notes) for i, hazard in enumerate(hazards)],
    }


def _hazard_out(hazard: dict[str, Any], index: int, notes: list[str]) -> dict[str, Any]:
    location = give(hazard["hazardousSubstanceLocation"], bp.LOCATION)
    out = {**give(hazard, bp.HAZARD), "hazardousSubstanceLocation": location}
    kind = out["hazardousSubstanceClass"]
    if kind not in bp.BP_HAZARD_CLASSES:
        out["hazardousSubstanceClass"] = bp.HAZARD_FALLBACK
        notes.append(f"/composition/hazardousSubstances/{index}/hazardousSubstanceClass: {kind} is not a "
                     f"Battery Pass hazard class; exported as {bp.HAZARD_FALLBACK}")
    return out


def _composition_in(r: Reader) -> dict[str, Any]:
    def located(item: Reader, fields: tuple[bp.Field, ...], key: str) -> dict[str, Any]:
        return {**item.take(fields), key: item.obj(key).take(bp.LOCATION)}

    return {
        "batteryChemistry": r.obj("batteryChemistry").take(bp.CHEMISTRY),
        "batteryMaterials": [located(m, bp.MATERIAL, "batteryMaterialLocation")
                             for m in r.objs("batteryMaterials")],
        "hazardousSubstances": [located(h, bp.HAZARD, "hazardousSubstanceLocation")
                                for h in r.objs("hazardousSubstances")],
    }


def _carbon_out(carbon: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    total = carbon.get("batteryCarbonFootprint", 0)
    stages = carbon.get("carbonFootprintPerLifecycleStage", [])
    if total == 0 and any(stage["carbonFootprint"] for stage in stages):
        notes.append("/carbonFootprint/carbonFootprintPerLifecycleStage: Battery Pass gives the stages as "
                     "shares of the total, which is 0; exported as 0 %")
    out = give(carbon, bp.CARBON)
    out["carbonFootprintPerLifecycleStage"] = [
        {"lifecycleStage": bp.STAGE[stage["lifecycleStage"]],
         "carbonFootprint": bp.share_of(stage["carbonFootprint"], total)} for stage in stages]
    if carbon.get("absoluteCarbonFootprint") is not None:
        out["absoluteCarbonFootprint"] = bp.tonnes_to_kg(carbon["absoluteCarbonFootprint"])
    return out


def _carbon_in(r: Reader, notes: list[str]) -> dict[str, Any]:
    def stage_in(stage: Reader, total: float) -> dict[str, Any]:
        name = bp.reverse(bp.STAGE, stage.text("lifecycleStage"), f"{stage.where}/lifecycleStage")
        value = bp.part_of(stage.number("carbonFootprint"), total, f"{stage.where}/carbonFootprint")
        return {"lifecycleStage": name, "carbonFootprint": value}

    out = r.take(bp.CARBON)
    total, stages = out.get("batteryCarbonFootprint"), r.objs("carbonFootprintPerLifecycleStage")
    if total is not None:
        out["carbonFootprintPerLifecycleStage"] = [stage_in(stage, total) for stage in stages]
    elif stages:
        notes.append(f"{r.where}/carbonFootprintPerLifecycleStage: shares of an undeclared total; left out")
    if r.has("absoluteCarbonFootprint"):
        out["absoluteCarbonFootprint"] = bp.kg_to_tonnes(r.number("absoluteCarbonFootprint"))
    return out


def _circularity_out(circularity: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    documents, sources = circularity["dismantlingAndRemovalInformation"], circularity["sparePartSources"]
    return {
        "dismantlingAndRemovalInformation": [give(document, bp.DOCUMENT) for document in documents],
        "sparePartSources": [_supplier_out(source, i, notes) for i, source in enumerate(sources)],
        "recycledContent": [{**give(c, bp.SHARES), "recycledMaterial": bp.METAL[c["recycledMaterial"]]}
                            for c in circularity.get("recycledContent") or []],
        "safetyMeasures": give(circularity["safetyMeasures"], bp.SAFETY),
        "endOfLifeInformation": give(circularity["endOfLifeInformation"], bp.END_OF_LIFE),
        "renewableContent": circularity["renewableContent"],
    }


def _supplier_out(source: dict[str, Any], index: int, notes: list[str]) -> dict[str, Any]:
    out = {**give(source, bp.SUPPLIER), "addressOfSupplier": give(source["addressOfSupplier"], bp.ADDRESS),
           "components": [give(component, bp.COMPONENT) for component in source["components"]]}
    if not bp.BP_EMAIL.fullmatch(out["emailAddressOfSupplier"]):  # required in BP: as is is all we can do
        notes.append(f"/circularity/sparePartSources/{index}/emailAddressOfSupplier: does not match Battery "
                     "Pass's e-mail pattern, so the Circularity aspect does not validate")
    return out


def _circularity_in(r: Reader) -> dict[str, Any]:
    def supplier(s: Reader) -> dict[str, Any]:
        return {**s.take(bp.SUPPLIER), "addressOfSupplier": s.obj("addressOfSupplier").take(bp.ADDRESS),
                "components": [c.take(bp.COMPONENT) for c in s.objs("components")]}

    def recycled(c: Reader) -> dict[str, Any]:
        metal = bp.reverse(bp.METAL, c.text("recycledMaterial"), f"{c.where}/recycledMaterial")
        return {"recycledMaterial": metal, **c.take(bp.SHARES)}

    return {
        "dismantlingAndRemovalInformation": [d.take(bp.DOCUMENT) for d in r.objs(
            "dismantlingAndRemovalInformation")],
        "sparePartSources": [supplier(s) for s in r.objs("sparePartSources")],
        "safetyMeasures": r.obj("safetyMeasures").take(bp.SAFETY),
        "endOfLifeInformation": r.obj("endOfLifeInformation").take(bp.END_OF_LIFE),
        "recycledContent": [recycled(c) for c in r.objs("recycledContent")],
        "renewableContent": r.number("renewableContent"),
    }


def _performance_out(performance: dict[str, Any], condition: dict[str, Any]) -> dict[str, Any]:
    idle = performance["temperatureRangeIdleState"]["upper"]
    technical = {
        **give(performance, bp.TECHNICAL),
        "lifetimeReferenceTest": bp.text_uri(performance.get("lifetimeReferenceTest")),
        "originalPowerCapability": [give(p, bp.POWER) for p in performance["originalPowerCapability"]],
        "initialInternalResistance": [give(x, bp.RESISTANCE) for x in performance[
            "initialInternalResistance"]],
        "temperatureRangeIdleState": bp.clamp(idle, bp.IDLE_BOUNDS),
    }
    return {"batteryTechicalProperties": technical,
            "batteryCondition": {**bp.condition_out(condition), **give(performance, bp.RTE_50)}}


def _performance_in(r: Reader) -> tuple[dict[str, Any], dict[str, Any]]:
    technical, condition = r.obj("batteryTechicalProperties"), r.obj("batteryCondition")
    performance = {
        **technical.take(bp.TECHNICAL),
        "originalPowerCapability": [p.take(bp.POWER) for p in technical.objs("originalPowerCapability")],
        "initialInternalResistance": [x.take(bp.RESISTANCE) for x in technical.objs(
            "initialInternalResistance")],
        "temperatureRangeIdleState": {"upper": technical.number("temperatureRangeIdleState")},
        **condition.take(bp.RTE_50),
    }
    if "lifetimeReferenceTest" in performance:
        performance["lifetimeReferenceTest"] = bp.uri_text(performance["lifetimeReferenceTest"])
    return performance, bp.condition_in(condition)


__all__ = ["ASPECTS", "NOT_CARRIED", "Conversion", "from_batterypass", "strip_not_carried", "to_batterypass"]
