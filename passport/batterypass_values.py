"""Building blocks of :mod:`passport.batterypass`: value conversions, the field correspondences of the two
models, and a typed reader for aspect documents from outside.

DESIGN §3: our wire follows the Regulation; Battery Pass spellings, units and shapes exist only here and in
:mod:`passport.batterypass`. Where Battery Pass requires a value the passport does not hold, the export writes
a *placeholder* that no passport value can equal, so that the import recognises it and leaves the field out:

- a number: ``-1`` (every such passport value is 0 or more);
- a text: ``""``; a link: ``data:,`` (the empty ``data:`` URI, RFC 2397); a list: ``[]``;
- a time stamp: ``1970-01-01T00:00:00Z`` (the Unix epoch, long before any battery passport).
"""

from __future__ import annotations

import copy
import math
import re
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from passport.errors import ConversionError

STATUS = {"original": "Original", "repurposed": "Repurposed", "re-used": "Reused",
          "remanufactured": "Remanufactured", "waste": "Waste"}
STAGE = {"raw-material-acquisition": "RawMaterialExtraction", "main-production": "MainProduction",
         "distribution": "Distribution", "end-of-life-and-recycling": "Recycling"}
METAL = {"Co": "Cobalt", "Li": "Lithium", "Ni": "Nickel", "Pb": "Lead"}
BP_HAZARD_CLASSES = frozenset({"AcuteToxicity", "SkinCorrosionOrIrritation", "EyeDamageOrIrritation"})
HAZARD_FALLBACK = "AcuteToxicity"
# The pattern BP means: Circularity has it intact, GeneralProductInformation lost its backslashes.
BP_EMAIL = re.compile(r"^[\w.-]+@[\w.-]+\.[A-Za-z]{2,}$")
IDLE_BOUNDS = (-20.0, 60.0)  # TemperatureRangeIdleStateTrait of PerformanceAndDurability

EPOCH = "1970-01-01T00:00:00Z"
PLACEHOLDER: dict[str, Any] = {"number": -1, "text": "", "uri": "data:,", "texts": []}

Field = tuple[str, str, str]
"""(our wire name, Battery Pass name, kind). Kinds: ``text``, ``uri``, ``number``, ``flag``, ``texts``,
``meaning`` (language -> text). Suffix ``?``: optional on both sides; ``-``: Battery Pass requires it and we
may lack it (the export writes the placeholder, the import leaves the placeholder out)."""


def same(*names_and_kinds: str) -> tuple[Field, ...]:
    """Fields spelled alike in both models: ``same("partName:text", "partNumber:text")``."""
    pairs = (item.split(":") for item in names_and_kinds)
    return tuple((name, name, kind) for name, kind in pairs)


ADDRESS = same("streetAddress:text", "postalCode:text", "addressCountry:text")
CONTACT = same("contactName:text", "identifier:text", "emailAddress:text?", "webAddress:uri?")
LOCATION = same("componentName:text", "componentId:text?")
CHEMISTRY = same("shortName:text", "clearName:text")
MATERIAL = same("batteryMaterialName:text", "batteryMaterialIdentifier:text", "batteryMaterialMass:number",
                "isCriticalRawMaterial:flag")
HAZARD = same("hazardousSubstanceName:text", "hazardousSubstanceIdentifier:text",
              "hazardousSubstanceClass:text", "hazardousSubstanceConcentration:number",
              "hazardousSubstanceImpact:texts-")
CARBON = same("batteryCarbonFootprint:number-", "carbonFootprintPerformanceClass:text-",
              "carbonFootprintStudy:uri-")
DUE_DILIGENCE: tuple[Field, ...] = (
    ("supplyChainDueDiligenceReport", "supplyChainDueDiligenceReport", "uri-"),
    ("thirdPartyAssurances", "thirdPartyAussurances", "uri?"),
    ("supplyChainIndices", "supplyChainIndicies", "number?"),
)
LABELING = same("declarationOfConformity:uri", "resultOfTestReport:uri")
LABEL = same("labelingSubject:text", "labelingSymbol:uri", "labelingMeaning:meaning")
DOCUMENT = same("documentType:text", "mimeType:text", "documentURL:uri")
SUPPLIER = same("nameOfSupplier:text", "emailAddressOfSupplier:text", "supplierWebAddress:uri")
COMPONENT = same("partName:text", "partNumber:text")
SAFETY = same("safetyInstructions:uri", "extinguishingAgent:texts")
END_OF_LIFE = same("wastePrevention:uri", "separateCollection:uri", "informationOnCollection:uri")
SHARES = same("preConsumerShare:number", "postConsumerShare:number")
TECHNICAL = same(
    "ratedCapacity:number", "ratedEnergy:number", "nominalVoltage:number", "minimumVoltage:number",
    "maximumVoltage:number", "ratedMaximumPower:number", "powerCapabilityRatio:number-",
    "expectedNumberOfCycles:number-", "lifetimeReferenceTest:uri-", "cRateLifeCycleTest:number-",
    "cRate:number?", "capacityThresholdForExhaustion:number-", "roundtripEfficiency:number-",
    "expectedLifetime:number-", "initialSelfDischarge:number-",
)
POWER = same("atSoC:number", "powerCapabilityAt:number")
RESISTANCE = same("ohmicResistance:number", "batteryComponent:text")
EVENT = same("negativeEvent:text", "lastUpdate:text")
TEMPERATURES = same("timeExtremeHighTemp:number-", "timeExtremeLowTemp:number-",
                    "timeExtremeHighTempCharging:number-", "timeExtremeLowTempCharging:number-")
