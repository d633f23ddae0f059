"""Exports (NDJSON) of the service's signed history and access records, their offline verification, and their
restore: the module the CLI, the tests and the bench import. It was one module of three roles; each now has its own
(dump_format: the format's constants and description; dump_export: writing; dump_verify: reading and verifying;
dump_restore: restoring), and this one re-exports their public names so that importers did not change."""

from __future__ import annotations

from passport.service.dump_export import export
from passport.service.dump_format import FORMAT
from passport.service.dump_restore import restore
from passport.service.dump_verify import DumpReport, DumpVerifier, read_lines, verify_dump

__all__ = ["FORMAT", "DumpReport", "DumpVerifier", "export", "read_lines", "restore", "verify_dump"]
