"""Battery models: model-level data registered once and referenced by passports, which add the individual
battery's data. Correcting a model creates a new model version and a re-issue job that gives every passport
referencing it a new signed version."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from passport import jsonio
from passport.access import granularity_tree, prune
from passport.clock import truncate_ms, uuid7
from passport.errors import DocumentInvalid, Forbidden, InvalidInput, Problem
from passport.models.base import Granularity
from passport.rules import RuleContext
from passport.service.context import ServiceContext
from passport.storage import JobRecord, ModelRecord, ModelVersion
from passport.validation import check, schema_problems

REISSUE = "model-reissue"


def deep_merge(model_part: Mapping[str, Any], item_part: Mapping[str, Any], path: str = "") -> dict[str, Any]:
    """Model data and item data side by side; a field given by both is an error (it belongs to one of them)."""
    merged = dict(model_part)
    for key, value in item_part.items():
        if key not in merged:
            merged[key] = value
        elif isinstance(merged[key], Mapping) and isinstance(value, Mapping):
            merged[key] = deep_merge(merged[key], value, f"{path}/{key}")
        else:
            raise DocumentInvalid([Problem(f"{path}/{key}", "belongs to the battery model: leave it out, or "
                                           "issue a complete passport without modelId", "error", "model-field")])
    return merged


def model_part(document: Mapping[str, Any]) -> dict[str, Any]:
    return prune(document, granularity_tree(Granularity.MODEL))  # type: ignore[no-any-return]


def item_part(document: Mapping[str, Any]) -> dict[str, Any]:
    return prune(document, granularity_tree(Granularity.ITEM))  # type: ignore[no-any-return]


def _probe_item(model_document: Mapping[str, Any]) -> dict[str, Any]:
    """Placeholder item data that lets the model-level business rules run on a model alone."""
    general = model_document.get("general", {})
    return {"general": {
        "serialNumber": "PROBE", "manufacturingDate": "2000-01-01", "batteryStatus": "original",
        "manufacturingPlace": {"streetAddress": "-", "postalCode": "0", "addressLocality": "-", "addressCountry": "DE"},
        "operatorInformation": general.get("manufacturerInformation", {}),
    }}


def check_model_document(document: Any, context: ServiceContext) -> tuple[dict[str, Any], list[Problem]]:
    """Validate a battery model: its JSON Schema, then every business rule that concerns model data."""
    if not isinstance(document, Mapping):
        raise InvalidInput("a battery model is a JSON object")
    problems = schema_problems(document, "battery-model")
    if problems:
        raise DocumentInvalid(problems)
    model_pointers = _model_pointers()
    try:
        checked = check(deep_merge(document, _probe_item(document)), RuleContext(context.clock()))
    except DocumentInvalid as invalid:
        relevant = [p for p in invalid.problems if _is_model_pointer(p.pointer, model_pointers)]
        if any(p.severity == "error" for p in relevant):
            raise DocumentInvalid(relevant) from None
        return dict(document), [p for p in relevant if p.severity == "warning"]
    return dict(document), [w for w in checked.warnings if _is_model_pointer(w.pointer, model_pointers)]


def _model_pointers() -> set[str]:
    return set(_pointers(granularity_tree(Granularity.MODEL), ""))


def _pointers(tree: Mapping[str, Any], prefix: str) -> list[str]:
    found = []
    for key, sub in tree.items():
        found.append(f"{prefix}/{key}")
        if isinstance(sub, Mapping):
            found += _pointers(sub, f"{prefix}/{key}")
    return found


def _is_model_pointer(pointer: str, model_pointers: set[str]) -> bool:
    parts = [p for p in pointer.split("/") if p and not p.isdigit()]
    return "/" + "/".join(parts) in model_pointers


class BatteryModels:
    def __init__(self, context: ServiceContext) -> None:
        self.context = context

    def register(self, organisation: str, document: bytes | Mapping[str, Any]) -> tuple[ModelRecord, list[Problem]]:
        parsed = jsonio.loads(document) if isinstance(document, bytes) else document
        model_document, warnings = check_model_document(parsed, self.context)
        now = truncate_ms(self.context.clock())
        general = model_document["general"]
        record = ModelRecord(str(uuid7()), organisation, general["gtin"], general["modelIdentifier"], 1, now, now)
        self.context.store.add_model_version(record, ModelVersion(record.model_id, 1, model_document, now), None)
        return record, warnings

    def correct(
        self, model_id: str, organisation: str, document: bytes | Mapping[str, Any], expected_version: int
    ) -> tuple[ModelRecord, JobRecord]:
        """A new model version, and a re-issue job for the passports referencing the model."""
        current = self.context.store.get_model(model_id)
        if current.organisation != organisation:
            raise Forbidden(f"battery model {model_id} belongs to another organisation")
        parsed = jsonio.loads(document) if isinstance(document, bytes) else document
        model_document, _ = check_model_document(parsed, self.context)
        if model_document["general"]["gtin"] != current.gtin:
            raise InvalidInput("/general/gtin cannot change: register a new battery model instead")
        now = truncate_ms(self.context.clock())
        number = expected_version + 1
        record = ModelRecord(model_id, organisation, current.gtin, model_document["general"]["modelIdentifier"],
                             number, current.created_at, now)
        self.context.store.add_model_version(record, ModelVersion(model_id, number, model_document, now),
                                             expected_version)
        job = JobRecord(str(uuid7()), organisation, REISSUE, f"{model_id}@{number}", "pending", now, now)
        self.context.store.save_job(job)
        return record, job

    def compose(self, model_id: str, organisation: str, item_document: Mapping[str, Any]) -> tuple[dict[str, Any], int]:
        """The full passport document: the model's current data plus the item data."""
        model = self.context.store.get_model(model_id)
        if model.organisation != organisation:
            raise Forbidden(f"battery model {model_id} belongs to another organisation")
        version = self.context.store.get_model_version(model_id)
        return deep_merge(version.document, item_document), version.version


def job_entry(passport_id: str, version: int | None = None, problem: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"passportId": f"urn:uuid:{passport_id}"}
    if problem is None:
        entry["version"] = version
    else:
        entry["problem"] = problem
    return entry


def now_utc(context: ServiceContext) -> dt.datetime:
    return truncate_ms(context.clock())


__all__ = [
    "REISSUE",
    "BatteryModels",
    "check_model_document",
    "deep_merge",
    "item_part",
    "job_entry",
    "model_part",
]
