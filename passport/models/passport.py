"""The battery passport: one document per battery version, the sum of model-level and item-level data."""

from __future__ import annotations

from passport.models.base import Audience, Granularity, WireModel, group, optional_group, spec
from passport.models.carbon import CarbonFootprint, SupplyChainDueDiligence
from passport.models.circularity import Circularity
from passport.models.composition import MaterialComposition
from passport.models.condition import BatteryCondition
from passport.models.conformity import Conformity
from passport.models.custody import Custody
from passport.models.identity import GeneralProductInformation, PassportId
from passport.models.performance import PerformanceAndDurability


class Passport(WireModel):
    """A complete battery passport (Annex XIII). Groups follow the Battery Pass / DIN DKE SPEC 99100 aspects."""

    passport_id: PassportId | None = spec(
        Audience.PUBLIC,
        Granularity.ITEM,
        "Unique identifier of the passport (assigned by the service when absent).",
        annex="Art. 77(3)",
        datapoints=(1,),
        default=None,
    )
    general: GeneralProductInformation = group("General product information.")
    conformity: Conformity = group("Labels, symbols and documentation of conformity.")
    carbon_footprint: CarbonFootprint | None = optional_group(
        "Carbon footprint (pending an implementing act as of February 2027).", annex="1(c)", datapoints=(17, 18)
    )
    supply_chain_due_diligence: SupplyChainDueDiligence | None = optional_group(
        "Supply-chain due diligence (pending as of February 2027).", annex="1(d)", datapoints=(19,)
    )
    composition: MaterialComposition = group("Battery materials and composition.", annex="1(b)", datapoints=(16,))
    circularity: Circularity = group("Circularity and resource efficiency.")
    performance: PerformanceAndDurability = group("Rated performance and durability of the battery model.")
    condition: BatteryCondition | None = optional_group(
        "State of health and dynamic data of the individual battery.", annex="4"
    )
    custody: Custody | None = optional_group(
        "Custody, responsibility and end-of-life events of the individual battery (set by the service)."
    )


__all__ = ["Passport"]
