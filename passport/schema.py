"""The published JSON Schemas (draft 2020-12), generated from the models: the full passport, one per view, and
the battery model. ``schemas/*.json`` holds them committed; ``passport schema check`` and a test catch drift.

Each property shows its audience (``x-audience``), granularity, unit and Annex XIII point; a property holding a
group of fields lists the audiences found inside it."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from pydantic.json_schema import GenerateJsonSchema

from passport.access import VIEW_AUDIENCES, KeepTree, View, granularity_tree, keep_tree
from passport.models.base import Granularity
from passport.models.introspect import FieldNode, field_tree
from passport.models.passport import Passport

DRAFT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_VERSION = "1.0.0"

SCHEMA_NAMES: tuple[str, ...] = (
    "passport",
    "passport-public",
    "passport-legitimate-interest",
    "passport-authority",
    "battery-model",
)
_VIEW_OF_NAME: Mapping[str, View] = {
    "passport-public": View.PUBLIC,
    "passport-legitimate-interest": View.LEGITIMATE_INTEREST,
    "passport-authority": View.AUTHORITY,
}
_TITLES: Mapping[str, str] = {
    "passport": "EU battery passport (full view: every field)",
    "passport-public": "EU battery passport, public view (Annex XIII point 1)",
    "passport-legitimate-interest": "EU battery passport, view of persons with a legitimate interest "
    "(Annex XIII points 1, 2 and 4)",
    "passport-authority": "EU battery passport, view of notified bodies, market surveillance authorities and the "
    "Commission (Annex XIII points 1, 2 and 3)",
    "battery-model": "Battery model: the model-level data of a passport, registered once",
}


class _NoTitles(GenerateJsonSchema):
    """Pydantic's generator without the auto-generated property titles ("Batterymass"), which only add noise."""

    def field_title_should_be_set(self, schema: Any) -> bool:  # noqa: ARG002 - pydantic's signature
        return False


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The object schema a property points at, and its $defs name (through anyOf-null and array items)."""
    if "anyOf" in node:
        node = next(branch for branch in node["anyOf"] if branch.get("type") != "null")
    if node.get("type") == "array":
        node = node["items"]
    ref = node.get("$ref")
    if ref is None:
        return node, None
    name = ref.rsplit("/", 1)[1]
    return schema["$defs"][name], name


def _annotate_groups(schema: dict[str, Any], target: dict[str, Any], nodes: tuple[FieldNode, ...]) -> None:
    for node in nodes:
        if not node.children:
            continue
        site = target["properties"][node.alias]
        if "x-audience" in site:
            continue  # a shared definition, annotated where first met (a group's granularity holds inside it)
        site["x-audience"] = sorted(a.value for a in node.audiences())
        granularities = sorted(g.value for g in node.granularities())
        site["x-granularity"] = granularities[0] if len(granularities) == 1 else granularities
        site.pop("x-group", None)
        inner, _ = _resolve(schema, site)
        _annotate_groups(schema, inner, node.children)


@cache
def _full() -> dict[str, Any]:
    schema = Passport.model_json_schema(by_alias=True, mode="validation", schema_generator=_NoTitles)
    _annotate_groups(schema, schema, field_tree(Passport))
    return schema


class _Pruner:
    """Copies a schema keeping only the properties a keep-tree names. A shared definition pruned differently in
    two places becomes two definitions."""

    def __init__(self, source: dict[str, Any]) -> None:
        self.source = source
        self.defs: dict[str, Any] = {}
        self.names: dict[tuple[str, str], str] = {}

    def site(self, node: dict[str, Any], tree: bool | KeepTree) -> dict[str, Any]:
        node = copy.deepcopy(node)
        if tree is True:
            self._keep_refs(node)
            return node
        assert isinstance(tree, dict)
        holder = node
        if "anyOf" in node:
            holder = next(branch for branch in node["anyOf"] if branch.get("type") != "null")
        if holder.get("type") == "array":
            holder = holder["items"]
        ref = holder.get("$ref")
        if ref is not None:
            holder["$ref"] = "#/$defs/" + self.definition(ref.rsplit("/", 1)[1], tree)
        else:
            self.object(holder, tree)
        return node

    def definition(self, name: str, tree: KeepTree) -> str:
        key = (name, json.dumps(tree, sort_keys=True))
        if key not in self.names:
            taken = set(self.names.values())
            new = name if name not in taken else f"{name}{sum(1 for k in self.names if k[0] == name) + 1}"
            self.names[key] = new
            body = copy.deepcopy(self.source["$defs"][name])
            self.object(body, tree)
            self.defs[new] = body
        return self.names[key]

    def object(self, target: dict[str, Any], tree: KeepTree) -> None:
        properties = target.get("properties", {})
        target["properties"] = {key: self.site(properties[key], sub) for key, sub in tree.items() if key in properties}
        if "required" in target:
            target["required"] = [key for key in target["required"] if key in target["properties"]]
            if not target["required"]:
                del target["required"]

    def _keep_refs(self, node: Any) -> None:
        """Copy every definition a kept subtree refers to, as is."""
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                name = ref.rsplit("/", 1)[1]
                if name not in self.defs:
                    self.defs[name] = copy.deepcopy(self.source["$defs"][name])
                    self._keep_refs(self.defs[name])
            for value in node.values():
                self._keep_refs(value)
        elif isinstance(node, list):
            for value in node:
                self._keep_refs(value)


def _pruned(tree: KeepTree, audiences: frozenset[str] | None) -> dict[str, Any]:
    source = _full()
    pruner = _Pruner(source)
    root = {key: value for key, value in source.items() if key != "$defs"}
    pruner.object(root, tree)
    root["$defs"] = dict(sorted(pruner.defs.items()))
    if audiences is not None:
        for site in _property_sites(root):
            if isinstance(site.get("x-audience"), list):
                site["x-audience"] = [a for a in site["x-audience"] if a in audiences]
    return root


def _property_sites(schema: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from schema.get("properties", {}).values()
    for body in schema.get("$defs", {}).values():
        yield from body.get("properties", {}).values()


@cache
def _build(name: str) -> str:
    if name == "passport":
        body = copy.deepcopy(_full())
    elif name == "battery-model":
        body = _pruned(granularity_tree(Granularity.MODEL), None)
        body["description"] = (
            "Model-level data of a battery passport: registered once per battery model and referenced by the "
            "passports of that model, which add the individual battery's data."
        )
    else:
        view = _VIEW_OF_NAME[name]
        body = _pruned(keep_tree(view), frozenset(a.value for a in VIEW_AUDIENCES[view]))
        body["x-view"] = view.value
    ordered = {"$schema": DRAFT, "title": _TITLES[name], "x-schema-version": SCHEMA_VERSION}
    ordered.update({k: v for k, v in body.items() if k not in ("title", "$schema")})
    return json.dumps(ordered, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def schema_text(name: str) -> str:
    """The published text of schema ``name`` (one of :data:`SCHEMA_NAMES`)."""
    if name not in SCHEMA_NAMES:
        raise KeyError(name)
    return _build(name)


def schema_document(name: str) -> dict[str, Any]:
    return json.loads(schema_text(name))  # type: ignore[no-any-return]


def export(directory: Path) -> list[Path]:
    """Write every schema to ``directory``; return the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name in SCHEMA_NAMES:
        path = directory / f"{name}.json"
        path.write_text(schema_text(name), encoding="utf-8")
        written.append(path)
    return written


def drift(directory: Path) -> list[str]:
    """Names of the schemas whose file in ``directory`` is missing or differs from the models."""
    stale = []
    for name in SCHEMA_NAMES:
        path = directory / f"{name}.json"
        if not path.is_file() or path.read_text(encoding="utf-8") != schema_text(name):
            stale.append(name)
    return stale


__all__ = ["SCHEMA_NAMES", "SCHEMA_VERSION", "drift", "export", "schema_document", "schema_text"]
