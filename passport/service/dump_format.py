"""The export format (NDJSON), shared by what writes it (dump_export) and what reads it (dump_verify, dump_restore):
every version's credentials, plus the organisations with their DID documents and public key history, so that
verifying a dump needs no network. Private keys and API keys are never exported.

Lines, in order: one ``header``; one ``organisation`` per organisation; one ``version`` per passport version
(passports contiguous, versions ascending); then what a full export carries besides signed history: ``model``
(battery models with their versions), ``purpose``, ``grant``, ``access-request``, ``owner`` and ``audit`` lines;
one ``trailer`` with the counts and the SHA-256 of every line before it. Credentials are protected by their
signatures; the digest also covers what no signature does (organisation names, creation times, warnings, the
access records), so that a dump with one changed byte anywhere is rejected. The access log is not exported: it
records the reads of one installation, and is pruned by its own retention."""

from __future__ import annotations

FORMAT = "passport-export"
FORMAT_VERSION = 1
EXTRA_TYPES = ("model", "purpose", "grant", "access-request", "owner", "audit")
LINE_TYPES = ("header", "organisation", "version", *EXTRA_TYPES, "trailer")

__all__ = ["EXTRA_TYPES", "FORMAT", "FORMAT_VERSION", "LINE_TYPES"]
