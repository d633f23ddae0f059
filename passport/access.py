"""Audiences, views and roles (Art. 77(2), DESIGN §3), and the one function that projects a document onto a view.

Views are derived from the audience metadata of the models alone (:mod:`passport.models.introspect`)."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from functools import cache
from typing import Any, TypeAlias

from passport.models.base import Audience, Granularity
from passport.models.introspect import FieldNode, field_tree
from passport.models.passport import Passport


class View(StrEnum):
    PUBLIC = "public"
    LEGITIMATE_INTEREST = "legitimate_interest"
    AUTHORITY = "authority"
    FULL = "full"


VIEW_AUDIENCES: Mapping[View, frozenset[Audience]] = {
    View.PUBLIC: frozenset({Audience.PUBLIC}),
    View.LEGITIMATE_INTEREST: frozenset({Audience.PUBLIC, Audience.RESTRICTED, Audience.LEGITIMATE_INTEREST_ONLY}),
    View.AUTHORITY: frozenset({Audience.PUBLIC, Audience.RESTRICTED, Audience.AUTHORITIES_ONLY}),
    View.FULL: frozenset(Audience),
}

VIEW_ORDER: tuple[View, ...] = (View.PUBLIC, View.LEGITIMATE_INTEREST, View.AUTHORITY, View.FULL)


class Role(StrEnum):
    ANONYMOUS = "anonymous"
    MANUFACTURER = "manufacturer"
    LEGITIMATE_INTEREST = "legitimate_interest"
    AUTHORITY = "authority"
    ADMIN = "admin"


def view_for(role: Role, *, responsible: bool = False) -> View:
    """The view a role reads. A manufacturer reads the full view of the passports it is responsible for and the
    public view of the others; admins manage organisations and keys, not passport data."""
    if role is Role.MANUFACTURER:
        return View.FULL if responsible else View.PUBLIC
    if role is Role.LEGITIMATE_INTEREST:
        return View.LEGITIMATE_INTEREST
    if role is Role.AUTHORITY:
        return View.AUTHORITY
    return View.PUBLIC


def view_contains(outer: View, inner: View) -> bool:
    """Whether everything ``inner`` shows is also in ``outer`` (a caller may fetch a narrower view)."""
    return VIEW_AUDIENCES[inner] <= VIEW_AUDIENCES[outer]


# A keep-tree says, per wire name, whether to keep the whole value (True) or which parts of it (a subtree,
# applied to every element of a list).
KeepTree: TypeAlias = dict[str, "bool | KeepTree"]


def _keep(nodes: tuple[FieldNode, ...], include: Any) -> KeepTree:
    tree: KeepTree = {}
    for node in nodes:
        if node.children:
            sub = _keep(node.children, include)
            if sub:  # a subtree even when everything inside is kept: unknown keys never pass
                tree[node.alias] = sub
        elif include(node):
            tree[node.alias] = True
    return tree


@cache
def keep_tree(view: View) -> KeepTree:
    audiences = VIEW_AUDIENCES[view]
    return _keep(field_tree(Passport), lambda node: node.audience in audiences)


@cache
def granularity_tree(granularity: Granularity) -> KeepTree:
    """The parts of a passport that hold ``granularity`` data (model data vs individual battery data)."""
    return _keep(field_tree(Passport), lambda node: node.granularity is granularity)


def prune(value: Any, tree: KeepTree) -> Any:
    """Keep only what ``tree`` names; objects and list items left empty disappear."""
    if isinstance(value, list):
        items = [prune(item, tree) for item in value]
        # prune gives dicts, lists or None: "not in ({}, None)" without the generic comparisons
        return [item for item in items if item is not None and item != {}]
    if not isinstance(value, Mapping):
        return None
    out: dict[str, Any] = {}
    for key, sub in tree.items():
        if key not in value:
            continue
        item = value[key]
        if sub is True:
            if item is not None:
                out[key] = item
        else:
            kept = prune(item, sub)  # type: ignore[arg-type]
            if kept is not None and kept != {}:
                out[key] = kept
    return out


def project(document: Mapping[str, Any], view: View) -> dict[str, Any]:
    """The part of a passport document (wire form) that ``view`` may see. Unknown keys never pass."""
    return prune(document, keep_tree(view))  # type: ignore[no-any-return]


def field_in_view(pointer_parts: tuple[str, ...], view: View) -> bool:
    """Whether a field path (wire names, no list indices) lies inside ``view``: used to refuse filters, sorts
    and groupings on fields a role may not read."""
    tree: bool | KeepTree = keep_tree(view)
    for part in pointer_parts:
        if tree is True:
            return True
        if not isinstance(tree, dict) or part not in tree:
            return False
        tree = tree[part]
    return True


__all__ = [
    "VIEW_AUDIENCES",
    "VIEW_ORDER",
    "KeepTree",
    "Role",
    "View",
    "field_in_view",
    "granularity_tree",
    "keep_tree",
    "project",
    "prune",
    "view_contains",
    "view_for",
]
