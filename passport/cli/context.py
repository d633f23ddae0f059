"""Opening the service context for a command: settings from the environment, clean one-line errors when a setting is
invalid or the database cannot be opened (unreachable, unparsable URL, missing driver, not a database, a schema
this version does not know)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from pydantic import ValidationError
from pydantic_settings import SettingsError
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from passport.cli.app import fail
from passport.config import Settings
from passport.service.context import ServiceContext, open_context
from passport.storage.migrate import SchemaUnknown


def load_settings() -> Settings:
    """The settings from the environment; an invalid one is one line naming its variable."""
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "PASSPORT_" + "_".join(str(part) for part in first["loc"][:1]).upper()
        fail(f"invalid setting {name}: {first['msg']}")
    except SettingsError as exc:  # a list or object setting that is not JSON
        field = re.search(r'field "(\w+)"', str(exc))
        name = f"PASSPORT_{field.group(1).upper()}" if field else "a PASSPORT_* variable"
        fail(f"invalid setting {name}: not JSON (a list is written like [\"127.0.0.1\", \"10.0.0.0/8\"])")


@contextmanager
def service_context(*, migrate: bool = True) -> Iterator[ServiceContext]:
    settings = load_settings()
    where = safe_url(settings.database_url)
    try:
        context = open_context(settings, migrate=migrate)
    except DBAPIError as exc:
        fail(f"cannot open the database {where}: {reason(exc)}")
    except ArgumentError:
        fail("PASSPORT_DATABASE_URL is not a database URL: use sqlite:///path/passport.db or "
             "postgresql://user@host:5432/name")
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        fail(f"cannot open the database {where}: {exc}; passport supports sqlite:/// and postgresql:// URLs")
    except SchemaUnknown as exc:
        fail(f"cannot upgrade the database {where}: {exc} (is it from a newer version of passport?)")
    try:
        yield context
    except DBAPIError as exc:
        fail(f"database error on {where}: {reason(exc)}")
    finally:
        context.close()


def known(context: ServiceContext, *organisations: str | None) -> None:
    """Refuse an organisation that does not exist (NotFound: one line) rather than list nothing for a typo."""
    for slug in organisations:
        if slug is not None:
            context.store.get_organisation(slug)


def reason(exc: DBAPIError) -> str:
    """The driver's own first line (no SQL, no parameters), e.g. 'unable to open database file'."""
    text = str(exc.orig).strip().splitlines()
    return text[0] if text and text[0] else exc.orig.__class__.__name__


def safe_url(url: str) -> str:
    """The database URL without its password."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unparsable PASSPORT_DATABASE_URL)"


__all__ = ["known", "load_settings", "reason", "safe_url", "service_context"]
