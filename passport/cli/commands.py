"""Imports every module that registers sub-commands on the root application."""

from passport.cli import (
    access,
    apikeys,
    codes,
    demo,
    documents,
    imports,
    organisations,
    passports,
    reports,
    schemas,
    server,
)

__all__ = [
    "access", "apikeys", "codes", "demo", "documents", "imports", "organisations", "passports", "reports", "schemas",
    "server",
]
