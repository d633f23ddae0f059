"""Enumerations of the passport. Values follow the Regulation on our wire (DESIGN §3); where the Regulation
has no list, the Battery Pass v1.2 values are used as published."""

from __future__ import annotations

from enum import StrEnum


class BatteryCategory(StrEnum):
    """Battery category (Art. 3, Annex VI A(2)). Passports are required for EV, LMT and industrial > 2 kWh;
    ``stationary`` is an industrial battery used as a stationary battery energy storage system (Art. 14)."""

    EV = "ev"
    LMT = "lmt"
    INDUSTRIAL = "industrial"
    STATIONARY = "stationary"


class BatteryStatus(StrEnum):
    """Status of the battery, Annex XIII 4(c): exactly these five values."""

    ORIGINAL = "original"
    REPURPOSED = "repurposed"
    REUSED = "re-used"
    REMANUFACTURED = "remanufactured"
    WASTE = "waste"


SECOND_LIFE_STATUSES = frozenset({BatteryStatus.REPURPOSED, BatteryStatus.REUSED, BatteryStatus.REMANUFACTURED})


class LifecycleStage(StrEnum):
    """Life-cycle stages of the carbon footprint (Art. 7(1), Annex II; the use stage is excluded)."""

    RAW_MATERIAL_ACQUISITION = "raw-material-acquisition"
    MAIN_PRODUCTION = "main-production"
    DISTRIBUTION = "distribution"
    END_OF_LIFE = "end-of-life-and-recycling"


class RecycledMetal(StrEnum):
    """Metals with recycled-content shares (Art. 8): Co, Li, Ni in active materials, Pb in the battery."""

    COBALT = "Co"
    LITHIUM = "Li"
    NICKEL = "Ni"
    LEAD = "Pb"


class Chemistry(StrEnum):
    """Short name of the battery chemistry (Annex VI A(7)); the clear name says the detail (e.g. NMC811)."""

    NMC = "NMC"
    NCA = "NCA"
    LFP = "LFP"
    LMFP = "LMFP"
    LMO = "LMO"
    LCO = "LCO"
    LTO = "LTO"
    LI_METAL = "Li-metal"
    SODIUM_ION = "Na-ion"
    LEAD_ACID = "Pb-acid"
    NICKEL_METAL_HYDRIDE = "Ni-MH"
    NICKEL_CADMIUM = "Ni-Cd"
    OTHER = "other"


class HazardClass(StrEnum):
    """CLP (Regulation (EC) No 1272/2008) hazard class of a hazardous substance (Art. 3(52)).
    The first three are the Battery Pass v1.2 values; the others complete the health and environment classes."""

    ACUTE_TOXICITY = "AcuteToxicity"
    SKIN_CORROSION_OR_IRRITATION = "SkinCorrosionOrIrritation"
    EYE_DAMAGE_OR_IRRITATION = "EyeDamageOrIrritation"
    RESPIRATORY_OR_SKIN_SENSITISATION = "RespiratoryOrSkinSensitisation"
    GERM_CELL_MUTAGENICITY = "GermCellMutagenicity"
    CARCINOGENICITY = "Carcinogenicity"
    REPRODUCTIVE_TOXICITY = "ReproductiveToxicity"
    SPECIFIC_TARGET_ORGAN_TOXICITY = "SpecificTargetOrganToxicity"
    HAZARDOUS_TO_AQUATIC_ENVIRONMENT = "HazardousToTheAquaticEnvironment"
    FLAMMABLE = "Flammable"


class DocumentType(StrEnum):
    """Kind of dismantling and removal document (Battery Pass v1.2 values)."""

    BILL_OF_MATERIAL = "BillOfMaterial"
    MODEL_3D = "Model3D"
    DISMANTLING_MANUAL = "DismantlingManual"
    REMOVAL_MANUAL = "RemovalManual"
    OTHER_MANUAL = "OtherManual"
    DRAWING = "Drawing"


class LabelSubject(StrEnum):
    """What a label or symbol on the battery is about (Art. 13; Battery Pass v1.2 values)."""

    SEPARATE_COLLECTION = "SeparateCollection"
    HAZARDOUS_MATERIAL = "HazardousMaterial"
    CARBON_FOOTPRINT = "CarbonFootPrint"
    EXTINGUISHING_AGENT = "ExtinguishingAgent"


class BatteryComponent(StrEnum):
    PACK = "pack"
    MODULE = "module"
    CELL = "cell"
