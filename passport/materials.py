"""Material identities for inventories and reports: the recoverable materials recyclers count, by CAS number or
name, and the Art. 8 / Annex XII targets they are measured against."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# CAS registry numbers of the materials the recycling targets and inventories name.
BY_CAS: Mapping[str, str] = {
    "7440-48-4": "Co",
    "7439-93-2": "Li",
    "7440-02-0": "Ni",
    "7439-96-5": "Mn",
    "7439-92-1": "Pb",
    "7440-50-8": "Cu",
    "7429-90-5": "Al",
    "7782-42-5": "graphite",  # natural graphite
    "7440-44-0": "graphite",  # synthetic graphite / carbon
    "7439-89-6": "Fe",
    "7440-23-5": "Na",
}
BY_NAME: Mapping[str, str] = {
    "cobalt": "Co",
    "lithium": "Li",
    "nickel": "Ni",
    "manganese": "Mn",
    "lead": "Pb",
    "copper": "Cu",
    "aluminium": "Al",
    "aluminum": "Al",
    "graphite": "graphite",
    "natural graphite": "graphite",
    "synthetic graphite": "graphite",
    "iron": "Fe",
    "sodium": "Na",
}
RECOVERABLE = ("Co", "Li", "Ni", "Mn", "Pb", "Cu", "Al", "graphite")

# Annex XII Part C: material recovery targets (%), by the end of 2027 and of 2031.
RECOVERY_2027 = {"Co": 90.0, "Cu": 90.0, "Pb": 90.0, "Ni": 90.0, "Li": 50.0}
RECOVERY_2031 = {"Co": 95.0, "Cu": 95.0, "Pb": 95.0, "Ni": 95.0, "Li": 80.0}

# Art. 8: minimum recycled shares (%), from 18 August 2031 and 2036. Co, Li, Ni in active materials; Pb in battery.
RECYCLED_2031 = {"Co": 16.0, "Pb": 85.0, "Li": 6.0, "Ni": 6.0}
RECYCLED_2036 = {"Co": 26.0, "Pb": 85.0, "Li": 12.0, "Ni": 15.0}


def material_key(name: str, cas: str) -> str:
    """The inventory key of a composition entry: its element or graphite, else its own name (lower case)."""
    return BY_CAS.get(cas) or BY_NAME.get(name.strip().casefold()) or name.strip().casefold()[:40]


def normalise_recovered(name: str) -> str:
    """The key of a recovered material as a recycler reports it (``Co``, ``cobalt``, ``graphite`` …)."""
    stripped = name.strip()
    for key in RECOVERABLE:
        if stripped.casefold() == key.casefold():
            return key
    return BY_NAME.get(stripped.casefold(), stripped.casefold()[:40])


def composition_lines(document: Mapping[str, Any]) -> tuple[tuple[str, str, str, float], ...]:
    """(key, name, CAS, mass in kg) of every material of a full passport document."""
    materials = (document.get("composition") or {}).get("batteryMaterials") or []
    return tuple(
        (
            material_key(m["batteryMaterialName"], m["batteryMaterialIdentifier"]),
            m["batteryMaterialName"],
            m["batteryMaterialIdentifier"],
            float(m["batteryMaterialMass"]),
        )
        for m in materials
    )


def recycled_lines(document: Mapping[str, Any]) -> tuple[tuple[str, float, float], ...]:
    entries = (document.get("circularity") or {}).get("recycledContent") or []
    return tuple((e["recycledMaterial"], float(e["preConsumerShare"]), float(e["postConsumerShare"])) for e in entries)


__all__ = [
    "RECOVERABLE",
    "RECOVERY_2027",
    "RECOVERY_2031",
    "RECYCLED_2031",
    "RECYCLED_2036",
    "composition_lines",
    "material_key",
    "normalise_recovered",
    "recycled_lines",
]


def recovery_lines(
    document: Mapping[str, Any], recovered: Iterable[tuple[str, float]]
) -> tuple[tuple[str, float | None, float], ...]:
    """(material, input kg from the composition or None, recovered kg) per recovered material, from a recycler's
    (name, kg) pairs: the rows recovery rates are computed from."""
    inputs: dict[str, float] = {}
    for key, _, _, mass in composition_lines(document):
        inputs[key] = inputs.get(key, 0.0) + mass
    totals: dict[str, float] = {}
    for name, mass in recovered:
        key = normalise_recovered(name)
        totals[key] = totals.get(key, 0.0) + mass
    return tuple((key, inputs.get(key), mass) for key, mass in sorted(totals.items()))
