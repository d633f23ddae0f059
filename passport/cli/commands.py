"""Imports every module that registers sub-commands on the root application."""

from passport.cli import documents, schemas, server

__all__ = ["documents", "schemas", "server"]
