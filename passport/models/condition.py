"""State of health and dynamic data of the individual battery (Annex XIII point 4, Annex VII).

Every value carries the time it was recorded. All of it is readable by persons with a legitimate interest
only (Art. 77(2)(c)); it is updated by events over the battery's life."""

from __future__ import annotations

from typing import Any

from passport.models.base import (
    MAX_SAFE_INTEGER,
    Audience,
    Granularity,
    Percent,
    Text,
    Timestamp,
    WireModel,
    group,
    spec,
)
from passport.models.enums import BatteryComponent

LEGIT, ITEM = Audience.LEGITIMATE_INTEREST_ONLY, Granularity.ITEM


def _value(description: str, unit: str, annex: str, datapoints: tuple[int, ...], **bounds: Any) -> Any:
    return spec(LEGIT, ITEM, description, unit=unit, annex=annex, datapoints=datapoints, **bounds)


def _recorded_at() -> Any:
    return spec(LEGIT, ITEM, "When the value was recorded.", annex="4")


class PercentReading(WireModel):
    value: Percent = _value("Value.", "%", "4", ())
    last_update: Timestamp = _recorded_at()


class AmpereHourReading(WireModel):
    value: float = _value("Value.", "Ah", "4", (), ge=0)
    last_update: Timestamp = _recorded_at()


class EnergyReading(WireModel):
    value: float = _value("Value.", "kWh", "4", (), ge=0)
    last_update: Timestamp = _recorded_at()


class RateReading(WireModel):
    value: float = _value("Value.", "%/month", "4(b)", (65,), ge=0, le=100)
    last_update: Timestamp = _recorded_at()


class CountReading(WireModel):
    value: int = _value("Count.", "1", "4(d)", (), ge=0, le=MAX_SAFE_INTEGER)
    last_update: Timestamp = _recorded_at()


class PowerReading(WireModel):
    at_so_c: Percent = spec(LEGIT, ITEM, "State of charge.", unit="%", annex="4(b)", datapoints=(53, 63), alias="atSoC")
    power_capability_at: float = _value("Remaining power capability.", "W", "4(b)", (53, 63), ge=0)
    last_update: Timestamp = _recorded_at()


class ResistanceReading(WireModel):
    ohmic_resistance: float = _value("Internal (ohmic) resistance.", "Ω", "4(a), 4(b)", (55, 66), gt=0)
    battery_component: BatteryComponent = spec(LEGIT, ITEM, "Pack, module or cell.", annex="4(a)")
    last_update: Timestamp = _recorded_at()


class ResistanceIncrease(WireModel):
    value: float = _value("Internal resistance increase.", "%", "4(a)", (56,), ge=0, le=1000)
    battery_component: BatteryComponent = spec(LEGIT, ITEM, "Pack, module or cell.", annex="4(a)")
    last_update: Timestamp = _recorded_at()


class TemperatureInformation(WireModel):
    """Time spent in extreme temperatures (Annex VII B(4)): operating environmental conditions."""

    time_extreme_high_temp: float = _value("Time above the upper boundary.", "min", "4(d)", (70,), ge=0)
    time_extreme_low_temp: float = _value("Time below the lower boundary.", "min", "4(d)", (70,), ge=0)
    time_extreme_high_temp_charging: float = _value(
        "Time charging above the upper boundary.", "min", "4(d)", (70,), ge=0
    )
    time_extreme_low_temp_charging: float = _value(
        "Time charging below the lower boundary.", "min", "4(d)", (70,), ge=0
    )
    last_update: Timestamp = _recorded_at()


class NegativeEvent(WireModel):
    negative_event: Text = spec(LEGIT, ITEM, "What happened (e.g. an accident).", annex="4(d)", datapoints=(69,))
    last_update: Timestamp = _recorded_at()


def _reading(description: str, annex: str, datapoints: tuple[int, ...]) -> Any:
    """An optional, time-stamped reading."""
    return group(description, annex=annex, datapoints=datapoints, default=None)


class BatteryCondition(WireModel):
    state_of_certified_energy: PercentReading | None = _reading(
        "State of certified energy, SOCE (EV batteries only).", "4(b)", (61,)
    )
    remaining_capacity: AmpereHourReading | None = _reading(
        "Remaining capacity (LMT and stationary batteries).", "4(a), 4(b)", (51, 62)
    )
    remaining_energy: EnergyReading | None = _reading("Remaining usable energy.", "4(b)", ())
    capacity_fade: PercentReading | None = _reading("Capacity fade.", "4(a)", (52,))
    remaining_power_capability: list[PowerReading] = group(
        "Remaining power capability.",
        annex="4(a), 4(b)",
        datapoints=(53, 63),
        default_factory=list,
        max_length=10,
    )
    power_fade: PercentReading | None = _reading("Power fade.", "4(a)", (54,))
    internal_resistance: list[ResistanceReading] = group(
        "Internal (ohmic) resistance now.",
        annex="4(a), 4(b)",
        datapoints=(55, 66),
        default_factory=list,
        max_length=3,
    )
    internal_resistance_increase: list[ResistanceIncrease] = group(
        "Internal resistance increase.", annex="4(a)", datapoints=(56,), default_factory=list, max_length=3
    )
    remaining_round_trip_energy_efficiency: PercentReading | None = _reading(
        "Remaining round-trip energy efficiency.", "4(a), 4(b)", (57, 64)
    )
    round_trip_efficiency_fade: PercentReading | None = _reading("Energy round-trip efficiency fade.", "4(a)", (58,))
    current_self_discharging_rate: RateReading | None = _reading("Current self-discharge rate.", "4(b)", (65,))
    evolution_of_self_discharge: PercentReading | None = _reading("Evolution of self-discharge rates.", "4(b)", (65,))
    state_of_charge: PercentReading | None = _reading("State of charge.", "4(d)", (71,))
    number_of_full_cycles: CountReading | None = _reading(
        "Number of full charging and discharging cycles.", "4(d)", (68,)
    )
    energy_throughput: EnergyReading | None = _reading("Energy throughput.", "4(b)", ())
    capacity_throughput: AmpereHourReading | None = _reading("Capacity throughput.", "4(b)", ())
    deep_discharge_events: CountReading | None = _reading("Number of deep-discharge events.", "4(d)", (69,))
    overcharge_events: CountReading | None = _reading("Number of overcharge events.", "4(d)", (69,))
    temperature_information: TemperatureInformation | None = _reading(
        "Operating environmental conditions: time in extreme temperatures.", "4(d)", (70,)
    )
    negative_events: list[NegativeEvent] = group(
        "Negative events, such as accidents.",
        annex="4(d)",
        datapoints=(69,),
        default_factory=list,
        max_length=1000,
    )


__all__ = [
    "AmpereHourReading",
    "BatteryCondition",
    "CountReading",
    "EnergyReading",
    "NegativeEvent",
    "PercentReading",
    "PowerReading",
    "RateReading",
    "ResistanceIncrease",
    "ResistanceReading",
    "TemperatureInformation",
]
