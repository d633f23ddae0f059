"""Business rules that JSON Schema cannot express (DESIGN §3). Each rule has a code, a severity and one plain
message per finding: an *error* rejects the document, a *warning* is reported with it and stored.

``docs/data-model.md`` lists every rule from :data:`RULES`; a test keeps the two in step."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from passport.errors import Problem, Severity
from passport.models.base import parse_datetime
from passport.models.enums import (
    SECOND_LIFE_STATUSES,
    BatteryCategory,
    BatteryComponent,
    BatteryStatus,
    LabelSubject,
)
from passport.models.passport import Passport
from passport.models.performance import TemperatureRange

CARBON_FOOTPRINT_TOLERANCE = 0.05
"""Relative deviation of the stage sum from the total accepted without a warning (5 %)."""

CLOCK_SKEW = dt.timedelta(minutes=5)
"""Readings may be stamped this far in the future (clock differences between a BMS and the service)."""

LEAD_MARKING_THRESHOLD = 0.004  # % w/w, Art. 13(5)
CADMIUM_MARKING_THRESHOLD = 0.002  # % w/w, Art. 13(5)
PASSPORT_ENERGY_THRESHOLD_KWH = 2.0  # Art. 77(1): industrial batteries above 2 kWh


@dataclass(frozen=True)
class RuleContext:
    """What the rules may know besides the document: the current time."""

    now: dt.datetime

    @classmethod
    def current(cls) -> RuleContext:
        return cls(now=dt.datetime.now(dt.UTC))

    @property
    def today(self) -> dt.date:
        return self.now.date()


Finding = tuple[str, str]  # (JSON pointer, message)


@dataclass(frozen=True)
class Rule:
    code: str
    severity: Severity
    summary: str
    check: Callable[[Passport, RuleContext], Iterator[Finding]]


RULES: list[Rule] = []


def rule(
    code: str, severity: Severity, summary: str
) -> Callable[
    [Callable[[Passport, RuleContext], Iterator[Finding]]], Callable[[Passport, RuleContext], Iterator[Finding]]
]:
    def register(
        check: Callable[[Passport, RuleContext], Iterator[Finding]],
    ) -> Callable[[Passport, RuleContext], Iterator[Finding]]:
        RULES.append(Rule(code, severity, summary, check))
        return check

    return register


def check_rules(passport: Passport, context: RuleContext | None = None) -> list[Problem]:
    """Every finding of every rule, errors and warnings alike."""
    context = context or RuleContext.current()
    return [
        Problem(pointer, message, item.severity, item.code)
        for item in RULES
        for pointer, message in item.check(passport, context)
    ]


# --- identifiers ----------------------------------------------------------------------------------------


def gs1_check_digit(digits: str) -> int:
    """GS1 mod-10 check digit of the digits before it (weights 3, 1, 3, ... from the right)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


def gtin_is_valid(gtin: str) -> bool:
    # isascii: str.isdigit() also accepts digits such as "²" that int() cannot read
    return gtin.isascii() and gtin.isdigit() and len(gtin) in (8, 12, 13, 14) and (
        gs1_check_digit(gtin[:-1]) == int(gtin[-1]))


def cas_is_valid(cas: str) -> bool:
    """CAS registry number check digit: digits before it, weighted 1, 2, 3, ... from the right, mod 10."""
    digits = cas.replace("-", "")
    if not (digits.isascii() and digits.isdigit()) or len(digits) < 5:
        return False
    body, check = digits[:-1], int(digits[-1])
    return sum(int(d) * (i + 1) for i, d in enumerate(reversed(body))) % 10 == check


@rule("gtin-check-digit", "error", "The GTIN-14 check digit is correct.")
def _gtin(p: Passport, _: RuleContext) -> Iterator[Finding]:
    if not gtin_is_valid(p.general.gtin):
        expected = gs1_check_digit(p.general.gtin[:-1])
        yield "/general/gtin", f"GTIN check digit is wrong: expected {expected} as the last digit"


@rule("cas-check-digit", "error", "Every CAS number has a correct check digit.")
def _cas(p: Passport, _: RuleContext) -> Iterator[Finding]:
    for i, material in enumerate(p.composition.battery_materials):
        if not cas_is_valid(material.battery_material_identifier):
            yield (
                f"/composition/batteryMaterials/{i}/batteryMaterialIdentifier",
                f"CAS number {material.battery_material_identifier} has a wrong check digit",
            )
    for i, substance in enumerate(p.composition.hazardous_substances):
        if not cas_is_valid(substance.hazardous_substance_identifier):
            yield (
                f"/composition/hazardousSubstances/{i}/hazardousSubstanceIdentifier",
                f"CAS number {substance.hazardous_substance_identifier} has a wrong check digit",
            )


