"""Battery materials and composition (DIN DKE SPEC 99100 §6.5): chemistry, materials, hazardous substances."""

from __future__ import annotations

from passport.models.base import (
    Audience,
    CasNumber,
    Granularity,
    Percent,
    ShortText,
    Text,
    WireModel,
    group,
    spec,
)
from passport.models.enums import Chemistry, HazardClass

PUBLIC, RESTRICTED, MODEL = Audience.PUBLIC, Audience.RESTRICTED, Granularity.MODEL


class BatteryChemistry(WireModel):
    short_name: Chemistry = spec(PUBLIC, MODEL, "Chemistry short name.", annex="1(a)", datapoints=(12,))
    clear_name: ShortText = spec(
        PUBLIC,
        MODEL,
        "Chemistry in words, e.g. 'Lithium nickel manganese cobalt oxide (NMC 811)'.",
        annex="1(a)",
        datapoints=(12,),
    )


class ActiveMaterials(WireModel):
    """Materials used in cathode, anode and electrolyte (Annex XIII 2(a))."""

    cathode: ShortText = spec(RESTRICTED, MODEL, "Cathode active material.", annex="2(a)", datapoints=(45,))
    anode: ShortText = spec(RESTRICTED, MODEL, "Anode active material.", annex="2(a)", datapoints=(45,))
    electrolyte: ShortText = spec(RESTRICTED, MODEL, "Electrolyte.", annex="2(a)", datapoints=(45,))
    separator: ShortText | None = spec(RESTRICTED, MODEL, "Separator.", annex="2(a)", default=None)


class ComponentLocation(WireModel):
    component_name: ShortText = spec(RESTRICTED, MODEL, "Component where the material sits (e.g. Cathode).")
    component_id: ShortText | None = spec(RESTRICTED, MODEL, "Identifier of that component.", default=None)


class PublicComponentLocation(WireModel):
    component_name: ShortText = spec(PUBLIC, MODEL, "Component where the substance sits (e.g. Electrolyte).")
    component_id: ShortText | None = spec(PUBLIC, MODEL, "Identifier of that component.", default=None)


class BatteryMaterial(WireModel):
    """One material of the detailed composition; masses feed the recyclers' recoverable-material inventory."""

    battery_material_name: ShortText = spec(RESTRICTED, MODEL, "Material name.", annex="2(a)", datapoints=(45,))
    battery_material_identifier: CasNumber = spec(
        RESTRICTED, MODEL, "CAS number of the material.", annex="2(a)", datapoints=(45,)
    )
    battery_material_mass: float = spec(
        RESTRICTED, MODEL, "Mass of the material in the battery.", annex="2(a)", datapoints=(45,), unit="kg", ge=0
    )
    battery_material_location: ComponentLocation = group("Where the material sits.")
    is_critical_raw_material: bool = spec(
        RESTRICTED, MODEL, "Whether the material is a critical raw material.", annex="2(a)", datapoints=(45,)
    )


class HazardousSubstance(WireModel):
    """A hazardous substance other than mercury, cadmium or lead (Annex VI A(8))."""

    hazardous_substance_name: ShortText = spec(PUBLIC, MODEL, "Substance name.", annex="1(a)", datapoints=(13,))
    hazardous_substance_identifier: CasNumber = spec(
        PUBLIC, MODEL, "CAS number of the substance.", annex="1(a)", datapoints=(13,)
    )
    hazardous_substance_class: HazardClass = spec(PUBLIC, MODEL, "CLP hazard class.", annex="1(a)", datapoints=(13,))
    hazardous_substance_concentration: Percent = spec(
        PUBLIC, MODEL, "Concentration by weight.", annex="1(a)", datapoints=(13,), unit="% w/w"
    )
    hazardous_substance_impact: list[Text] = spec(
        PUBLIC,
        MODEL,
        "Impact on the environment and on human health or safety (Art. 74(1)(f)).",
        annex="1(s)",
        datapoints=(43,),
        default_factory=list,
        max_length=20,
    )
    hazardous_substance_location: PublicComponentLocation = group("Where the substance sits.")


class MaterialComposition(WireModel):
    battery_chemistry: BatteryChemistry = group("Battery chemistry.", annex="1(a)", datapoints=(12, 16))
    active_materials: ActiveMaterials = group(
        "Materials used in cathode, anode and electrolyte.", annex="2(a)", datapoints=(45,)
    )
    battery_materials: list[BatteryMaterial] = group(
        "Detailed composition: materials with CAS number, mass and location.",
        annex="2(a)",
        datapoints=(45,),
        min_length=1,
        max_length=200,
    )
    hazardous_substances: list[HazardousSubstance] = group(
        "Hazardous substances present, other than mercury, cadmium or lead.",
        annex="1(a)",
        datapoints=(13, 16),
        default_factory=list,
        max_length=100,
    )
    critical_raw_materials: list[ShortText] = spec(
        PUBLIC,
        MODEL,
        "Critical raw materials present above 0.1 % weight by weight.",
        annex="1(a)",
        datapoints=(15, 16),
        default_factory=list,
        max_length=50,
    )
    lead_content: Percent | None = spec(
        PUBLIC,
        MODEL,
        "Lead content (Art. 13(5): marked 'Pb' above 0.004 %).",
        annex="1(q)",
        datapoints=(41,),
        unit="% w/w",
        default=None,
    )
    cadmium_content: Percent | None = spec(
        PUBLIC,
        MODEL,
        "Cadmium content (Art. 13(5): marked 'Cd' above 0.002 %).",
        annex="1(q)",
        datapoints=(41,),
        unit="% w/w",
        default=None,
    )
    mercury_content: Percent | None = spec(
        PUBLIC, MODEL, "Mercury content (Art. 6 restriction).", unit="% w/w", default=None
    )


__all__ = [
    "ActiveMaterials",
    "BatteryChemistry",
    "BatteryMaterial",
    "ComponentLocation",
    "HazardousSubstance",
    "MaterialComposition",
    "PublicComponentLocation",
]