# BP files the round-trip efficiency at 50 % of cycle life under the battery condition.
RTE_50: tuple[Field, ...] = (
    ("roundTripEfficiencyAt50PercentCycleLife", "roundTripEfficiencyat50PerCentCycleLife", "number-"),
)
READINGS: tuple[tuple[str, str | None, bool], ...] = (
    # (name in both models, BP's key of the value or None for a plain number, whether BP keeps the time stamp)
    ("stateOfCertifiedEnergy", "stateOfCertifiedEnergyValue", True),
    ("remainingCapacity", "remainingCapacityValue", True),
    ("remainingEnergy", "remainingEnergyalue", True),
    ("capacityFade", "capacityFadeValue", True),
    ("remainingRoundTripEnergyEfficiency", "remainingRoundTripEnergyEfficiencyValue", True),
    ("stateOfCharge", "stateOfChargeValue", True),
    ("numberOfFullCycles", "numberOfFullCyclesValue", True),
    ("capacityThroughput", "capacityThroughputValue", True),
    ("currentSelfDischargingRate", "currentSelfDischargingRateEntity", True),
    ("evolutionOfSelfDischarge", "evolutionOfSelfDischargeEntityValue", False),
    ("powerFade", None, False),
    ("roundTripEfficiencyFade", None, False),
    ("energyThroughput", None, False),
)


# --- identifiers and dates ---------------------------------------------------------------------------------

_PRODUCT_ID = re.compile(r"\(01\)([0-9]{14})\(21\)(.+)", re.DOTALL)
_UUID_HEX = re.compile(r"urn:uuid:([0-9a-f]{8})([0-9a-f]{4})([0-9a-f]{4})([0-9a-f]{4})([0-9a-f]{12})")
_HYPHENATED = re.compile(r"urn:uuid:[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}")
_DATE_TIME = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})(T[0-9:]{8}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})?)?")


def product_identifier(gtin: str, serial: str) -> str:
    """The GS1 element string of GTIN and serial: an ISO/IEC 15459 identifier, as BP describes it."""
    return f"(01){gtin}(21){serial}"


def parse_product_identifier(text: str, where: str) -> tuple[str, str]:
    match = _PRODUCT_ID.fullmatch(text)
    if match is None:
        raise ConversionError(f"{where}: {text!r} is not a GS1 element string (01)<GTIN-14>(21)<serial>")
    return match.group(1), match.group(2)


def bp_passport_id(passport_id: str) -> str:
    """BP's pattern ``^urn:[a-z0-9]+:[a-z0-9]+$`` admits no hyphen: the UUID goes as its 32 hex digits."""
    return passport_id.replace("-", "")


def our_passport_id(text: str) -> str | None:
    """The hyphenated ``urn:uuid:`` of a BP identifier, or None when it is not a UUID URN."""
    match = _UUID_HEX.fullmatch(text)
    if match is not None:
        return "urn:uuid:" + "-".join(match.groups())
    return text if _HYPHENATED.fullmatch(text) else None


def to_datetime(date: str) -> str:
    return f"{date}T00:00:00Z"


def to_date(text: str, where: str) -> str:
    """The calendar date as written: no time-zone shift, the date is the one the manufacturer declared."""
    match = _DATE_TIME.fullmatch(text)
    if match is None:
        raise ConversionError(f"{where}: {text!r} is not a date-time")
    return match.group(1)


def warranty_month(manufacturing_date: str, months: int) -> str:
    """xsd:gMonth ``--MM`` of the month the warranty ends: the nearest reading of BP's ``warrentyPeriod``."""
    index = int(manufacturing_date[5:7]) - 1 + months
    return f"--{index % 12 + 1:02d}"


