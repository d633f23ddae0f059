"""The battery's life in the passport (DESIGN §3, Art. 77(7)-(8)): state-of-health updates, negative events,
status changes, repurposing into a successor passport, and recycling, after which the passport ceases.

Transitions: a passport starts ``original`` (or a second-life status when it is a successor); any non-waste status
→ ``waste``; ``waste`` + recycled → ceased. Nothing leaves ``waste`` or ceased, and a predecessor is frozen once
succeeded. Anything else is refused with TransitionNotAllowed (409)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter, ValidationError

from passport.errors import DocumentInvalid, InvalidInput, Problem, TransitionNotAllowed, VersionConflict
from passport.models.base import Text, Timestamp, WireModel
from passport.models.condition import BatteryCondition
from passport.models.enums import SECOND_LIFE_STATUSES, BatteryStatus
from passport.service.custody import (
    Collected,
    Custody,
    Delegation,
    Dismantled,
    ReceivedForTreatment,
    RecycledBattery,
    Slug,
    Transfer,
)
from passport.service.passports import Append, Issued, Passports, check_writable, full_document, get_path
from passport.storage import PassportRecord, VersionRecord
from passport.validation import model_problems


class StateOfHealth(WireModel):
    """New readings of the battery's condition; readings given replace the stored ones, negative events add up."""

    type: Literal["state-of-health"]
    condition: BatteryCondition


class NegativeEventReport(WireModel):
    type: Literal["negative-event"]
    negative_event: Text
    last_update: Timestamp


class StatusChange(WireModel):
    type: Literal["status-change"]
    status: Literal["waste"] = Field(description="The only status an event can set: second-life statuses come "
                                                 "from the repurpose action.")
    responsible_operator: Slug | None = Field(
        default=None, description="When the battery becomes waste, responsibility may move to the producer, its "
        "producer-responsibility organisation or the waste management operator (Art. 77(7)): that organisation")


Recycled = RecycledBattery  # "recycled", with the masses recovered: recorded by the custody rules

Event = Annotated[
    StateOfHealth | NegativeEventReport | StatusChange | Transfer | Delegation | Collected | ReceivedForTreatment
    | Dismantled | RecycledBattery,
    Field(discriminator="type"),
]
EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def parse_event(body: bytes) -> Event:
    try:
        return EVENT_ADAPTER.validate_json(body, by_alias=True, by_name=False)
    except ValidationError as exc:
        raise DocumentInvalid(model_problems(exc)) from None


def _condition_after(document: Mapping[str, Any], readings: Mapping[str, Any]) -> dict[str, Any]:
    condition = dict(document.get("condition") or {})
    events = list(condition.get("negativeEvents") or []) + list(readings.get("negativeEvents") or [])
    condition.update({k: v for k, v in readings.items() if k != "negativeEvents"})
    if events:
        condition["negativeEvents"] = events
    return condition


