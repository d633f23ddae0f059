"""Custody and end of life of the individual battery: who holds it, who is responsible for it, and what happened to
it on the way to recycling. Kept apart from responsibility (Art. 77(4), (7)): custody changes by transfer, the
responsible economic operator by written delegation, a second life, or the battery becoming waste.

These are data of the individual battery that reveal its status, so they share the audience of the status
(Annex XIII point 4): persons with a legitimate interest."""

from __future__ import annotations

from enum import StrEnum

from passport.models.base import (
    Audience,
    Granularity,
    ShortText,
    Text,
    Timestamp,
    WireModel,
    group,
    spec,
)

LEGIT, ITEM = Audience.LEGITIMATE_INTEREST_ONLY, Granularity.ITEM


class CustodyEventType(StrEnum):
    TRANSFER = "transfer"
    DELEGATION = "delegation"
    COLLECTED = "collected"
    RECEIVED_FOR_TREATMENT = "received-for-treatment"
    DISMANTLED = "dismantled"
    RECYCLED = "recycled"


class RecoveredMaterial(WireModel):
    material: ShortText = spec(LEGIT, ITEM, "Recovered material: Co, Li, Ni, Mn, Pb, Cu, Al, graphite or a name.")
    mass: float = spec(LEGIT, ITEM, "Mass recovered from this battery.", unit="kg", ge=0, le=1_000_000)


class CustodyEvent(WireModel):
    type: CustodyEventType = spec(LEGIT, ITEM, "What happened.")
    at: Timestamp = spec(LEGIT, ITEM, "When it was recorded.")
    by: ShortText = spec(LEGIT, ITEM, "DID of the organisation that recorded it.")
    to: ShortText | None = spec(LEGIT, ITEM, "DID of the receiving organisation (transfer, delegation).", default=None)
    note: Text | None = spec(
        LEGIT, ITEM, "Free text, e.g. the collection point or the treatment process.", default=None
    )
    recovered_materials: list[RecoveredMaterial] = group(
        "Masses recovered (recycled event).", default_factory=list, max_length=30
    )


class Custody(WireModel):
    holder: ShortText | None = spec(
        LEGIT, ITEM, "DID of the organisation that physically holds the battery.", default=None
    )
    responsible_operator: ShortText | None = spec(
        LEGIT, ITEM, "DID of the economic operator responsible for the passport (Art. 77(4), (7)).", default=None
    )
    events: list[CustodyEvent] = group(
        "Custody and end-of-life events, oldest first.", default_factory=list, max_length=500
    )


__all__ = ["Custody", "CustodyEvent", "CustodyEventType", "RecoveredMaterial"]
