"""Opening the service context for a command: settings from the environment, clean errors when the database is
unreachable."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import OperationalError

from passport.cli.app import fail
from passport.config import Settings
from passport.service.context import ServiceContext, open_context


@contextmanager
def service_context(*, migrate: bool = True) -> Iterator[ServiceContext]:
    settings = Settings()
    try:
        context = open_context(settings, migrate=migrate)
    except OperationalError as exc:
        fail(f"cannot open the database {_safe_url(settings.database_url)}: {exc.orig.__class__.__name__}")
    try:
        yield context
    except OperationalError as exc:
        fail(f"database error: {exc.orig.__class__.__name__}")
    finally:
        context.close()


def _safe_url(url: str) -> str:
    """The database URL without its password."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unparsable PASSPORT_DATABASE_URL)"


__all__ = ["service_context"]
