"""Carbon footprint (Art. 7, DIN DKE SPEC 99100 §6.3) and supply-chain due diligence (Art. 52, §6.4)."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

from passport.models.base import Audience, Granularity, HttpUrl, WireModel, group, spec
from passport.models.enums import LifecycleStage

PUBLIC, MODEL = Audience.PUBLIC, Granularity.MODEL
KG_PER_KWH = "kg CO2e/kWh"


class StageFootprint(WireModel):
    lifecycle_stage: LifecycleStage = spec(PUBLIC, MODEL, "Life-cycle stage.", annex="1(c)", datapoints=(17,))
    carbon_footprint: float = spec(
        PUBLIC,
        MODEL,
        "Contribution of the stage per functional unit.",
        annex="1(c)",
        datapoints=(17,),
        unit=KG_PER_KWH,
        ge=0,
    )


class CarbonFootprint(WireModel):
    """Carbon footprint declaration. Pending an implementing act as of February 2027 (EC guidance DP 17-18):
    accepted, not required."""

    battery_carbon_footprint: float = spec(
        PUBLIC,
        MODEL,
        "Carbon footprint per functional unit (1 kWh of total energy over the service life).",
        annex="1(c)",
        datapoints=(17,),
        unit=KG_PER_KWH,
        ge=0,
    )
    carbon_footprint_per_lifecycle_stage: list[StageFootprint] = group(
        "Contribution of each life-cycle stage; their sum should match the total.",
        annex="1(c)",
        datapoints=(17,),
        min_length=1,
        max_length=4,
    )
    carbon_footprint_performance_class: (
        Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Za-z0-9+-]{0,9}$")] | None
    ) = spec(
        PUBLIC,
        MODEL,
        "Carbon footprint performance class (Art. 7(2)).",
        annex="1(c)",
        datapoints=(18,),
        default=None,
    )
    carbon_footprint_study: HttpUrl = spec(
        PUBLIC,
        MODEL,
        "Web link to the public version of the carbon footprint study.",
        annex="1(c)",
        datapoints=(17,),
    )
    absolute_carbon_footprint: float | None = spec(
        PUBLIC,
        MODEL,
        "Absolute carbon footprint of the battery (voluntary).",
        unit="t CO2e",
        ge=0,
        default=None,
    )


class SupplyChainDueDiligence(WireModel):
    """Responsible sourcing (Annex XIII 1(d)); pending as of February 2027 (EC guidance DP 19)."""

    supply_chain_due_diligence_report: HttpUrl = spec(
        PUBLIC,
        MODEL,
        "Information of the supply-chain due diligence report (Art. 52(3)).",
        annex="1(d)",
        datapoints=(19,),
    )
    third_party_assurances: HttpUrl | None = spec(
        PUBLIC, MODEL, "Third-party assurances of recognised schemes.", default=None
    )
    supply_chain_indices: float | None = spec(PUBLIC, MODEL, "Supply-chain index.", default=None, ge=0)


__all__ = ["KG_PER_KWH", "CarbonFootprint", "StageFootprint", "SupplyChainDueDiligence"]
