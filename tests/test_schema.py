"""The published JSON Schemas: valid 2020-12, committed without drift, metadata on every property, views pruned."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from passport.access import VIEW_AUDIENCES, View, project
from passport.schema import SCHEMA_NAMES, drift, export, schema_document

ROOT = Path(__file__).resolve().parents[1]
VIEW_SCHEMAS = {"passport-public": View.PUBLIC, "passport-legitimate-interest": View.LEGITIMATE_INTEREST,
                "passport-authority": View.AUTHORITY, "passport": View.FULL}


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_schema_is_valid_draft_2020_12(name: str) -> None:
    document = schema_document(name)
    Draft202012Validator.check_schema(document)
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_committed_schemas_do_not_drift() -> None:
    assert drift(ROOT / "schemas") == []


def test_export_writes_every_schema_and_check_detects_drift(tmp_path: Path) -> None:
    written = export(tmp_path)
    assert sorted(p.name for p in written) == sorted(f"{n}.json" for n in SCHEMA_NAMES)
    assert drift(tmp_path) == []
    (tmp_path / "passport-public.json").write_text("{}")
    (tmp_path / "battery-model.json").unlink()
    assert drift(tmp_path) == ["passport-public", "battery-model"]


def _properties(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, body in [("<root>", schema), *schema.get("$defs", {}).items()]:
        for key, prop in body.get("properties", {}).items():
            yield f"{name}.{key}", prop


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_every_property_shows_its_audience_and_granularity(name: str) -> None:
    for where, prop in _properties(schema_document(name)):
        assert "x-audience" in prop, where
        assert "x-granularity" in prop, where


@pytest.mark.parametrize(("name", "view"), VIEW_SCHEMAS.items())
def test_view_schema_holds_only_its_audiences(name: str, view: View) -> None:
    allowed = {a.value for a in VIEW_AUDIENCES[view]}
    for where, prop in _properties(schema_document(name)):
        audiences = prop["x-audience"]
        found = set(audiences) if isinstance(audiences, list) else {audiences}
        assert found and found <= allowed, where


def test_units_are_published() -> None:
    general = schema_document("passport")["$defs"]["GeneralProductInformation"]["properties"]
    assert general["batteryMass"]["x-unit"] == "kg"
    assert general["batteryStatus"]["x-annex-xiii"] == "4(c)"


@pytest.mark.parametrize(("name", "view"), VIEW_SCHEMAS.items())
def test_projected_examples_validate_against_their_view_schema(
    example: Callable[[str], dict[str, Any]], name: str, view: View
) -> None:
    validator = Draft202012Validator(schema_document(name), format_checker=FormatChecker())
    projected = project(example("passport-ev"), view)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(projected)]
    assert errors == []


def test_public_view_schema_refuses_non_public_fields(example: Callable[[str], dict[str, Any]]) -> None:
    validator = Draft202012Validator(schema_document("passport-public"))
    document = example("passport-ev")
    assert not validator.is_valid(document)  # the full document carries status, condition, test reports ...
    assert validator.is_valid(project(document, View.PUBLIC))


def test_battery_model_schema_holds_model_data_only() -> None:
    model = schema_document("battery-model")
    general = model["$defs"]["GeneralProductInformation"]["properties"]
    assert "gtin" in general and "batteryCategory" in general and "manufacturerInformation" in general
    assert "serialNumber" not in general and "batteryStatus" not in general and "operatorInformation" not in general
    assert "condition" not in model["properties"]
    text = json.dumps(model)
    assert '"x-granularity": "item"' not in text
