"""Hypothesis properties of issue 11 (the standing adversarial suite):

1. Any valid passport document (a documented example with values varied within the schema and the business rules:
   :func:`tests.strategies.varied_documents`) round-trips: issue -> store -> export -> restore into a fresh database
   -> verify, with the same credential bytes, the same passport records, and a second export byte-identical to the
   first.
2. Any single-byte change to a stored credential (one byte of the database row, changed with SQL behind the
   append-only trigger's back) is detected: ``verify_passport``, ``verify_store`` and ``POST /api/v1/verify`` refuse
   it, except when the change leaves the credential the same JSON value: then its RFC 8785 form, which the
   signature covers, is unchanged, and nothing can tell.

   Which changes those are, reasoned from what RFC 8785 writes (no whitespace, members sorted, strings escaped
   only as ``\\"``, ``\\\\``, ``\\b\\f\\n\\r\\t`` and ``\\u00xx`` for other control characters, numbers in their
   shortest round-trip form): the case of a hex digit of a ``\\u00xx`` escape (``\\u001f`` and ``\\u001F`` are one
   character), and another spelling of the same number (``1e+21``/``1E+21``/``1e021``; a digit of a 17-digit
   number that rounds to the same double). Nothing else: any other byte is part of a member name, a string value, a
   literal or the structure, and changing it changes the value (or breaks the JSON, or the UTF-8). The test asserts
   exactly that: a change is undetected if and only if it leaves the value equal, and every such change is of those
   two kinds. The stored bytes are canonical to begin with (asserted), so that reasoning applies.

Both run on SQLite (fresh databases copied from migrated templates); the round trip also restores into PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import re
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text

from passport.access import VIEW_ORDER
from passport.canonical import canonicalize
from passport.config import Settings
from passport.credentials import verify_credential
from passport.errors import DocumentInvalid, InvalidInput, VerificationError
from passport.rules import RuleContext
from passport.service import dump
from passport.service.context import ServiceContext, open_context
from passport.service.organisations import create_organisation
from passport.service.passports import Passports
from passport.service.resolvers import store_resolver
from passport.service.verification import verify_passport, verify_store
from passport.storage.sql import normalise_url
from passport.validation import check
from passport.web.app import create_app
from tests.conftest import EXAMPLE_NAMES, EXAMPLES, FakeClock, postgres_url
from tests.strategies import varied_documents

ORGANISATION = "acme"
NOW = FakeClock().now
VIEWS = [view.value for view in VIEW_ORDER]
# Bounded: no shrinking (a failure is reported with the example as found), no example database, fixed seeds.
PROPERTY = settings(deadline=None, database=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])


def examples() -> list[dict[str, Any]]:
    found = []
    for name in EXAMPLE_NAMES:
        document = json.loads((EXAMPLES / f"{name}.json").read_text("utf-8"))
        document.pop("passportId", None)  # the service gives each passport its id
        found.append(document)
    return found


def accepted(document: dict[str, Any]) -> bool:
    """What the service itself takes: the model and every business rule, at the test clock's time."""
    try:
        check(document, RuleContext(NOW))
    except DocumentInvalid:
        return False
    return True


def documents() -> st.SearchStrategy[dict[str, Any]]:
    return varied_documents(examples(), accepted, fixed=frozenset({"/general/batteryStatus"}))


# --- fresh databases, fast: copies of migrated templates ----------------------------------------------------------


@dataclass
class Templates:
    root: Path
    keys: Path
    empty: Path  # migrated, nothing in it
    acme: Path  # migrated, one organisation with its signing key (in ``keys``)
    made: int = 0

    def open(self, template: Path, clock: FakeClock) -> ServiceContext:
        self.made += 1
        copy_path = self.root / f"db-{self.made}.db"
        shutil.copyfile(template, copy_path)
        return open_context(settings_for(f"sqlite:///{copy_path}", self.keys), clock=clock)


def settings_for(database_url: str, keys: Path) -> Settings:
    return Settings(database_url=database_url, keys_dir=keys, public_base_url="http://testserver",
                    rate_limit_enabled=False)


