"""Imports every module that registers sub-commands on the root application."""

from passport.cli import apikeys, codes, demo, documents, imports, organisations, passports, reports, schemas, server

__all__ = [
    "apikeys", "codes", "demo", "documents", "imports", "organisations", "passports", "reports", "schemas", "server",
]
