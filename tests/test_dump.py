"""Exports and restores: byte-identical round trips on both engines, offline verification that tells each kind of
tampering apart, and restores that write nothing unless everything verifies and fits."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from passport.cli import app, commands  # noqa: F401  (commands registers the sub-commands)
from passport.credentials import unsigned, verify_chain
from passport.errors import Conflict, PassportError, VerificationError
from passport.service import dump
from passport.service.context import ServiceContext
from passport.service.organisations import create_organisation, revoke_key, signer_for
from passport.service.passports import Passports
from passport.service.resolvers import store_resolver
from passport.service.verification import verify_passport, verify_store
from passport.signing import add_proof
from tests.conftest import FakeClock

Records = list[dict[str, Any]]
Tamper = Callable[["Source", Records], None]


def state_of_charge(value: float) -> dict[str, Any]:
    return {"condition": {"stateOfCharge": {"value": value, "lastUpdate": "2026-11-25T09:00:00Z"}}}


@dataclass
class Source:
    context: ServiceContext
    clock: FakeClock
    ev: str  # three versions
    lmt: str  # one version

    def export(self) -> bytes:
        return export_of(self.context)

    def records(self) -> Records:
        return [json.loads(line) for line in self.export().splitlines()]


def export_of(context: ServiceContext) -> bytes:
    out = io.BytesIO()
    dump.export(context, out)
    return out.getvalue()


@pytest.fixture
def source(
    context_factory: Callable[..., ServiceContext], example: Callable[[str], dict[str, Any]], clock: FakeClock
) -> Source:
    context = context_factory()
    create_organisation(context, "acme", "ACME Batteries GmbH")
    create_organisation(context, "beta", "Beta Cells AB")
    passports = Passports(context)
    ev = passports.issue("acme", example("passport-ev")).passport_id
    lmt = passports.issue("acme", example("passport-lmt")).passport_id
    for number, value in enumerate((40.0, 45.5), start=1):
        clock.advance(seconds=60)
        passports.revise(ev, "acme", state_of_charge(value), expected_version=number)
    return Source(context, clock, ev, lmt)


def assemble(records: Records) -> bytes:
    """NDJSON of ``records`` with a trailer recomputed as an exporter would write it (counts and SHA-256), so that
    only the signatures and the chains can give the tampering away."""
    body = [
        json.dumps(r, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
        for r in records
        if r["type"] != "trailer"
    ]
    versions = [r for r in records if r["type"] == "version"]
    trailer = {
        "type": "trailer",
        "passports": len({r["passportId"] for r in versions}),
        "versions": len(versions),
        "sha256": hashlib.sha256(b"".join(body)).hexdigest(),
    }
    return b"".join(body) + json.dumps(trailer, separators=(",", ":")).encode() + b"\n"


def line_of(records: Records, passport_id: str, version: int) -> int:
    return next(
        i
        for i, r in enumerate(records)
        if r["type"] == "version" and r["passportId"] == f"urn:uuid:{passport_id}" and r["version"] == version
    )


def verify(data: bytes) -> dump.DumpReport:
    return dump.verify_dump(data.splitlines())


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to reach the network fails loudly."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("network access during an offline verification")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(httpx.Client, "send", refuse)


# --- round trip ---------------------------------------------------------------------------------------------------


def test_export_verifies(source: Source) -> None:
    report = verify(source.export())
    assert (report.organisations, report.passports, report.versions, report.credentials) == (2, 2, 4, 16)


def test_export_restore_reproduces_identical_credentials(
    source: Source, context_factory: Callable[..., ServiceContext], database_url: str, tmp_path: Path
) -> None:
    original = source.export()
    path = tmp_path / "export.ndjson"
    path.write_bytes(original)
    target = context_factory(database_url)

    report = dump.restore(target, path)

    assert (report.organisations, report.passports, report.versions) == (2, 2, 4)
    restored = [(v.passport_id, v.version, dict(v.credentials)) for v in target.store.iter_versions()]
    assert restored == [(v.passport_id, v.version, dict(v.credentials)) for v in source.context.store.iter_versions()]
    assert target.store.list_keys() == source.context.store.list_keys()
    assert target.store.get_passport(source.ev) == source.context.store.get_passport(source.ev)
    verify_store(target)

    source.clock.advance(hours=1)
    again = io.BytesIO()
    dump.export(target, again)
    before, after = original.splitlines(), again.getvalue().splitlines()
    assert before[1:-1] == after[1:-1]
    header_before, header_after = json.loads(before[0]), json.loads(after[0])
    assert header_before.pop("exportedAt") != header_after.pop("exportedAt")
    assert header_before == header_after
    trailer_before, trailer_after = json.loads(before[-1]), json.loads(after[-1])
    trailer_before.pop("sha256"), trailer_after.pop("sha256")  # it covers the header, so its exportedAt
    assert trailer_before == trailer_after
    verify(again.getvalue())


def test_cli_export_then_restore(source: Source, tmp_path: Path) -> None:
    runner, path = CliRunner(), tmp_path / "backup.ndjson"
    env = {
        "PASSPORT_KEYS_DIR": str(tmp_path / "keys"),
        "PASSPORT_PUBLIC_BASE_URL": "http://testserver",
        "PASSPORT_ENV": "development",
    }
    exported = runner.invoke(
        app, ["export", "--out", str(path)], env={**env, "PASSPORT_DATABASE_URL": source.context.settings.database_url}
    )
    assert exported.exit_code == 0, exported.output
    assert "exported 2 passports, 4 versions" in exported.stdout

    target_url = f"sqlite:///{tmp_path / 'restored.db'}"
    restored = runner.invoke(app, ["restore", str(path)], env={**env, "PASSPORT_DATABASE_URL": target_url})
    assert restored.exit_code == 0, restored.output
    assert "restored 2 organisations, 2 passports, 4 versions" in restored.stdout

    verified = runner.invoke(app, ["verify", str(path)])
    assert verified.exit_code == 0
    assert verified.stdout.startswith("OK export: 2 organisations, 2 passports, 4 versions, 16 credentials")


# --- tampering, each with its own reason ----------------------------------------------------------------------------


def modify_a_field(source: Source, records: Records) -> None:
    credential = records[line_of(records, source.ev, 2)]["credentials"]["public"]
    credential["credentialSubject"]["passport"]["general"]["serialNumber"] = "VD75-2026-000143"


def remove_a_middle_version(source: Source, records: Records) -> None:
    del records[line_of(records, source.ev, 2)]


def swap_two_versions(source: Source, records: Records) -> None:
    second, third = line_of(records, source.ev, 2), line_of(records, source.ev, 3)
    records[second], records[third] = records[third], records[second]


def sign_with_another_organisations_key(source: Source, records: Records) -> None:
    views = records[line_of(records, source.ev, 1)]["credentials"]
    forged = unsigned(views["public"])  # still names acme as its issuer
    views["public"] = add_proof(forged, signer_for(source.context, "beta"), views["public"]["proof"]["created"])


def break_the_previous_hash(source: Source, records: Records) -> None:
    views = records[line_of(records, source.ev, 2)]["credentials"]
    forged = unsigned(views["public"])
    forged["credentialSubject"]["previousVersionHash"] = "sha256:" + "0" * 64
    # re-signed properly with the issuer's own active key: only the chain is wrong
    views["public"] = add_proof(forged, signer_for(source.context, "acme"), views["public"]["proof"]["created"])


def revoke_key_1_after_the_first_signatures(source: Source) -> None:
    """Key 1 signed everything; revoked from 1 s after the first versions (t0): the EV passport's versions 2 and 3
    were signed after that time, its version 1 and the LMT passport before."""
    first_signed = source.context.store.get_version(source.ev, 1).created_at
    source.clock.advance(seconds=60)
    revoke_key(source.context, "acme", "key-1", at=first_signed + dt.timedelta(seconds=1))


def revoke_before_the_last_signature(source: Source, records: Records) -> None:
    revoke_key_1_after_the_first_signatures(source)
    records[:] = source.records()  # the same versions, exported with the key history that now says so


TAMPERING: list[tuple[Tamper, str]] = [
    (modify_a_field, "signature-invalid"),
    (remove_a_middle_version, "version-missing"),
    (swap_two_versions, "versions-reordered"),
    (sign_with_another_organisations_key, "issuer-key-mismatch"),
    (revoke_before_the_last_signature, "key-revoked"),
    (break_the_previous_hash, "previous-hash-mismatch"),
]
TAMPER_IDS = [tamper.__name__ for tamper, _ in TAMPERING]


def test_each_kind_of_tampering_has_its_own_reason() -> None:
    assert len({reason for _, reason in TAMPERING}) == len(TAMPERING)


@pytest.mark.parametrize(("tamper", "reason"), TAMPERING, ids=TAMPER_IDS)
def test_verify_dump_detects_tampering(source: Source, tamper: Tamper, reason: str, no_network: None) -> None:
    records = source.records()
    tamper(source, records)
    with pytest.raises(VerificationError) as caught:
        verify(assemble(records))
    assert caught.value.reason == reason


@pytest.mark.parametrize(("tamper", "reason"), TAMPERING, ids=TAMPER_IDS)
def test_cli_verify_detects_tampering_offline(
    source: Source, tamper: Tamper, reason: str, tmp_path: Path, no_network: None
) -> None:
    records = source.records()
    tamper(source, records)
    path = tmp_path / "tampered.ndjson"
    path.write_bytes(assemble(records))
    result = CliRunner().invoke(app, ["verify", str(path)])
    assert result.exit_code == 1
    assert result.stdout.startswith(f"INVALID {reason}: "), result.stdout


def test_a_signature_after_revocation_fails_in_the_store_too(source: Source) -> None:
    revoke_key_1_after_the_first_signatures(source)
    verify_passport(source.context, source.lmt)  # signed at t0, before the revocation time
    with pytest.raises(VerificationError) as caught:
        verify_passport(source.context, source.ev)
    assert caught.value.reason == "key-revoked"


def test_the_untampered_export_verifies_offline(source: Source, tmp_path: Path, no_network: None) -> None:
    data = source.export()
    assert verify(data).credentials == 16
    path = tmp_path / "export.ndjson"
    path.write_bytes(data)
    result = CliRunner().invoke(app, ["verify", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("OK export")


# --- the public view alone ----------------------------------------------------------------------------------------


def test_a_holder_of_only_the_public_view_detects_removal_and_reordering(source: Source) -> None:
    public = [v.credential_json("public") for v in source.context.store.list_versions(source.ev)]
    resolve = store_resolver(source.context.store, source.context.urls)
    verify_chain(public, resolve)
    for chain, reason in [
        ([public[0], public[2]], "version-missing"),
        ([public[1], public[2]], "version-missing"),
        ([public[0], public[2], public[1]], "versions-reordered"),
        ([public[1], public[0], public[2]], "versions-reordered"),
        ([public[0], public[1], public[1]], "versions-reordered"),
    ]:
        with pytest.raises(VerificationError) as caught:
            verify_chain(chain, resolve)
        assert caught.value.reason == reason, [c["credentialSubject"]["version"] for c in chain]


# --- one changed byte ---------------------------------------------------------------------------------------------


def changed_byte(data: bytes, position: int) -> bytes:
    original = data[position : position + 1]
    replacement = b"1" if original != b"1" else b"2"
    return data[:position] + replacement + data[position + 1 :]


def positions(data: bytes) -> Iterator[int]:
    """Every byte of the header and the trailer (no signature covers them), every fourth byte of the organisation
    line, and a sample of the version line (signed: the signature tests cover it character by character)."""
    header, organisation, *_, trailer = data.splitlines(keepends=True)
    organisation_start, version_start = len(header), len(header) + len(organisation)
    trailer_start = len(data) - len(trailer)
    yield from range(organisation_start)
    yield from range(organisation_start, version_start, 4)
    yield from range(version_start, trailer_start, 499)
    yield from range(trailer_start, len(data))


def test_one_changed_byte_anywhere_is_detected(
    context_factory: Callable[..., ServiceContext], example: Callable[[str], dict[str, Any]]
) -> None:
    context = context_factory()
    create_organisation(context, "acme", "ACME Batteries GmbH")
    Passports(context).issue("acme", example("passport-lmt"))
    data = export_of(context)
    checked = 0
    for position in positions(data):
        with pytest.raises(VerificationError):
            verify(changed_byte(data, position))
        checked += 1
    assert checked > 400


@pytest.mark.parametrize("where", ["credential", "organisation-name", "version-createdAt", "trailer"])
def test_restore_of_a_changed_byte_writes_nothing(
    source: Source, context_factory: Callable[..., ServiceContext], database_url: str, tmp_path: Path, where: str
) -> None:
    data = source.export()
    needle = {
        "credential": b"VD75-2026-000142",
        "organisation-name": b"Beta Cells AB",
        "version-createdAt": b'"createdAt":"2026-11-25T10:01:00.000Z"',
        "trailer": b'"versions":4',
    }[where]
    position = data.index(needle) + len(needle) - 2
    path = tmp_path / "tampered.ndjson"
    path.write_bytes(changed_byte(data, position))
    target = context_factory(database_url)

    with pytest.raises(VerificationError):
        dump.restore(target, path)

    assert target.store.is_empty()
    assert target.store.list_organisations() == []
    assert target.store.list_keys() == []
    assert list(target.store.iter_versions()) == []


def test_restore_into_a_non_empty_database_is_refused(
    source: Source, context_factory: Callable[..., ServiceContext], tmp_path: Path
) -> None:
    path = tmp_path / "export.ndjson"
    path.write_bytes(source.export())
    target = context_factory()
    create_organisation(target, "other", "Other Org")

    with pytest.raises(PassportError, match="empty"):
        dump.restore(target, path)

    assert [o.slug for o in target.store.list_organisations()] == ["other"]
    assert target.store.count_passports() == 0


def test_a_dump_that_verifies_but_cannot_be_stored_writes_nothing(
    source: Source,
    context_factory: Callable[..., ServiceContext],
    example: Callable[[str], dict[str, Any]],
    database_url: str,
    tmp_path: Path,
) -> None:
    # Another service's export holding a second passport for the same battery (GTIN and serial), signed by its
    # own organisation: every signature and chain is fine, but the two cannot be stored together.
    other = context_factory()
    create_organisation(other, "gamma", "Gamma Packs")
    document = example("passport-ev")
    del document["passportId"]
    Passports(other).issue("gamma", document)
    mine = source.records()
    theirs = [json.loads(line) for line in export_of(other).splitlines()]
    merged = (
        [mine[0]]
        + [r for r in mine + theirs if r["type"] == "organisation"]
        + [r for r in mine + theirs if r["type"] == "version"]
    )
    path = tmp_path / "merged.ndjson"
    path.write_bytes(assemble(merged))
    assert verify(path.read_bytes()).passports == 3
    target = context_factory(database_url)

    with pytest.raises(Conflict):
        dump.restore(target, path)

    assert target.store.is_empty()
    assert target.store.list_keys() == []
    assert list(target.store.iter_versions()) == []


def test_a_truncated_dump_is_rejected(source: Source) -> None:
    lines = source.export().splitlines()
    with pytest.raises(VerificationError) as caught:
        dump.verify_dump(lines[:-1])
    assert caught.value.reason == "malformed"
    with pytest.raises(VerificationError) as caught:
        dump.verify_dump(lines[:-2] + lines[-1:])  # the last version line dropped, trailer kept
    assert caught.value.reason == "version-missing"


def drop_a_revocation_from_the_key_history(source: Source, records: Records) -> None:
    revoke_key_1_after_the_first_signatures(source)
    records[:] = source.records()
    acme = next(r for r in records if r["type"] == "organisation" and r["slug"] == "acme")
    acme["keys"][0]["revokedAt"] = None  # what restore would store, while the DID document still says revoked


def empty_a_view(source: Source, records: Records) -> None:
    records[line_of(records, source.lmt, 1)]["credentials"]["authority"] = []


def drop_the_did_document(source: Source, records: Records) -> None:
    del next(r for r in records if r["type"] == "organisation")["didDocument"]


def mislabel_a_version(source: Source, records: Records) -> None:
    records[line_of(records, source.lmt, 1)]["version"] = "1"


def move_the_version_time(source: Source, records: Records) -> None:
    records[line_of(records, source.lmt, 1)]["createdAt"] = "2026-11-25T10:00:00.001Z"


@pytest.mark.parametrize(
    "tamper",
    [
        drop_a_revocation_from_the_key_history,
        empty_a_view,
        drop_the_did_document,
        mislabel_a_version,
        move_the_version_time,
    ],
)
def test_inconsistent_or_malformed_lines_are_malformed(source: Source, tamper: Tamper, tmp_path: Path) -> None:
    records = source.records()
    tamper(source, records)
    path = tmp_path / "malformed.ndjson"
    path.write_bytes(assemble(records))
    with pytest.raises(VerificationError) as caught:
        verify(path.read_bytes())
    assert caught.value.reason == "malformed"
    result = CliRunner().invoke(app, ["verify", str(path)])
    assert result.exit_code == 1
    assert result.stdout.startswith("INVALID malformed: ")