# --- materials and recycled content -----------------------------------------------------------------------


@rule("recycled-share-sum", "error", "Pre- plus post-consumer recycled share of a metal is at most 100 %.")
def _recycled_sum(p: Passport, _: RuleContext) -> Iterator[Finding]:
    for i, entry in enumerate(p.circularity.recycled_content):
        total = entry.pre_consumer_share + entry.post_consumer_share
        if total > 100:
            yield (
                f"/circularity/recycledContent/{i}",
                f"recycled {entry.recycled_material.value}: pre- plus post-consumer share is {total:g} %, "
                "more than 100 %",
            )


@rule("recycled-metal-once", "error", "Each metal appears at most once in the recycled content.")
def _recycled_once(p: Passport, _: RuleContext) -> Iterator[Finding]:
    seen: set[str] = set()
    for i, entry in enumerate(p.circularity.recycled_content):
        if entry.recycled_material in seen:
            yield (
                f"/circularity/recycledContent/{i}/recycledMaterial",
                (f"{entry.recycled_material.value} is listed more than once"),
            )
        seen.add(entry.recycled_material)


@rule("material-mass", "error", "The material masses add up to no more than the battery mass.")
def _material_mass(p: Passport, _: RuleContext) -> Iterator[Finding]:
    total = sum(m.battery_material_mass for m in p.composition.battery_materials)
    if total > p.general.battery_mass * (1 + 1e-9):
        yield (
            "/composition/batteryMaterials",
            (f"material masses add up to {total:g} kg, more than the battery mass of {p.general.battery_mass:g} kg"),
        )


@rule("critical-raw-materials", "warning", "Materials flagged critical appear in the critical raw materials list.")
def _crm(p: Passport, _: RuleContext) -> Iterator[Finding]:
    listed = {name.casefold() for name in p.composition.critical_raw_materials}
    for i, material in enumerate(p.composition.battery_materials):
        if material.is_critical_raw_material and material.battery_material_name.casefold() not in listed:
            yield (
                "/composition/criticalRawMaterials",
                (f"{material.battery_material_name} (batteryMaterials/{i}) is flagged critical but not listed"),
            )


@rule("cd-pb-marking", "error", "Above 0.002 % cadmium or 0.004 % lead, a hazardous-material label is present.")
def _marking(p: Passport, _: RuleContext) -> Iterator[Finding]:
    c = p.composition
    needs = [
        (name, value)
        for name, value, limit in (
            ("lead", c.lead_content, LEAD_MARKING_THRESHOLD),
            ("cadmium", c.cadmium_content, CADMIUM_MARKING_THRESHOLD),
        )
        if value is not None and value > limit
    ]
    labelled = any(label.labeling_subject is LabelSubject.HAZARDOUS_MATERIAL for label in p.conformity.labels)
    for name, value in needs:
        if not labelled:
            yield (
                "/conformity/labels",
                (
                    f"{name} content of {value:g} % requires the '{'Pb' if name == 'lead' else 'Cd'}' symbol "
                    "(a HazardousMaterial label, Art. 13(5))"
                ),
            )


@rule("separate-collection-label", "error", "The separate-collection symbol (Art. 13(4)) is among the labels.")
def _separate_collection(p: Passport, _: RuleContext) -> Iterator[Finding]:
    if not any(label.labeling_subject is LabelSubject.SEPARATE_COLLECTION for label in p.conformity.labels):
        yield "/conformity/labels", "the separate-collection symbol (SeparateCollection label) is missing"


# --- carbon footprint ----------------------------------------------------------------------------------------


@rule("carbon-stage-once", "error", "Each life-cycle stage appears at most once in the carbon footprint.")
def _stage_once(p: Passport, _: RuleContext) -> Iterator[Finding]:
    if p.carbon_footprint is None:
        return
    counts = Counter(s.lifecycle_stage for s in p.carbon_footprint.carbon_footprint_per_lifecycle_stage)
    for stage, count in counts.items():
        if count > 1:
            yield "/carbonFootprint/carbonFootprintPerLifecycleStage", f"stage {stage.value} appears {count} times"


@rule(
    "carbon-stage-sum",
    "warning",
    "The life-cycle stage contributions add up to the total within 5 % (published examples deviate).",
)
def _stage_sum(p: Passport, _: RuleContext) -> Iterator[Finding]:
    cf = p.carbon_footprint
    if cf is None:
        return
    total = sum(s.carbon_footprint for s in cf.carbon_footprint_per_lifecycle_stage)
    if abs(total - cf.battery_carbon_footprint) > CARBON_FOOTPRINT_TOLERANCE * cf.battery_carbon_footprint:
        yield (
            "/carbonFootprint/carbonFootprintPerLifecycleStage",
            (f"stage contributions add up to {total:g} kg CO2e/kWh, the total is {cf.battery_carbon_footprint:g}"),
        )