@pytest.fixture(scope="module")
def templates() -> Iterator[Templates]:
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        for name, organisation in (("empty", None), ("acme", ORGANISATION)):
            context = open_context(settings_for(f"sqlite:///{root / name}.db", root / "keys"), clock=FakeClock())
            if organisation:
                create_organisation(context, organisation, "ACME Batteries GmbH")
            context.close()
            assert not (root / f"{name}.db-wal").exists()  # the template is whole in its file
        yield Templates(root, root / "keys", root / "empty.db", root / "acme.db")


def export_of(context: ServiceContext) -> bytes:
    out = io.BytesIO()
    dump.export(context, out)
    return out.getvalue()


def stored(context: ServiceContext) -> list[tuple[str, int, dict[str, bytes]]]:
    return [(v.passport_id, v.version, dict(v.credentials)) for v in context.store.iter_versions()]


# --- 1. round trip ------------------------------------------------------------------------------------------------


def round_trip(source: ServiceContext, target: ServiceContext, clock: FakeClock, document: dict[str, Any],
               model_name: str | None, directory: Path) -> None:
    passports = Passports(source)
    issued = passports.issue(ORGANISATION, document)
    passport_id = issued.passport_id
    submitted = json.loads(issued.version.credential("full"))["credentialSubject"]["passport"]
    # what was signed is what was sent, byte for byte in every text: the service adds only the passport id and the
    # (empty) second-life links
    links: dict[str, list[str]] = {"predecessorPassports": [], "successorPassports": []}
    assert submitted == {**document, "passportId": f"urn:uuid:{passport_id}",
                         "general": {**links, **document["general"]}}
    if model_name is not None:
        clock.advance(seconds=1)
        passports.revise(passport_id, ORGANISATION, {"general": {"modelName": model_name}}, expected_version=1)
    verify_store(source)
    for _, _, credentials in stored(source):
        for view, raw in credentials.items():
            assert canonicalize(json.loads(raw)) == raw, f"the stored {view} credential is not canonical"

    original = export_of(source)
    path = directory / "export.ndjson"
    path.write_bytes(original)
    report = dump.restore(target, path)

    assert (report.organisations, report.passports, report.versions) == (1, 1, 2 if model_name is not None else 1)
    verify_store(target)
    verify_passport(target, passport_id)
    assert stored(target) == stored(source)  # the same credential bytes, version for version
    assert target.store.get_passport(passport_id) == source.store.get_passport(passport_id)
    assert target.store.list_keys() == source.store.list_keys()
    assert export_of(target) == original  # the restored store exports exactly what was restored
    assert Passports(target).current_document(passport_id) == Passports(source).current_document(passport_id)


model_names = st.one_of(st.none(), st.text(min_size=1, max_size=40).filter(lambda s: s.strip() == s and s))


@settings(PROPERTY, max_examples=15)
@given(document=documents(), model_name=model_names)
def test_any_valid_document_round_trips(templates: Templates, document: dict[str, Any], model_name: str | None
                                        ) -> None:
    clock = FakeClock()
    source, target = templates.open(templates.acme, clock), templates.open(templates.empty, clock)
    try:
        with tempfile.TemporaryDirectory() as directory:
            round_trip(source, target, clock, document, model_name, Path(directory))
    finally:
        source.close()
        target.close()


@pytest.mark.postgres
def test_a_varied_document_round_trips_into_postgresql(templates: Templates) -> None:
    """The same round trip with PostgreSQL as the restoring engine, each example into a schema of its own (a few
    examples: the property's run on SQLite, whose databases are much quicker to create)."""
    base = postgres_url()
    assert base is not None

    @settings(PROPERTY, max_examples=2)
    @given(document=documents(), model_name=model_names)
    def run(document: dict[str, Any], model_name: str | None) -> None:
        clock = FakeClock()
        with postgres_schema(base) as url:
            source = templates.open(templates.acme, clock)
            target = open_context(settings_for(url, templates.keys), clock=clock)
            try:
                with tempfile.TemporaryDirectory() as directory:
                    round_trip(source, target, clock, document, model_name, Path(directory))
            finally:
                source.close()
                target.close()

    run()


@contextlib.contextmanager
def postgres_schema(base: str) -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a new schema, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalise_url(base))
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


# --- 2. one changed byte --------------------------------------------------------------------------------------------

HEX = re.compile(rb"\\u[0-9a-fA-F]{0,4}$")
NUMBER = frozenset(b"0123456789+-.eE")


