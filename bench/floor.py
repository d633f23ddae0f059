"""The inline floors (DESIGN §9): the least work that gives the same result, with the same library calls and no
framework around them.

Issuing: Pydantic validation of the JSON bytes and its wire form; per view, the projection, the credential, its
JCS bytes (once), SHA-256 and the Ed25519 signature (``sign_canonical``: the signed bytes are the unsigned members
plus the proof member, not a second canonicalisation); then the same rows as the product (passport, version,
materials, recycled content) with one multi-row INSERT per table and one commit per ``batch`` passports, through the
bare DB-API driver (sqlite3 or psycopg) into the product's own schema.

Verifying: per credential, parse (orjson), JCS of the proof configuration and of the document, SHA-256 of each,
Ed25519 verify; SHA-256 of the export's lines."""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from passport.access import VIEW_ORDER, View, project
from passport.canonical import canonicalize, sha256
from passport.clock import rfc3339, truncate_ms, utc_now, uuid7
from passport.credentials import VersionSubject, build_credential
from passport.materials import composition_lines, recycled_lines
from passport.models.passport import Passport
from passport.multikey import multibase_decode, public_key_from_multikey
from passport.signing import Signer, sign_canonical
from passport.urls import Urls

PASSPORT_COLUMNS = ("id", "gtin", "serial", "organisation_id", "current_version", "category", "chemistry", "status",
                    "ceased", "created_at", "updated_at")
VERSION_COLUMNS = ("passport_id", "version", "created_at", "full_hash", "signed_by", "warnings", "credential_public",
                   "credential_legitimate_interest", "credential_authority", "credential_full")
MATERIAL_COLUMNS = ("passport_id", "position", "material", "name", "cas", "mass_kg")
RECYCLED_COLUMNS = ("passport_id", "metal", "pre_consumer", "post_consumer")


class IssueFloor:
    """Issues passports inline into ``connection`` (a DB-API connection to a database with the product's schema)."""

    def __init__(self, connection: Any, urls: Urls, signer: Signer, organisation: str, organisation_id: int):
        self.connection = connection
        self.urls = urls
        self.signer = signer
        self.did = urls.did(organisation)
        self.organisation_id = organisation_id
        self.sqlite = isinstance(connection, sqlite3.Connection)
        mark = "?" if self.sqlite else "%s"

        def statement(table: str, columns: Sequence[str]) -> str:
            return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(mark for _ in columns)})"

        self.insert_passport = statement("passports", PASSPORT_COLUMNS)
        self.insert_version = statement("passport_versions", VERSION_COLUMNS)
        self.insert_material = statement("passport_materials", MATERIAL_COLUMNS)
        self.insert_recycled = statement("passport_recycled_content", RECYCLED_COLUMNS)

    def _time(self, moment: dt.datetime) -> Any:
        # what SQLAlchemy's DateTime stores in SQLite (naive UTC text); PostgreSQL takes the aware datetime
        return moment.replace(tzinfo=None).isoformat(" ") if self.sqlite else moment

    def prepare(self, data: bytes) -> tuple[tuple[Any, ...], tuple[Any, ...], list[tuple[Any, ...]],
                                           list[tuple[Any, ...]]]:
        """One passport's rows: validated, projected, canonicalised and signed."""
        passport = Passport.model_validate_json(data, by_alias=True, by_name=False)
        wire = passport.model_dump(mode="json", by_alias=True, exclude_none=True)
        passport_id = str(uuid7())
        wire["passportId"] = f"urn:uuid:{passport_id}"
        now = truncate_ms(utc_now())
        created = rfc3339(now)
        general = wire["general"]
        subject = VersionSubject(passport_id, 1, general["gtin"], general["serialNumber"], self.did, created)
        signed: dict[View, bytes] = {}
        full_hash = ""
        for view in VIEW_ORDER:
            credential = build_credential(self.urls, subject, view, project(wire, view), None)
            unsigned_bytes, signed[view] = sign_canonical(credential, self.signer, created)
            if view is View.FULL:
                full_hash = "sha256:" + hashlib.sha256(unsigned_bytes).hexdigest()
        stamp = self._time(now)
        passport_row = (passport_id, general["gtin"], general["serialNumber"], self.organisation_id, 1,
                        general["batteryCategory"], wire["composition"]["batteryChemistry"]["shortName"],
                        general["batteryStatus"], False, stamp, stamp)
        version_row = (passport_id, 1, stamp, full_hash, self.did, "[]", *(signed[view] for view in VIEW_ORDER))
        materials = [(passport_id, i, key, name[:200], cas, mass)
                     for i, (key, name, cas, mass) in enumerate(composition_lines(wire))]
        recycled = [(passport_id, metal, pre, post) for metal, pre, post in recycled_lines(wire)]
        return passport_row, version_row, materials, recycled

    def issue(self, documents: Iterable[bytes], batch: int) -> int:
        """Issue every document, committing every ``batch`` passports; returns how many."""
        count = 0
        rows: list[Any] = []
        for data in documents:
            rows.append(self.prepare(data))
            count += 1
            if len(rows) >= batch:
                self._store(rows)
                rows = []
        if rows:
            self._store(rows)
        return count

    def _store(self, rows: list[Any]) -> None:
        cursor = self.connection.cursor()
        cursor.executemany(self.insert_passport, [row[0] for row in rows])
        cursor.executemany(self.insert_version, [row[1] for row in rows])
        materials = [material for row in rows for material in row[2]]
        if materials:
            cursor.executemany(self.insert_material, materials)
        recycled = [line for row in rows for line in row[3]]
        if recycled:
            cursor.executemany(self.insert_recycled, recycled)
        self.connection.commit()


def verify_floor(lines: Iterable[bytes]) -> int:
    """Verify every credential of an export inline; returns how many. Raises on the first bad signature."""
    digest = hashlib.sha256()
    keys: dict[str, Ed25519PublicKey] = {}
    count = 0
    for raw in lines:
        record = orjson.loads(raw)
        kind = record.get("type")
        if kind == "trailer":
            if record["sha256"] != digest.hexdigest():
                raise ValueError("export digest mismatch")
            continue
        digest.update(raw.rstrip(b"\r\n") + b"\n")
        if kind == "organisation":
            for method in record["didDocument"]["verificationMethod"]:
                keys[method["id"]] = Ed25519PublicKey.from_public_bytes(
                    public_key_from_multikey(method["publicKeyMultibase"]))
        elif kind == "version":
            for credential in record["credentials"].values():
                proof = credential.pop("proof")
                signature = multibase_decode(proof.pop("proofValue"))
                data = sha256(canonicalize(proof)) + sha256(canonicalize(credential))
                keys[proof["verificationMethod"]].verify(signature, data)
                count += 1
    return count