# --- performance ---------------------------------------------------------------------------------------------


@rule("voltage-order", "error", "Minimum voltage ≤ nominal voltage ≤ maximum voltage.")
def _voltages(p: Passport, _: RuleContext) -> Iterator[Finding]:
    perf = p.performance
    if not perf.minimum_voltage <= perf.nominal_voltage <= perf.maximum_voltage:
        yield (
            "/performance/nominalVoltage",
            (
                f"voltages out of order: minimum {perf.minimum_voltage:g} V, nominal {perf.nominal_voltage:g} V, "
                f"maximum {perf.maximum_voltage:g} V"
            ),
        )


@rule("temperature-range-order", "error", "Every temperature range has its lower boundary below its upper one.")
def _temperature_ranges(p: Passport, _: RuleContext) -> Iterator[Finding]:
    ranges: list[tuple[str, TemperatureRange | None]] = [
        ("/performance/temperatureRangeIdleState", p.performance.temperature_range_idle_state),
        ("/performance/voltageTemperatureRange", p.performance.voltage_temperature_range),
        ("/performance/powerTemperatureRange", p.performance.power_temperature_range),
    ]
    for pointer, value in ranges:
        if value is not None and value.lower >= value.upper:
            yield pointer, f"lower boundary {value.lower:g} °C is not below upper boundary {value.upper:g} °C"


@rule(
    "internal-resistance-components",
    "error",
    "Initial internal resistance is given for pack and cell, each component once.",
)
def _resistance(p: Passport, _: RuleContext) -> Iterator[Finding]:
    components = Counter(r.battery_component for r in p.performance.initial_internal_resistance)
    for component in (BatteryComponent.PACK, BatteryComponent.CELL):
        if not components[component]:
            yield "/performance/initialInternalResistance", f"the {component.value} resistance is missing"
    for component, count in components.items():
        if count > 1:
            yield "/performance/initialInternalResistance", f"the {component.value} resistance is given {count} times"


@rule("power-at-soc", "warning", "Original power capability is given at 80 % and 20 % state of charge.")
def _power_soc(p: Passport, _: RuleContext) -> Iterator[Finding]:
    levels = {entry.at_so_c for entry in p.performance.original_power_capability}
    missing = [soc for soc in (80.0, 20.0) if soc not in levels]
    if missing:
        yield (
            "/performance/originalPowerCapability",
            (
                "Annex IV Part B measures power at 80 % and 20 % state of charge; missing: "
                + ", ".join(f"{soc:g} %" for soc in missing)
            ),
        )


@rule("round-trip-efficiency-order", "warning", "Round-trip efficiency at 50 % cycle life is not above the initial.")
def _rte(p: Passport, _: RuleContext) -> Iterator[Finding]:
    initial = p.performance.roundtrip_efficiency
    half = p.performance.round_trip_efficiency_at50_percent_cycle_life
    if initial is not None and half is not None and half > initial:
        yield (
            "/performance/roundTripEfficiencyAt50PercentCycleLife",
            (f"{half:g} % at 50 % cycle life is above the initial {initial:g} %"),
        )


# --- category-specific requirements ---------------------------------------------------------------------------


@rule(
    "category-requirements",
    "error",
    "Capacity threshold for exhaustion only for EV batteries, and required there; state of certified energy only "
    "for EV batteries; cycle-life data required for EV and LMT batteries.",
)
def _category(p: Passport, _: RuleContext) -> Iterator[Finding]:
    category, perf = p.general.battery_category, p.performance
    is_ev = category is BatteryCategory.EV
    if is_ev and perf.capacity_threshold_for_exhaustion is None:
        yield "/performance/capacityThresholdForExhaustion", "required for EV batteries (Annex XIII 1(k))"
    if not is_ev and perf.capacity_threshold_for_exhaustion is not None:
        yield "/performance/capacityThresholdForExhaustion", "applies to EV batteries only (Annex XIII 1(k))"
    if not is_ev and p.condition is not None and p.condition.state_of_certified_energy is not None:
        yield (
            "/condition/stateOfCertifiedEnergy",
            (
                f"the state of certified energy is the state of health of EV batteries; a {category.value} battery "
                "reports remainingCapacity instead (Annex VII Part A)"
            ),
        )
    if category in (BatteryCategory.EV, BatteryCategory.LMT):
        required = {
            "expectedNumberOfCycles": perf.expected_number_of_cycles,
            "lifetimeReferenceTest": perf.lifetime_reference_test,
            "cRateLifeCycleTest": perf.c_rate_life_cycle_test,
            "roundtripEfficiency": perf.roundtrip_efficiency,
            "roundTripEfficiencyAt50PercentCycleLife": perf.round_trip_efficiency_at50_percent_cycle_life,
        }
        for name, value in required.items():
            if value is None:
                yield f"/performance/{name}", f"required for {category.value.upper()} batteries (Annex XIII 1)"