def reverse(mapping: Mapping[str, str], value: str, where: str) -> str:
    for ours, theirs in mapping.items():
        if theirs == value:
            return ours
    raise ConversionError(f"{where}: {value!r} is not one of {', '.join(mapping.values())}")


_TEXT_URI = "data:text/plain;charset=utf-8,"


def text_uri(text: str | None) -> str:
    """BP wants a URI for the lifetime reference test; a test's name travels losslessly as a data: URI."""
    if text is None:
        return str(PLACEHOLDER["uri"])
    if re.fullmatch(r"https?://\S+", text):
        return text
    return _TEXT_URI + urllib.parse.quote(text, safe="")


def uri_text(uri: str) -> str | None:
    for prefix in (_TEXT_URI, "data:,"):
        if uri.startswith(prefix):
            return urllib.parse.unquote(uri[len(prefix):]) or None
    return uri


# --- numbers ---------------------------------------------------------------------------------------------


def _snap(approx: float, target: float, forward: Callable[[float], float]) -> float:
    """Of the decimals near ``approx`` that ``forward`` maps to ``target``, the shortest.

    ``forward`` rounds, so plain inversion lands a unit in the last place off about half the time; a value
    written with up to 15 significant digits is the only short decimal that maps to the same number.
    """
    for digits in range(1, 18):
        candidate = float(f"{approx:.{digits}g}")
        if forward(candidate) == target:
            return candidate
    return approx


def share_of(part: float, total: float) -> float:
    """BP gives each life-cycle stage as a share of the total carbon footprint, in %."""
    return 0.0 if total == 0 else part * 100.0 / total


def part_of(share: float, total: float, where: str) -> float:
    approx = share * total / 100.0
    if not math.isfinite(approx):
        raise ConversionError(f"{where}: {share} % of {total} is out of range")
    return _snap(approx, share, lambda part: share_of(part, total))


def tonnes_to_kg(tonnes: float) -> float:
    """Our absolute carbon footprint is in t CO2e, BP's absoluteCarbonFootprint in kg CO2e."""
    return tonnes * 1000.0


def kg_to_tonnes(kg: float) -> float:
    return _snap(kg / 1000.0, kg, tonnes_to_kg)


def clamp(value: float, bounds: tuple[float, float]) -> float:
    return min(max(value, bounds[0]), bounds[1])


# --- documents -------------------------------------------------------------------------------------------


def matches(node: Any, tokens: Sequence[str]) -> Iterator[tuple[dict[str, Any], str]]:
    """(object, key) pairs a pointer pattern names; ``-`` stands for every item of a list."""
    if not tokens:
        return
    head, rest = tokens[0], tokens[1:]
    if head == "-":
        for item in node if isinstance(node, list) else []:
            yield from matches(item, rest)
    elif isinstance(node, dict) and head in node:
        if list(rest) in ([], ["-"]):  # a field, or a whole list
            yield node, head
        else:
            yield from matches(node[head], rest)


def compact(value: Any) -> Any:
    """Without null, [] and {}: they all mean "absent" in our model."""
    if isinstance(value, dict):
        items = ((key, compact(item)) for key, item in value.items())
        return {key: item for key, item in items if item is not None and item != [] and item != {}}
    if isinstance(value, list):
        return [compact(item) for item in value]
    return value


def give(source: Mapping[str, Any], fields: Iterable[Field]) -> dict[str, Any]:
    """The Battery Pass object of the given fields, with placeholders where BP requires what we lack."""
    result: dict[str, Any] = {}
    for ours, theirs, kind in fields:
        value = source.get(ours)
        if value is None and kind.endswith("-"):
            value = copy.copy(PLACEHOLDER[kind[:-1]])  # a fresh [] each time: documents must not share lists
        if value is not None:
            result[theirs] = value
    return result


def _is_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return isinstance(value, int) or math.isfinite(value)


_CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "text": (lambda v: isinstance(v, str), "a string"),
    "uri": (lambda v: isinstance(v, str), "a string (URI)"),
    "number": (_is_number, "a finite number"),
    "flag": (lambda v: isinstance(v, bool), "true or false"),
    "texts": (lambda v: isinstance(v, list) and all(isinstance(i, str) for i in v), "a list of strings"),
    "meaning": (lambda v: isinstance(v, dict) and all(isinstance(i, str) for i in v.values()),
                "an object of texts by language"),
    "object": (lambda v: isinstance(v, Mapping), "an object"),
    "list": (lambda v: isinstance(v, list), "a list"),
}