class Lifecycle:
    def __init__(self, passports: Passports) -> None:
        self.passports = passports
        self.store = passports.context.store

    def apply(self, passport_id: str, organisation: str, event: Event, expected_version: int | None = None) -> Issued:
        """Record ``event`` as a new signed version of the passport; with ``expected_version``, only on top of that
        version (VersionConflict otherwise), as the client's If-Match asked."""
        record = self.store.get_passport(passport_id)
        if expected_version is not None and record.current_version != expected_version:
            raise VersionConflict(f"passport {passport_id} is no longer at version {expected_version}")
        previous = self.store.get_version(passport_id, record.current_version)
        append = self.prepare(record, previous, organisation, event)
        self.store.add_version(*append)
        return Issued(append[0], append[1], [Problem(**w) for w in append[1].warnings])

    def prepare(self, record: PassportRecord, previous: VersionRecord, organisation: str, event: Event) -> Append:
        """The signed version ``event`` leads to, not yet stored (bulk imports store many at once). Readings,
        negative events and the change to waste come from the responsible operator or the holder; custody and
        end-of-life events follow the custody rules (passport/service/custody.py)."""
        if isinstance(event, Transfer | Delegation | Collected | ReceivedForTreatment | Dismantled | RecycledBattery):
            return Custody(self.passports).prepare(record, previous, organisation, event)
        document = full_document(previous)
        check_writable(record, document, organisation, holder_may=True)
        status = BatteryStatus(document["general"]["batteryStatus"])
        responsible: str | None = None
        if isinstance(event, StateOfHealth):
            readings = event.condition.model_dump(mode="json", by_alias=True, exclude_unset=True, exclude_none=True)
            document["condition"] = _condition_after(document, readings)
        elif isinstance(event, NegativeEventReport):
            entry = {"negativeEvent": event.negative_event, "lastUpdate": event.last_update}
            document["condition"] = _condition_after(document, {"negativeEvents": [entry]})
        else:
            if status is BatteryStatus.WASTE:
                raise TransitionNotAllowed("the battery is already waste; nothing leaves waste")
            document["general"]["batteryStatus"] = BatteryStatus.WASTE.value
            moved = event.responsible_operator
            if moved is not None and moved != record.organisation:
                self.store.get_organisation(moved)
                responsible = moved
                self._move_responsibility(record, document, moved)
        holder = (record.holder or record.organisation) if responsible else record.holder
        append, _ = self.passports.prepare_next(record, document, previous, signer=responsible,
                                               responsible=responsible, holder=holder)
        return append

    def _move_responsibility(self, record: PassportRecord, document: dict[str, Any], responsible: str) -> None:
        """The signed custody names the new responsible operator; custody itself stays with whoever holds the
        battery (the old responsible operator, if it was never transferred)."""
        urls = self.passports.context.urls
        custody = dict(document.get("custody") or {})
        custody["responsibleOperator"] = urls.did(responsible)
        custody["holder"] = urls.did(record.holder or record.organisation)
        document["custody"] = custody

    def repurpose(
        self, passport_id: str, organisation: str, status: str, successor: Mapping[str, Any],
        model_id: str | None = None,
    ) -> tuple[Issued, Issued]:
        """Art. 77(7): a new passport for the battery's second life, linked both ways; the predecessor is frozen
        with the matching status. Both versions are stored in one transaction."""
        try:
            second_life = BatteryStatus(status)
        except ValueError:
            second_life = BatteryStatus.ORIGINAL
        if second_life not in SECOND_LIFE_STATUSES:
            raise InvalidInput("status: one of repurposed, re-used, remanufactured")
        record = self.passports.writable(passport_id, organisation)
        current = BatteryStatus(str(get_path(self.passports.current_document(passport_id),
                                             ("general", "batteryStatus"))))
        if current is BatteryStatus.WASTE:
            raise TransitionNotAllowed("a waste battery cannot be given a second life here; nothing leaves waste")
        new_append, warnings = self._successor(organisation, passport_id, second_life, successor, model_id)
        old_append = self._freeze(record, second_life, new_append[0].passport_id, organisation)
        self.store.add_versions([new_append, old_append])
        return Issued(new_append[0], new_append[1], warnings), Issued(old_append[0], old_append[1], [])

    def _successor(
        self, organisation: str, predecessor: str, status: BatteryStatus, successor: Mapping[str, Any],
        model_id: str | None,
    ) -> tuple[Append, list[Any]]:
        document = dict(successor)
        general = dict(document.get("general") or {})
        if general.get("predecessorPassports") not in (None, [], [f"urn:uuid:{predecessor}"]):
            raise InvalidInput("/general/predecessorPassports is set by the repurpose action")
        general["batteryStatus"] = status.value
        general["predecessorPassports"] = [f"urn:uuid:{predecessor}"]
        document["general"] = general
        return self.passports.prepare_issue(organisation, document, model_id, second_life=True)

    def _freeze(self, record: PassportRecord, status: BatteryStatus, successor: str, organisation: str) -> Append:
        previous = self.store.get_version(record.passport_id, record.current_version)
        document = full_document(previous)
        document["general"]["batteryStatus"] = status.value
        document["general"]["successorPassports"] = [
            *document["general"].get("successorPassports", []), f"urn:uuid:{successor}"]
        append, _ = self.passports.prepare_next(record, document, previous, organisation=organisation)
        return append


__all__ = ["Event", "Lifecycle", "NegativeEventReport", "Recycled", "StateOfHealth", "StatusChange", "parse_event"]
