"""Audiences and views: every field has an audience, and each view holds exactly its audiences' fields."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from passport.access import VIEW_AUDIENCES, Role, View, field_in_view, project, view_contains, view_for
from passport.models import Audience, Passport
from passport.models.introspect import all_fields, leaves


def _leaf_values(document: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(pointer with /- for list items, value) of every leaf value of a document."""
    if isinstance(document, dict):
        for key, value in document.items():
            yield from _leaf_values(value, f"{prefix}/{key}")
    elif isinstance(document, list):
        for item in document:
            if isinstance(item, dict | list):
                yield from _leaf_values(item, f"{prefix}/-")
            else:
                yield f"{prefix}/-", item
    else:
        yield prefix, document


AUDIENCE_OF = {node.pointer: node.audience for node in leaves(Passport)}


def test_every_field_has_an_audience() -> None:
    missing = [node.pointer for node in leaves(Passport) if node.audience is None]
    assert missing == []
    assert len(AUDIENCE_OF) > 150


def test_every_group_has_fields() -> None:
    for node in all_fields(Passport):
        if node.is_group:
            assert node.children, node.pointer
            assert node.audiences(), node.pointer


def test_every_audience_is_used() -> None:
    assert set(AUDIENCE_OF.values()) == set(Audience)


def test_all_71_ec_datapoints_are_carried() -> None:
    carried: set[int] = set()
    for node in all_fields(Passport):
        carried |= set(node.extra.get("x-ec-datapoints", []))
    assert carried >= set(range(1, 72))


@pytest.mark.parametrize("view", list(View), ids=str)
@pytest.mark.parametrize("name", ["passport-ev", "passport-lmt", "passport-industrial"])
def test_projection_holds_exactly_the_view_audiences(
    example: Callable[[str], dict[str, Any]], view: View, name: str
) -> None:
    document = example(name)
    projected = project(document, view)
    allowed = VIEW_AUDIENCES[view]
    seen = {pointer for pointer, _ in _leaf_values(projected)}
    for pointer in seen:
        assert AUDIENCE_OF[_model_pointer(pointer)] in allowed, pointer
    # and nothing the view may see was dropped
    expected = {p for p, _ in _leaf_values(document) if AUDIENCE_OF[_model_pointer(p)] in allowed}
    assert seen == expected


def _model_pointer(pointer: str) -> str:
    """Map a document pointer to the model's (dictionary keys of labelingMeaning collapse to the field)."""
    if "/labelingMeaning/" in pointer:
        return pointer.split("/labelingMeaning/")[0] + "/labelingMeaning"
    return pointer


def test_public_view_has_no_non_public_value(example: Callable[[str], dict[str, Any]]) -> None:
    document = example("passport-ev")
    public = project(document, View.PUBLIC)
    non_public = {
        str(value)
        for pointer, value in _leaf_values(document)
        if AUDIENCE_OF[_model_pointer(pointer)] is not Audience.PUBLIC and isinstance(value, str) and len(value) > 3
    }
    public_values = {str(value) for _, value in _leaf_values(public)}
    assert "condition" not in public
    assert "batteryStatus" not in public["general"]
    assert "resultOfTestReport" not in public["conformity"]
    assert "batteryMaterials" not in public["composition"]
    # values that only non-public fields hold never appear in the public view
    assert not (non_public - {str(v) for p, v in _leaf_values(document)
                              if AUDIENCE_OF[_model_pointer(p)] is Audience.PUBLIC}) & public_values


def test_projection_drops_unknown_keys() -> None:
    assert project({"general": {"gtin": "1", "secret": "x"}, "extra": 1}, View.FULL) == {"general": {"gtin": "1"}}


def test_views_are_sets_not_levels() -> None:
    assert not view_contains(View.AUTHORITY, View.LEGITIMATE_INTEREST)
    assert not view_contains(View.LEGITIMATE_INTEREST, View.AUTHORITY)
    assert view_contains(View.FULL, View.AUTHORITY)
    assert view_contains(View.AUTHORITY, View.PUBLIC)


@pytest.mark.parametrize(
    ("role", "responsible", "view"),
    [
        (Role.ANONYMOUS, False, View.PUBLIC),
        (Role.MANUFACTURER, True, View.FULL),
        (Role.MANUFACTURER, False, View.PUBLIC),
        (Role.LEGITIMATE_INTEREST, False, View.LEGITIMATE_INTEREST),
        (Role.AUTHORITY, False, View.AUTHORITY),
        (Role.ADMIN, False, View.PUBLIC),
    ],
)
def test_roles_get_views(role: Role, responsible: bool, view: View) -> None:
    assert view_for(role, responsible=responsible) is view


def test_field_in_view() -> None:
    assert field_in_view(("general", "batteryCategory"), View.PUBLIC)
    assert not field_in_view(("general", "batteryStatus"), View.PUBLIC)
    assert field_in_view(("general", "batteryStatus"), View.LEGITIMATE_INTEREST)
    assert not field_in_view(("general", "batteryStatus"), View.AUTHORITY)
    assert field_in_view(("conformity", "resultOfTestReport"), View.AUTHORITY)
    assert not field_in_view(("conformity", "resultOfTestReport"), View.LEGITIMATE_INTEREST)
    assert not field_in_view(("nope",), View.FULL)
