"""Pydantic v2 models of the EU battery passport, split by Annex XIII area."""

from passport.models.base import Audience, Granularity, WireModel
from passport.models.carbon import CarbonFootprint, StageFootprint, SupplyChainDueDiligence
from passport.models.circularity import Circularity, RecycledContent
from passport.models.composition import BatteryMaterial, HazardousSubstance, MaterialComposition
from passport.models.condition import BatteryCondition
from passport.models.conformity import Conformity, Label
from passport.models.enums import (
    BatteryCategory,
    BatteryComponent,
    BatteryStatus,
    Chemistry,
    LifecycleStage,
    RecycledMetal,
)
from passport.models.identity import GeneralProductInformation
from passport.models.passport import Passport
from passport.models.performance import PerformanceAndDurability

__all__ = [
    "Audience",
    "BatteryCategory",
    "BatteryComponent",
    "BatteryCondition",
    "BatteryMaterial",
    "BatteryStatus",
    "CarbonFootprint",
    "Chemistry",
    "Circularity",
    "Conformity",
    "GeneralProductInformation",
    "Granularity",
    "HazardousSubstance",
    "Label",
    "LifecycleStage",
    "MaterialComposition",
    "Passport",
    "PerformanceAndDurability",
    "RecycledContent",
    "RecycledMetal",
    "StageFootprint",
    "SupplyChainDueDiligence",
    "WireModel",
]
