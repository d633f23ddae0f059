"""A passport holding a double of 2^53 or more, which RFC 8785 writes as an integer literal (1e16 becomes
``10000000000000000``), on SQLite and PostgreSQL: it is revised (the previous version's stored credentials are read back
to hash them), it verifies in the store, and its export verifies offline. Read back with ``json.loads`` the literal
became an int beyond 2^53, which cannot be canonicalised: every revision of such a passport failed, and so did the
verification of the store."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from passport.service import dump
from passport.service.context import ServiceContext
from passport.service.organisations import create_organisation
from passport.service.passports import Passports
from passport.service.verification import verify_passport, verify_store


def test_a_double_beyond_2_53_survives_revision_verification_and_export(
    database_url: str, context_factory: Callable[..., ServiceContext], example: Callable[[str], dict[str, Any]],
) -> None:
    context = context_factory(database_url)
    create_organisation(context, "acme", "ACME Batteries GmbH")
    document = example("passport-ev")
    document.pop("passportId", None)
    document["general"]["batteryMass"] = 1e16
    passports = Passports(context)
    passport_id = passports.issue("acme", document).passport_id
    stored = context.store.get_version(passport_id).credential("full")
    assert b'"batteryMass":10000000000000000' in stored  # the literal this test is about

    revised = passports.revise(passport_id, "acme", {"general": {"modelName": "VD-75 revised"}}, expected_version=1)
    assert revised.passport.current_version == 2
    assert context.store.get_version(passport_id).credential_json("full")["credentialSubject"]["passport"][
        "general"]["batteryMass"] == 1e16

    report = verify_passport(context, passport_id)
    assert (report.versions, report.credentials) == (2, 8)
    assert verify_store(context).credentials == 8
    out = io.BytesIO()
    dump.export(context, out)
    offline = dump.verify_dump(io.BytesIO(out.getvalue()))
    assert (offline.passports, offline.versions) == (1, 2)
