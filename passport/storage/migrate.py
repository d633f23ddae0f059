"""Runs the Alembic migrations on a connection: ``passport init`` and every store start bring the schema to head.

A database already at :data:`HEAD` (every start but the first after an upgrade) is recognised with one query and
Alembic is not even imported: importing and configuring it took about a third of a second of every command's
start-up (``passport verify`` is timed against a floor in ``make bench``)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, inspect, text

from passport.errors import ConfigurationError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# The newest migration's revision; tests/test_store.py checks it against Alembic's script directory, so a new
# migration without this line changed fails the suite rather than being skipped at start-up.
HEAD = "0007"


def current_revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(connection: Connection) -> None:
    if current_revision(connection) == HEAD:
        return
    from alembic import command
    from alembic.config import Config
    from alembic.util import CommandError

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    try:
        command.upgrade(config, "head")
    except CommandError as exc:  # e.g. a revision this version does not know: a database from a newer passport
        raise SchemaUnknown(str(exc)) from None


class SchemaUnknown(ConfigurationError):
    """The database's schema cannot be brought to this version's head (it is from a newer version of passport)."""


__all__ = ["HEAD", "SchemaUnknown", "current_revision", "upgrade"]