def same_value(original: bytes, changed: bytes) -> bool:
    """Whether ``changed`` reads as the same JSON value as the canonical ``original``, as the verifier reads a stored
    credential (Python's json module: passport.storage.records), so that its RFC 8785 form is ``original`` again."""
    try:
        return canonicalize(json.loads(changed)) == original
    except (ValueError, InvalidInput):  # not UTF-8, not JSON, not canonicalisable
        return False


def invariance(original: bytes, changed: bytes, position: int) -> str | None:
    """Why a one-byte change keeps the value, if it is one of the two ways the module docstring reasons out."""
    before, after = original[position], changed[position]
    escape = HEX.search(original[max(0, position - 5) : position + 1])
    if escape and chr(before).lower() == chr(after).lower() and len(escape.group()) >= 3:
        return "hex digit case in a \\u escape"
    if before in NUMBER and after in NUMBER:
        start, end = position, position + 1
        while start > 0 and original[start - 1] in NUMBER:
            start -= 1
        while end < len(original) and original[end] in NUMBER:
            end += 1
        try:
            if float(original[start:end]) == float(changed[start:end]):
                return "another spelling of the same number"
        except ValueError:
            return None
    return None


@dataclass
class Tampering:
    context: ServiceContext
    app: Any
    versions: list[tuple[str, int]]

    def post_verify(self, raw: bytes) -> httpx.Response:
        async def post() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                return await client.post("/api/v1/verify", content=raw, headers={"Content-Type": "application/json"})

        return asyncio.run(post())

    def credential(self, passport_id: str, version: int, view: str) -> bytes:
        return self.context.store.get_version(passport_id, version).credentials[view]

    def write(self, passport_id: str, version: int, view: str, raw: bytes) -> None:
        """Change the stored row behind the append-only trigger's back, as someone with the database's own
        credentials could."""
        column = f"credential_{view}"
        assert column in {f"credential_{v}" for v in VIEWS}
        with self.context.store.engine.begin() as connection:  # type: ignore[attr-defined]
            connection.execute(text("DROP TRIGGER IF EXISTS passport_versions_no_update"))
            connection.execute(text(f"UPDATE passport_versions SET {column} = :raw "  # a known column
                                    "WHERE passport_id = :id AND version = :version"),
                               {"raw": raw, "id": passport_id, "version": version})

    def outcomes(self, passport_id: str, view: str, raw: bytes) -> dict[str, str]:
        """What each way of verifying says about the stored credentials: "verified" or the failure."""
        found: dict[str, str] = {}
        runs: list[tuple[str, Callable[[], object]]] = [
            ("verify_passport", lambda: verify_passport(self.context, passport_id)),
            ("verify_store", lambda: verify_store(self.context))]
        for name, run in runs:
            try:
                run()
                found[name] = "verified"
            except VerificationError as exc:
                found[name] = exc.reason
            except ValueError as exc:  # see test_malformed_stored_bytes_are_reported_as_verification_failures
                found[name] = f"crashed: {type(exc).__name__}"
        response = self.post_verify(raw)
        assert response.status_code < 500, response.text
        found["POST /api/v1/verify"] = "verified" if response.status_code == 200 else str(response.status_code)
        return found


@pytest.fixture(scope="module")
def tampering(templates: Templates) -> Iterator[Tampering]:
    """Three passports (one per example), one of them revised: four versions, sixteen stored credentials."""
    clock = FakeClock()
    context = templates.open(templates.acme, clock)
    passports = Passports(context)
    versions = []
    for document in examples():
        passport_id = passports.issue(ORGANISATION, document).passport_id
        versions.append((passport_id, 1))
    clock.advance(seconds=1)
    revision = {"general": {"modelName": "Tab\there \u001f \"quoted\" \\ é 🔋"},
                "carbonFootprint": {"absoluteCarbonFootprint": 1e-7}}  # written with an exponent: 1e-7
    passports.revise(versions[0][0], ORGANISATION, revision, expected_version=1)
    versions.append((versions[0][0], 2))
    verify_store(context)
    yield Tampering(context, create_app(context.settings, context), versions)
    context.close()