@dataclass(frozen=True)
class Reader:
    """Typed access to one object of an aspect document; every failure names its JSON pointer."""

    data: Mapping[str, Any]
    where: str

    @classmethod
    def of(cls, value: Any, where: str) -> Reader:
        if not isinstance(value, Mapping):
            raise ConversionError(f"{where}: must be an object")
        return cls(value, where)

    def get(self, key: str, kind: str, required: bool = True) -> Any:
        value = self.data.get(key)
        if value is None:
            if required:
                raise ConversionError(f"{self.where}/{key}: is required")
            return None
        check, expected = _CHECKS[kind]
        if not check(value):
            raise ConversionError(f"{self.where}/{key}: must be {expected}")
        return value

    def text(self, key: str) -> str:
        return str(self.get(key, "text"))

    def number(self, key: str) -> float:
        value: float = self.get(key, "number")
        return value

    def obj(self, key: str) -> Reader:
        return Reader(self.get(key, "object"), f"{self.where}/{key}")

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def objs(self, key: str) -> list[Reader]:
        items = self.get(key, "list", required=False) or []
        return [Reader.of(item, f"{self.where}/{key}/{i}") for i, item in enumerate(items)]

    def take(self, fields: Iterable[Field]) -> dict[str, Any]:
        """Our object of the given fields, placeholders left out."""
        result: dict[str, Any] = {}
        for ours, theirs, kind in fields:
            base, optional = kind.rstrip("?-"), kind[-1] in "?-"
            value = self.get(theirs, base, required=not optional)
            if value is not None and not (kind.endswith("-") and value == PLACEHOLDER[base]):
                result[ours] = value
        return result


# --- battery condition: dynamic readings --------------------------------------------------------------------


def reading_out(reading: Mapping[str, Any] | None, key: str | None, stamped: bool) -> Any:
    """A ``{value, lastUpdate}`` reading in BP's shape for it (placeholder when absent)."""
    value = PLACEHOLDER["number"] if reading is None else reading["value"]
    if key is None:
        return value
    out = {key: value}
    if stamped:
        out["lastUpdate"] = EPOCH if reading is None else reading["lastUpdate"]
    return out


def reading_in(r: Reader, name: str, key: str | None, stamped: bool) -> dict[str, Any] | None:
    if not r.has(name):
        return None
    if key is None:
        value, stamp = r.number(name), None
    else:
        inner = r.obj(name)
        value, stamp = inner.number(key), inner.text("lastUpdate") if stamped else None
    if value == PLACEHOLDER["number"]:
        return None
    return {"value": value} if stamp is None else {"value": value, "lastUpdate": stamp}


def temperatures_out(temperatures: Mapping[str, Any] | None) -> dict[str, Any]:
    temperatures = temperatures or {}
    return {**give(temperatures, TEMPERATURES), "lastUpdate": temperatures.get("lastUpdate", EPOCH)}


def temperatures_in(r: Reader) -> dict[str, Any] | None:
    if not r.has("temperatureInformation"):
        return None
    temperatures = r.obj("temperatureInformation")
    times = temperatures.take(TEMPERATURES)
    return {**times, "lastUpdate": temperatures.text("lastUpdate")} if times else None


def condition_out(condition: dict[str, Any]) -> dict[str, Any]:
    out = {name: reading_out(condition.get(name), key, stamped) for name, key, stamped in READINGS}
    out["temperatureInformation"] = temperatures_out(condition.get("temperatureInformation"))
    out["remainingPowerCapability"] = [
        {"remainingPowerCapabilityValue": {**give(p, POWER), "rPCLastUpdated": p["lastUpdate"]},
         "lastUpdate": p["lastUpdate"]} for p in condition.get("remainingPowerCapability") or []]
    out["internalResistanceIncrease"] = [
        {"internalResistanceIncreaseValue": x["value"], "batteryComponent": x["batteryComponent"],
         "lastUpdate": x["lastUpdate"]} for x in condition.get("internalResistanceIncrease") or []]
    out["negativeEvents"] = [give(event, EVENT) for event in condition.get("negativeEvents") or []]
    return out


def condition_in(r: Reader) -> dict[str, Any]:
    out: dict[str, Any] = {name: reading_in(r, name, key, stamped) for name, key, stamped in READINGS}
    out["temperatureInformation"] = temperatures_in(r)
    out["remainingPowerCapability"] = [
        {**p.obj("remainingPowerCapabilityValue").take(POWER), "lastUpdate": p.text("lastUpdate")}
        for p in r.objs("remainingPowerCapability")]
    out["internalResistanceIncrease"] = [
        {"value": x.number("internalResistanceIncreaseValue"), "batteryComponent": x.text("batteryComponent"),
         "lastUpdate": x.text("lastUpdate")} for x in r.objs("internalResistanceIncrease")]
    out["negativeEvents"] = [event.take(EVENT) for event in r.objs("negativeEvents")]
    return out
