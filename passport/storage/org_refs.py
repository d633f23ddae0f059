"""SQL expressions naming organisations by slug: the id of a slug (for conditions) and the slug of an id column (for
results). Rows store organisation ids; the API and the records speak in slugs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from passport.storage.tables import organisations


def org_id(slug: str) -> Any:
    """The id of organisation ``slug``, as a scalar subquery."""
    return select(organisations.c.id).where(organisations.c.slug == slug).scalar_subquery()


def slug_of(column: Any, label: str) -> Any:
    """The slug of the organisation whose id is in ``column``, as a column labelled ``label``."""
    alias = organisations.alias(f"o_{label}")
    return select(alias.c.slug).where(alias.c.id == column).scalar_subquery().label(label)


__all__ = ["org_id", "slug_of"]
