"""Performance and durability of the battery model (Art. 10, Annex IV; DIN DKE SPEC 99100 §6.7)."""

from __future__ import annotations

from passport.models.base import Audience, Granularity, Percent, ShortText, WireModel, group, spec
from passport.models.enums import BatteryComponent

PUBLIC, MODEL = Audience.PUBLIC, Granularity.MODEL
LEGIT = Audience.LEGITIMATE_INTEREST_ONLY


class TemperatureRange(WireModel):
    """A temperature range in degrees Celsius; ``lower`` must lie below ``upper`` (rules)."""

    lower: float = spec(PUBLIC, MODEL, "Lower boundary.", unit="°C", ge=-100, le=200)
    upper: float = spec(PUBLIC, MODEL, "Upper boundary.", unit="°C", ge=-100, le=200)


class PowerAtStateOfCharge(WireModel):
    at_so_c: Percent = spec(
        PUBLIC,
        MODEL,
        "State of charge the power was measured at (Annex IV B: 80 % and 20 %).",
        unit="%",
        annex="1(i)",
        datapoints=(29,),
        alias="atSoC",
    )
    power_capability_at: float = spec(
        PUBLIC, MODEL, "Power capability at that state of charge.", unit="W", annex="1(i)", datapoints=(29,), gt=0
    )


class InternalResistance(WireModel):
    ohmic_resistance: float = spec(
        PUBLIC, MODEL, "Initial internal resistance.", unit="Ω", annex="1(o)", datapoints=(38,), gt=0
    )
    battery_component: BatteryComponent = spec(PUBLIC, MODEL, "Pack, module or cell.", annex="1(o)", datapoints=(38,))


class PerformanceAndDurability(WireModel):
    """Rated, static values of the battery model."""

    rated_capacity: float = spec(
        PUBLIC, MODEL, "Rated capacity.", unit="Ah", annex="1(a), 1(g)", datapoints=(11, 25), gt=0
    )
    rated_energy: float = spec(PUBLIC, MODEL, "Certified usable battery energy.", unit="kWh", annex="1(a)", gt=0)
    nominal_voltage: float = spec(PUBLIC, MODEL, "Nominal voltage.", unit="V", annex="1(h)", datapoints=(27,), gt=0)
    minimum_voltage: float = spec(PUBLIC, MODEL, "Minimal voltage.", unit="V", annex="1(h)", datapoints=(26,), gt=0)
    maximum_voltage: float = spec(PUBLIC, MODEL, "Maximum voltage.", unit="V", annex="1(h)", datapoints=(28,), gt=0)
    voltage_temperature_range: TemperatureRange | None = group(
        "Temperature range the voltages apply to, when relevant.",
        annex="1(h)",
        datapoints=(26, 27, 28),
        default=None,
    )
    original_power_capability: list[PowerAtStateOfCharge] = group(
        "Original power capability at 80 % and 20 % state of charge.",
        annex="1(i)",
        datapoints=(29,),
        min_length=1,
        max_length=10,
    )
    rated_maximum_power: float = spec(
        PUBLIC,
        MODEL,
        "Maximum permitted battery power (power limits).",
        unit="W",
        annex="1(i)",
        datapoints=(30,),
        gt=0,
    )
    power_temperature_range: TemperatureRange | None = group(
        "Temperature range the power limits apply to, when relevant.",
        annex="1(i)",
        datapoints=(30,),
        default=None,
    )
    power_capability_ratio: float | None = spec(
        PUBLIC, MODEL, "Ratio of nominal power to energy.", unit="W/Wh", default=None, gt=0
    )
    expected_number_of_cycles: int | None = spec(
        PUBLIC,
        MODEL,
        "Expected lifetime in charge-discharge cycles (required for EV and LMT batteries).",
        unit="cycles",
        annex="1(j), 4(a)",
        datapoints=(31, 59),
        default=None,
        gt=0,
        le=10_000_000,
    )
    lifetime_reference_test: ShortText | None = spec(
        PUBLIC,
        MODEL,
        "Reference test used for the expected lifetime in cycles (name or link).",
        annex="1(j)",
        datapoints=(32,),
        default=None,
    )
    c_rate_life_cycle_test: float | None = spec(
        PUBLIC,
        MODEL,
        "C-rate of the relevant cycle-life test.",
        unit="1/h",
        annex="1(p)",
        datapoints=(39,),
        default=None,
        gt=0,
    )
    c_rate: float | None = spec(PUBLIC, MODEL, "Rated C-rate.", unit="1/h", default=None, gt=0)
    capacity_threshold_for_exhaustion: Percent | None = spec(
        PUBLIC,
        MODEL,
        "Capacity threshold for exhaustion (EV batteries only).",
        unit="%",
        annex="1(k)",
        datapoints=(33,),
        default=None,
    )
    temperature_range_idle_state: TemperatureRange = group(
        "Temperature range the battery can withstand when not in use (reference test).",
        annex="1(l)",
        datapoints=(34,),
    )
    roundtrip_efficiency: Percent | None = spec(
        PUBLIC,
        MODEL,
        "Initial round-trip energy efficiency.",
        unit="%",
        annex="1(n)",
        datapoints=(36,),
        default=None,
    )
    round_trip_efficiency_at50_percent_cycle_life: Percent | None = spec(
        PUBLIC,
        MODEL,
        "Round-trip energy efficiency at 50 % of cycle life.",
        unit="%",
        annex="1(n)",
        datapoints=(37,),
        default=None,
        alias="roundTripEfficiencyAt50PercentCycleLife",
    )
    initial_internal_resistance: list[InternalResistance] = group(
        "Internal resistance of cell and pack (module recommended).",
        annex="1(o)",
        datapoints=(38,),
        min_length=1,
        max_length=3,
    )
    expected_lifetime: float | None = spec(
        LEGIT,
        MODEL,
        "Expected lifetime under reference conditions in calendar years.",
        unit="years",
        annex="4(a)",
        datapoints=(60,),
        default=None,
        gt=0,
        le=100,
    )
    initial_self_discharge: float | None = spec(
        LEGIT, MODEL, "Initial self-discharge rate.", unit="%/month", annex="4(b)", default=None, ge=0, le=100
    )


__all__ = ["InternalResistance", "PerformanceAndDurability", "PowerAtStateOfCharge", "TemperatureRange"]
