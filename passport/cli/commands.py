"""Imports every module that registers sub-commands on the root application."""

from passport.cli import apikeys, documents, imports, organisations, passports, schemas, server

__all__ = ["apikeys", "documents", "imports", "organisations", "passports", "schemas", "server"]
