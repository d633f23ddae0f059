"""Imports every module that registers sub-commands on the root application."""

from passport.cli import documents, organisations, passports, schemas, server

__all__ = ["documents", "organisations", "passports", "schemas", "server"]