def check_change(tampering: Tampering, passport_id: str, version: int, view: str, position: int, byte: int) -> None:
    original = tampering.credential(passport_id, version, view)
    assert canonicalize(json.loads(original)) == original  # canonical: the docstring's reasoning applies
    changed = original[:position] + bytes([byte]) + original[position + 1 :]
    assert changed != original
    tampering.write(passport_id, version, view, changed)
    try:
        outcomes = tampering.outcomes(passport_id, view, changed)
    finally:
        tampering.write(passport_id, version, view, original)
    where = f"{view} credential of {passport_id} v{version}, byte {position}: {original[position:position + 1]!r} " \
            f"-> {bytes([byte])!r} in …{original[max(0, position - 20):position + 20]!r}…"
    if same_value(original, changed):
        assert invariance(original, changed, position) is not None, f"undetectable for no known reason: {where}"
        assert set(outcomes.values()) == {"verified"}, (where, outcomes)
    else:
        undetected = [name for name, outcome in outcomes.items() if outcome == "verified"]
        assert not undetected, f"{where}: not detected by {undetected}"


@settings(PROPERTY, max_examples=120)
@given(data=st.data())
def test_any_single_byte_change_to_a_stored_credential_is_detected(tampering: Tampering, data: st.DataObject
                                                                   ) -> None:
    passport_id, version = data.draw(st.sampled_from(tampering.versions), label="version")
    view = data.draw(st.sampled_from(VIEWS), label="view")
    original = tampering.credential(passport_id, version, view)
    position = data.draw(st.integers(0, len(original) - 1), label="position")
    here = original[position]
    # bytes near the original are the likeliest to slip through (a digit for a digit, a letter's other case)
    byte = data.draw(st.one_of(
        st.sampled_from(sorted({here ^ 0x20, here ^ 0x01, here + 1 & 0xFF, here - 1 & 0xFF, ord("E"), ord("0")})),
        st.integers(0, 255)).filter(lambda b: b != here), label="byte")
    check_change(tampering, passport_id, version, view, position, byte)


def test_every_byte_position_of_a_credential_is_covered(tampering: Tampering) -> None:
    """Every position of one stored credential (the revised version's public view: control characters, quotes,
    a backslash and a small number in its text), changed in the way likeliest to keep the value, is detected,
    or keeps the value for one of the two known reasons. Checked with the credential verifier itself (the property
    above takes the whole stored path for a sample)."""
    passport_id, version = tampering.versions[-1]
    original = tampering.credential(passport_id, version, "public")
    resolver = store_resolver(tampering.context.store, tampering.context.urls)
    verify_credential(json.loads(original), resolver)
    kinds: dict[str, int] = {}
    for position, here in enumerate(original):
        for byte in _likeliest(here):
            changed = original[:position] + bytes([byte]) + original[position + 1 :]
            try:
                verify_credential(json.loads(changed), resolver)
                verified = True
            except (VerificationError, ValueError, InvalidInput):
                verified = False
            keeps = same_value(original, changed)
            assert verified == keeps, (position, original[max(0, position - 20):position + 20], bytes([byte]))
            if keeps:
                reason = invariance(original, changed, position)
                assert reason is not None, (position, original[max(0, position - 20):position + 20])
                kinds[reason] = kinds.get(reason, 0) + 1
    assert kinds.get("hex digit case in a \\u escape"), kinds  # the \\u001f in the revised model name
    assert kinds.get("another spelling of the same number"), kinds  # 1e-7 as 1E-7


def _likeliest(byte: int) -> list[int]:
    """The one-byte changes likeliest to keep a value: the other case of a letter, a neighbouring digit, the
    exponent's other letter; otherwise one flipped bit."""
    if chr(byte).isalpha():
        return [byte ^ 0x20]
    if chr(byte).isdigit():
        return [byte + 1 if byte < ord("9") else byte - 1]
    if byte == ord("+"):
        return [ord("0")]
    return [byte ^ 0x01]


def test_malformed_stored_bytes_are_reported_as_verification_failures(tampering: Tampering) -> None:
    """A credential row that is no longer UTF-8 or JSON is a verification failure ("malformed"), as every other
    change is, not an exception from the JSON decoder (passport verify would print a traceback). The property
    above counts a crash as detected (nothing verified); this says how it should be reported."""
    passport_id, version = tampering.versions[0]
    original = tampering.credential(passport_id, version, "public")
    for changed in (original[:5] + b"\xff" + original[6:], original[:-1] + b"X"):
        tampering.write(passport_id, version, "public", changed)
        try:
            with pytest.raises(VerificationError):
                verify_passport(tampering.context, passport_id)
        finally:
            tampering.write(passport_id, version, "public", original)

