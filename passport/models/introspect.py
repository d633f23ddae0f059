"""Walk the passport models as a tree of fields with their metadata (audience, granularity, Annex XIII point).

One walk serves the views (:mod:`passport.access`), the battery-model split, the schemas and the data-model
reference, so they cannot disagree."""

from __future__ import annotations

import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from passport.models.base import Audience, Granularity


@dataclass(frozen=True)
class FieldNode:
    """One field of a model, seen from the document root."""

    name: str  # Python attribute name
    alias: str  # wire name
    pointer: str  # JSON pointer from the root, with "/-" for list items, e.g. /composition/batteryMaterials/-/...
    annotation: Any
    info: FieldInfo
    is_list: bool
    granularity: Granularity
    children: tuple[FieldNode, ...] = field(default=())
    audience: Audience | None = None  # leaves only

    @property
    def is_group(self) -> bool:
        return bool(self.children)

    @property
    def extra(self) -> dict[str, Any]:
        extra = self.info.json_schema_extra
        return extra if isinstance(extra, dict) else {}

    @property
    def required(self) -> bool:
        return self.info.is_required()

    def audiences(self) -> frozenset[Audience]:
        """The audiences of this field: its own for a leaf, those of everything inside for a group."""
        if self.audience is not None:
            return frozenset({self.audience})
        return frozenset().union(*(child.audiences() for child in self.children))

    def granularities(self) -> frozenset[Granularity]:
        if not self.children:
            return frozenset({self.granularity})
        return frozenset().union(*(child.granularities() for child in self.children))

    def walk(self) -> Iterator[FieldNode]:
        yield self
        for child in self.children:
            yield from child.walk()


def unwrap(annotation: Any) -> tuple[Any, bool]:
    """The element type of an annotation, and whether it is a list (``X | None`` and ``list[X]`` unwrapped)."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        inner = [arg for arg in get_args(annotation) if arg is not type(None)]
        return unwrap(inner[0]) if len(inner) == 1 else (annotation, False)
    if origin is list:
        element, _ = unwrap(get_args(annotation)[0])
        return element, True
    return annotation, False


def sub_model(annotation: Any) -> type[BaseModel] | None:
    element, _ = unwrap(annotation)
    if isinstance(element, type) and issubclass(element, BaseModel):
        return element
    return None


def _nodes(model: type[BaseModel], prefix: str, inherited: Granularity | None) -> tuple[FieldNode, ...]:
    nodes = []
    for name, info in model.model_fields.items():
        alias = info.alias or name
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        declared = extra.get("x-granularity")
        granularity = inherited or (Granularity(str(declared)) if declared else Granularity.ITEM)
        _, is_list = unwrap(info.annotation)
        pointer = f"{prefix}/{alias}" + ("/-" if is_list else "")
        child_model = sub_model(info.annotation)
        if child_model is not None:
            override = Granularity(str(declared)) if declared and inherited is None else inherited
            children = _nodes(child_model, pointer, override)
            nodes.append(FieldNode(name, alias, pointer, info.annotation, info, is_list, granularity, children))
        else:
            audience = extra.get("x-audience")
            nodes.append(
                FieldNode(
                    name,
                    alias,
                    pointer,
                    info.annotation,
                    info,
                    is_list,
                    granularity,
                    audience=Audience(str(audience)) if audience else None,
                )
            )
    return tuple(nodes)


@cache
def field_tree(model: type[BaseModel]) -> tuple[FieldNode, ...]:
    """The top-level fields of ``model`` with their whole subtrees."""
    return _nodes(model, "", None)


def all_fields(model: type[BaseModel]) -> Iterator[FieldNode]:
    for node in field_tree(model):
        yield from node.walk()


def leaves(model: type[BaseModel]) -> Iterator[FieldNode]:
    return (node for node in all_fields(model) if not node.is_group)
