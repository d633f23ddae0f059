"""Custody and end of life (Art. 77(4), (7), (8)): transfers between holders, written delegation of responsibility,
collection, reception for treatment, dismantling and recycling with the masses recovered.

Responsibility and custody are kept apart. The responsible economic operator writes the passport; the holder is who
physically has the battery. Each event becomes a new signed version of the passport (signed with the responsible
operator's key, since the issuer of a credential is public; the organisation that recorded the event is in
``custody.events[].by``). Who may record what:

============================  ==============================================  ====================================
event                         who may record it                               requires
============================  ==============================================  ====================================
transfer (to an organisation)  the holder (the responsible operator until a     not ceased
                              first transfer)
delegation (to an operator)   the responsible operator                        not ceased, not waste
collected                     the holder                                      status waste, not yet collected
received-for-treatment        the holder                                      collected, not yet received
dismantled                    the holder                                      received, not yet dismantled
recycled (recovered masses)   the holder, or the responsible operator         status waste; after reception if the
                                                                              battery was collected
============================  ==============================================  ====================================

Recycled ceases the passport (Art. 77(8)); nothing is recorded on a ceased passport, nor on a predecessor frozen by
a second life (its successor carries the battery on). A delegation moves responsibility, never custody: whoever held
the battery still holds it. An event by the wrong organisation is a 403 (Forbidden), checked first; a forbidden
event by the right one is a 409 (TransitionNotAllowed)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter, ValidationError

from passport.clock import rfc3339, truncate_ms
from passport.errors import DocumentInvalid, Forbidden, TransitionNotAllowed
from passport.materials import recovery_lines
from passport.models.base import ShortText, Text, WireModel
from passport.models.custody import RecoveredMaterial
from passport.models.enums import BatteryStatus
from passport.service.passports import Append, Issued, Passports, full_document, get_path
from passport.storage import PassportRecord, VersionRecord
from passport.validation import model_problems

Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")]


class Transfer(WireModel):
    type: Literal["transfer"]
    to: Slug = Field(description="The organisation that now holds the battery")
    note: Text | None = None


class Delegation(WireModel):
    type: Literal["delegation"]
    to: Slug = Field(description="The economic operator authorised in writing to act for the responsible one")
    note: Text | None = None


class Collected(WireModel):
    type: Literal["collected"]
    note: Text | None = None


class ReceivedForTreatment(WireModel):
    type: Literal["received-for-treatment"]
    note: Text | None = None


class Dismantled(WireModel):
    type: Literal["dismantled"]
    note: Text | None = None


class RecycledBattery(WireModel):
    type: Literal["recycled"]
    recovered_materials: list[RecoveredMaterial] = Field(default_factory=list, max_length=30)
    note: Text | None = None
    process: ShortText | None = Field(default=None, description="Recycling process, e.g. hydrometallurgical")


CustodyEvent = Annotated[
    Transfer | Delegation | Collected | ReceivedForTreatment | Dismantled | RecycledBattery,
    Field(discriminator="type"),
]
CUSTODY_TYPES = frozenset({"transfer", "delegation", "collected", "received-for-treatment", "dismantled", "recycled"})
_ADAPTER: TypeAdapter[CustodyEvent] = TypeAdapter(CustodyEvent)


def parse_custody_event(body: bytes) -> CustodyEvent:
    try:
        return _ADAPTER.validate_json(body, by_alias=True, by_name=False)
    except ValidationError as exc:
        raise DocumentInvalid(model_problems(exc)) from None


def _stages(document: Mapping[str, Any]) -> list[str]:
    events = get_path(document, ("custody", "events")) or []
    return [str(event["type"]) for event in events]


class Custody:
    def __init__(self, passports: Passports) -> None:
        self.passports = passports
        self.context = passports.context

    def apply(self, passport_id: str, organisation: str, event: CustodyEvent) -> Issued:
        record = self.context.store.get_passport(passport_id)
        previous = self.context.store.get_version(passport_id, record.current_version)
        append = self.prepare(record, previous, organisation, event)
        self.context.store.add_version(*append)
        return Issued(append[0], append[1], [])

    def prepare(
        self, record: PassportRecord, previous: VersionRecord, organisation: str, event: CustodyEvent
    ) -> Append:
        """Who may record the event comes first (403), then whether the passport's state allows it (409)."""
        document = full_document(previous)
        holder = record.holder or record.organisation
        _authorise(event, organisation, holder, record.organisation)
        if record.ceased:
            raise TransitionNotAllowed(f"passport {record.passport_id} has ceased: the battery was recycled")
        if get_path(document, ("general", "successorPassports")):
            raise TransitionNotAllowed(
                f"passport {record.passport_id} was succeeded by a second-life passport: it is frozen")
        status = BatteryStatus(document["general"]["batteryStatus"])
        stages = _stages(document)
        changes: dict[str, Any] = {}
        to_did: str | None = None
        if isinstance(event, Transfer):
            self.context.store.get_organisation(event.to)
            if event.to == holder:
                raise TransitionNotAllowed(f"{event.to} already holds the battery")
            changes["holder"], to_did = event.to, self.context.urls.did(event.to)
        elif isinstance(event, Delegation):
            self.context.store.get_organisation(event.to)
            if status is BatteryStatus.WASTE:
                raise TransitionNotAllowed(
                    "responsibility for a waste battery lies with the producer, its "
                    "producer-responsibility organisation or the waste operator"
                )
            if event.to == record.organisation:
                raise TransitionNotAllowed(f"{event.to} is already the responsible economic operator")
            # custody stays where it is: whoever holds the battery keeps holding it
            changes["responsible"], changes["holder"] = event.to, holder
            to_did = self.context.urls.did(event.to)
        elif isinstance(event, Collected):
            _require(status is BatteryStatus.WASTE, "only a waste battery is collected (set status waste first)")
            _require("collected" not in stages, "the battery was already collected")
        elif isinstance(event, ReceivedForTreatment):
            _require("collected" in stages, "the battery must be collected before it is received for treatment")
            _require("received-for-treatment" not in stages, "the battery was already received for treatment")
        elif isinstance(event, Dismantled):
            _require("received-for-treatment" in stages, "the battery must be received for treatment first")
            _require("dismantled" not in stages, "the battery was already dismantled")
        else:
            _require(status is BatteryStatus.WASTE, "only a waste battery is recycled (set status waste first)")
            _require(
                "collected" not in stages or "received-for-treatment" in stages,
                "a collected battery is recycled after it was received for treatment",
            )
            changes["ceased"] = True
            changes["recovered"] = recovery_lines(
                document, ((m.material, m.mass) for m in event.recovered_materials))
        return self._sign(record, previous, document, organisation, event, to_did, changes)

    def _sign(
        self,
        record: PassportRecord,
        previous: VersionRecord,
        document: dict[str, Any],
        organisation: str,
        event: CustodyEvent,
        to_did: str | None,
        changes: dict[str, Any],
    ) -> Append:
        urls = self.context.urls
        responsible = changes.pop("responsible", record.organisation)
        holder = changes.pop("holder", record.holder)
        entry: dict[str, Any] = {
            "type": event.type,
            "at": rfc3339(truncate_ms(self.context.clock())),
            "by": urls.did(organisation),
        }
        if to_did:
            entry["to"] = to_did
        if event.note:
            entry["note"] = event.note
        if isinstance(event, RecycledBattery) and event.recovered_materials:
            entry["recoveredMaterials"] = [m.model_dump(by_alias=True) for m in event.recovered_materials]
        custody = dict(document.get("custody") or {})
        custody["events"] = [*custody.get("events", []), entry]
        custody["responsibleOperator"] = urls.did(responsible)
        if holder:
            custody["holder"] = urls.did(holder)
        document["custody"] = custody
        recovered = changes.pop("recovered", ())
        append, _ = self.passports.prepare_next(
            record,
            document,
            previous,
            signer=responsible,  # the issuer is public: never the holder, whose custody is not
            responsible=responsible,
            holder=holder,
            ceased=bool(changes.pop("ceased", False)),
            recovered=recovered,
            recycler=organisation if recovered else None,
        )
        return append


_WHO = {
    "transfer": "the holder of the battery",
    "collected": "the holder of the battery (the collector)",
    "received-for-treatment": "the holder of the battery (the treatment facility)",
    "dismantled": "the holder of the battery (the treatment facility)",
}


def _authorise(event: CustodyEvent, organisation: str, holder: str, responsible: str) -> None:
    """Forbidden unless ``organisation`` may record ``event``: the responsible operator delegates, the holder or the
    responsible operator records the recycling, the holder everything else."""
    if isinstance(event, Delegation):
        _must_be(organisation, responsible, "the responsible economic operator")
    elif isinstance(event, RecycledBattery):
        if organisation not in (holder, responsible):
            raise Forbidden("only the holder or the responsible operator records the recycling")
    else:
        _must_be(organisation, holder, _WHO[event.type])


def _must_be(organisation: str, allowed: str, who: str) -> None:
    if organisation != allowed:
        raise Forbidden(f"only {who} may record this event")


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise TransitionNotAllowed(message)


__all__ = ["CUSTODY_TYPES", "Custody", "CustodyEvent", "parse_custody_event"]