@rule(
    "state-of-health-kind",
    "warning",
    "Dynamic data carries the category's state of health: SOCE for EV, remaining capacity for LMT and "
    "stationary batteries.",
)
def _soh(p: Passport, _: RuleContext) -> Iterator[Finding]:
    condition, category = p.condition, p.general.battery_category
    if condition is None:
        return
    if category is BatteryCategory.EV and condition.state_of_certified_energy is None:
        yield "/condition/stateOfCertifiedEnergy", "EV battery condition without state of certified energy"
    if category in (BatteryCategory.LMT, BatteryCategory.STATIONARY) and condition.remaining_capacity is None:
        yield "/condition/remainingCapacity", f"{category.value} battery condition without remaining capacity"


@rule("passport-scope", "warning", "Industrial batteries need a passport above 2 kWh (Art. 77(1)).")
def _scope(p: Passport, _: RuleContext) -> Iterator[Finding]:
    industrial = p.general.battery_category in (BatteryCategory.INDUSTRIAL, BatteryCategory.STATIONARY)
    if industrial and p.performance.rated_energy <= PASSPORT_ENERGY_THRESHOLD_KWH:
        yield (
            "/performance/ratedEnergy",
            (f"an industrial battery of {p.performance.rated_energy:g} kWh needs no passport (only above 2 kWh)"),
        )


@rule("remaining-capacity", "warning", "Remaining capacity does not exceed the rated capacity.")
def _remaining_capacity(p: Passport, _: RuleContext) -> Iterator[Finding]:
    reading = p.condition.remaining_capacity if p.condition else None
    if reading is not None and reading.value > p.performance.rated_capacity:
        yield (
            "/condition/remainingCapacity/value",
            (f"remaining capacity {reading.value:g} Ah exceeds the rated {p.performance.rated_capacity:g} Ah"),
        )


# --- dates and lifecycle -------------------------------------------------------------------------------------


@rule(
    "date-order",
    "error",
    "Manufacturing date not in the future and not after putting into service; no reading from the future.",
)
def _dates(p: Passport, context: RuleContext) -> Iterator[Finding]:
    made = dt.date.fromisoformat(p.general.manufacturing_date)
    if made > context.today:
        yield "/general/manufacturingDate", f"manufacturing date {made} is in the future"
    if p.general.putting_into_service is not None:
        service = dt.date.fromisoformat(p.general.putting_into_service)
        if service < made:
            yield "/general/puttingIntoService", f"put into service on {service}, before manufacture on {made}"
        if service > context.today:
            yield "/general/puttingIntoService", f"date of putting into service {service} is in the future"
    yield from _future_readings(p, context)


def _future_readings(p: Passport, context: RuleContext) -> Iterator[Finding]:
    if p.condition is None:
        return
    data = p.condition.model_dump(by_alias=True, exclude_none=True)
    for key, value in data.items():
        items = value if isinstance(value, list) else [value]
        for i, item in enumerate(items):
            stamp = item.get("lastUpdate") if isinstance(item, dict) else None
            if stamp and parse_datetime(stamp) > context.now + CLOCK_SKEW:
                where = f"/condition/{key}" + (f"/{i}" if isinstance(value, list) else "")
                yield f"{where}/lastUpdate", f"recorded at {stamp}, which is in the future"


@rule(
    "second-life-links",
    "error",
    "A re-used, repurposed or remanufactured battery links to its original passport(s), or, as the frozen original, "
    "to its successor; an original battery has no predecessor.",
)
def _links(p: Passport, _: RuleContext) -> Iterator[Finding]:
    status, predecessors = p.general.battery_status, p.general.predecessor_passports
    if status in SECOND_LIFE_STATUSES and not predecessors and not p.general.successor_passports:
        yield (
            "/general/predecessorPassports",
            (f"a {status.value} battery needs a link to the passport of the original battery (Art. 77(7))"),
        )
    if status is BatteryStatus.ORIGINAL and predecessors:
        yield "/general/predecessorPassports", "an original battery has no predecessor passport"
    if p.passport_id is not None and p.passport_id in predecessors:
        yield "/general/predecessorPassports", "a passport cannot be its own predecessor"


__all__ = [
    "CARBON_FOOTPRINT_TOLERANCE",
    "RULES",
    "Rule",
    "RuleContext",
    "cas_is_valid",
    "check_rules",
    "gs1_check_digit",
    "gtin_is_valid",
]
