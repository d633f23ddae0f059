"""The Store contract, run against SQLite and PostgreSQL (``database_url``), the database's own refusal to change
signed history, and optimistic concurrency under 20 concurrent writers (PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, StatementError

from passport.errors import Conflict, NotFound, VersionConflict
from passport.service.context import ServiceContext
from passport.service.organisations import create_organisation
from passport.service.passports import Passports
from passport.service.verification import verify_passport
from passport.storage import CREDENTIAL_VIEWS, KeyRecord, Organisation, PassportRecord, VersionRecord
from passport.storage.migrate import HEAD, MIGRATIONS, SchemaUnknown, upgrade
from passport.storage.sql import SqlStore

T0 = dt.datetime(2026, 11, 25, 10, 0, 0, 123000, tzinfo=dt.UTC)


@pytest.fixture
def store(database_url: str) -> Iterator[SqlStore]:
    opened = SqlStore(database_url)
    opened.create_organisation(Organisation("acme", "ACME Batteries GmbH", T0))
    yield opened
    opened.close()


# --- factories ----------------------------------------------------------------------------------------------------


def passport(
    passport_id: str, version: int, *, serial: str = "SN-1", gtin: str = "09520123456788", organisation: str = "acme"
) -> PassportRecord:
    return PassportRecord(
        passport_id=passport_id,
        gtin=gtin,
        serial=serial,
        organisation=organisation,
        current_version=version,
        category="ev",
        chemistry="NMC811",
        status="original",
        ceased=False,
        created_at=T0,
        updated_at=T0 + dt.timedelta(minutes=version),
    )


def version(passport_id: str, number: int) -> VersionRecord:
    credentials = {view: f'{{"v":{number},"view":"{view}","id":"{passport_id}"}}'.encode() for view in CREDENTIAL_VIEWS}
    return VersionRecord(
        passport_id=passport_id,
        version=number,
        created_at=T0 + dt.timedelta(minutes=number),
        full_hash=f"sha256:{number:064x}",
        signed_by="did:web:testserver:orgs:acme",
        credentials=credentials,
        warnings=({"pointer": "/x", "message": "m", "severity": "warning", "code": "c"},) if number == 2 else (),
    )


def new_id() -> str:
    return str(uuid.uuid4())


def append(store: SqlStore, passport_id: str, number: int, **fields: Any) -> None:
    store.add_version(passport(passport_id, number, **fields), version(passport_id, number), (number - 1) or None)


# --- organisations and keys ---------------------------------------------------------------------------------------


def test_organisations(store: SqlStore) -> None:
    assert store.get_organisation("acme") == Organisation("acme", "ACME Batteries GmbH", T0)
    store.create_organisation(Organisation("beta", "Beta Recycling", T0))
    assert [o.slug for o in store.list_organisations()] == ["acme", "beta"]
    with pytest.raises(Conflict):
        store.create_organisation(Organisation("acme", "Another ACME", T0))
    with pytest.raises(NotFound):
        store.get_organisation("nobody")


def test_keys_are_added_listed_retired_and_revoked(store: SqlStore) -> None:
    store.create_organisation(Organisation("beta", "Beta", T0))
    store.add_key(KeyRecord("acme", "key-1", "z6Mk-one", T0))
    store.add_key(KeyRecord("beta", "key-1", "z6Mk-beta", T0))
    store.add_key(KeyRecord("acme", "key-2", "z6Mk-two", T0 + dt.timedelta(hours=1)))
    assert [(k.organisation, k.key_id) for k in store.list_keys()] == [
        ("acme", "key-1"),
        ("acme", "key-2"),
        ("beta", "key-1"),
    ]
    assert all(k.active for k in store.list_keys("acme"))

    store.retire_key("acme", "key-1", T0 + dt.timedelta(hours=1))
    store.revoke_key("acme", "key-2", T0 + dt.timedelta(hours=2))
    one, two = store.list_keys("acme")
    assert (one.retired_at, one.revoked_at, one.active) == (T0 + dt.timedelta(hours=1), None, False)
    assert (two.retired_at, two.revoked_at, two.active) == (None, T0 + dt.timedelta(hours=2), False)
    assert store.list_keys("beta")[0].active

    with pytest.raises(Conflict):
        store.add_key(KeyRecord("acme", "key-1", "z6Mk-again", T0))
    with pytest.raises(NotFound):
        store.revoke_key("acme", "key-9", T0)
    with pytest.raises(NotFound):
        store.add_key(KeyRecord("nobody", "key-1", "z6Mk", T0))


# --- versions -----------------------------------------------------------------------------------------------------


def test_versions_append_and_read_back(store: SqlStore) -> None:
    pid = new_id()
    append(store, pid, 1)
    append(store, pid, 2)
    record = store.get_passport(pid)
    assert (record.current_version, record.organisation, record.created_at) == (2, "acme", T0)
    assert store.find_passport("09520123456788", "SN-1") == record
    assert store.get_version(pid) == version(pid, 2)
    assert store.get_version(pid, 1) == version(pid, 1)
    assert store.list_versions(pid) == [version(pid, 1), version(pid, 2)]
    with pytest.raises(NotFound):
        store.get_version(pid, 3)
    with pytest.raises(NotFound):
        store.get_passport(new_id())
    with pytest.raises(NotFound):
        store.list_versions(new_id())


def test_a_stale_expected_version_is_a_version_conflict(store: SqlStore) -> None:
    pid = new_id()
    append(store, pid, 1)
    append(store, pid, 2)
    with pytest.raises(VersionConflict):
        store.add_version(passport(pid, 2), version(pid, 2), expected_previous=1)
    with pytest.raises(VersionConflict):
        store.add_version(passport(pid, 1), version(pid, 1), expected_previous=None)
    with pytest.raises(VersionConflict):
        store.add_version(passport(pid, 4), version(pid, 4), expected_previous=3)
    assert [v.version for v in store.list_versions(pid)] == [1, 2]


def test_a_second_passport_for_one_battery_is_a_conflict(store: SqlStore) -> None:
    append(store, new_id(), 1, serial="SN-7")
    with pytest.raises(Conflict) as caught:
        append(store, new_id(), 1, serial="SN-7")
    assert not isinstance(caught.value, VersionConflict)
    assert store.count_passports() == 1


def test_iter_versions_orders_by_passport_then_version(store: SqlStore) -> None:
    ids = [new_id() for _ in range(4)]
    for i, pid in enumerate(ids):
        append(store, pid, 1, serial=f"SN-{i}")
    for pid in reversed(ids[:2]):
        append(store, pid, 2, serial=f"SN-{ids.index(pid)}")
    listed = [(v.passport_id, v.version) for v in store.iter_versions()]
    assert listed == sorted([(pid, 1) for pid in ids] + [(pid, 2) for pid in ids[:2]])
    assert store.count_passports() == 4


def test_is_empty(database_url: str) -> None:
    empty = SqlStore(database_url)
    try:
        assert empty.is_empty()
        assert empty.count_passports() == 0
        empty.create_organisation(Organisation("acme", "ACME", T0))
        assert not empty.is_empty()
    finally:
        empty.close()


def test_add_versions_is_all_or_nothing(store: SqlStore) -> None:
    first, second, third = new_id(), new_id(), new_id()
    batch = [
        (passport(first, 1, serial="A"), version(first, 1), None),
        (passport(second, 1, serial="B"), version(second, 1), None),
        (passport(third, 1, serial="A"), version(third, 1), None),  # same battery as the first
    ]
    with pytest.raises(Conflict):
        store.add_versions(batch)
    assert store.count_passports() == 0
    assert list(store.iter_versions()) == []

    store.add_versions(batch[:2])
    stale = [
        (passport(first, 2, serial="A"), version(first, 2), 1),
        (passport(second, 2, serial="B"), version(second, 2), 7),
    ]
    with pytest.raises(VersionConflict):
        store.add_versions(stale)
    assert store.get_passport(first).current_version == 1
    assert [v.version for v in store.list_versions(first)] == [1]


def test_an_unknown_organisation_writes_nothing(store: SqlStore) -> None:
    with pytest.raises(NotFound):
        append(store, new_id(), 1, organisation="nobody")
    assert store.count_passports() == 0


def test_datetimes_round_trip_as_aware_utc(store: SqlStore) -> None:
    paris = dt.timezone(dt.timedelta(hours=1))
    moment = dt.datetime(2026, 11, 25, 11, 30, 15, 250000, tzinfo=paris)
    store.create_organisation(Organisation("zulu", "Zulu", moment))
    stored = store.get_organisation("zulu").created_at
    assert stored == moment
    assert stored.utcoffset() == dt.timedelta(0)
    assert stored.tzinfo is not None
    pid = new_id()
    append(store, pid, 1)
    assert store.get_version(pid).created_at.utcoffset() == dt.timedelta(0)
    assert store.get_passport(pid).updated_at == T0 + dt.timedelta(minutes=1)


def test_naive_datetimes_are_refused(store: SqlStore) -> None:
    with pytest.raises(StatementError):
        store.create_organisation(Organisation("naive", "Naive", dt.datetime(2026, 1, 1)))


# --- the database refuses to change signed history ----------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE passport_versions SET full_hash = 'sha256:forged'",
        "UPDATE passport_versions SET credential_public = credential_full",
        "DELETE FROM passport_versions",
        "DELETE FROM passport_versions WHERE version = 2",
    ],
)
def test_version_rows_are_append_only(store: SqlStore, statement: str) -> None:
    pid = new_id()
    append(store, pid, 1)
    append(store, pid, 2)
    with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as connection:
        connection.execute(text(statement))
    assert store.list_versions(pid) == [version(pid, 1), version(pid, 2)]


# --- migrations -----------------------------------------------------------------------------------------------------


def test_migrations_are_idempotent(database_url: str) -> None:
    first = SqlStore(database_url)
    pid = new_id()
    first.create_organisation(Organisation("acme", "ACME", T0))
    append(first, pid, 1)
    first.migrate()  # again on the same store
    first.close()

    reopened = SqlStore(database_url)  # and on start-up
    try:
        assert reopened.get_version(pid) == version(pid, 1)
        with reopened.engine.connect() as connection:
            heads = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        assert heads == [ScriptDirectory(str(MIGRATIONS)).get_current_head()]
    finally:
        reopened.close()


def test_head_constant_is_alembics_head() -> None:
    """Start-up skips Alembic when the database is at HEAD: a migration added without moving HEAD would be skipped."""
    assert ScriptDirectory(str(MIGRATIONS)).get_current_head() == HEAD


def test_a_database_at_an_unknown_revision_is_refused(database_url: str) -> None:
    store = SqlStore(database_url)
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    try:
        with pytest.raises(SchemaUnknown), store.engine.begin() as connection:
            upgrade(connection)
    finally:
        with store.engine.begin() as connection:
            connection.execute(text(f"UPDATE alembic_version SET version_num = '{HEAD}'"))
        store.close()


# --- concurrency (PostgreSQL) -------------------------------------------------------------------------------------

WRITERS = 20


@pytest.mark.postgres
def test_concurrent_revisions_of_one_version(
    postgres_schema_url: str,
    context_factory: Callable[..., ServiceContext],
    example: Callable[[str], dict[str, Any]],
) -> None:
    context = context_factory(postgres_schema_url)
    create_organisation(context, "acme", "ACME Batteries GmbH")
    passport_id = Passports(context).issue("acme", example("passport-ev")).passport_id
    barrier = threading.Barrier(WRITERS)
    outcomes: list[object] = [None] * WRITERS

    def revise(i: int) -> None:
        patch = {"condition": {"stateOfCharge": {"value": float(i), "lastUpdate": "2026-11-25T09:00:00Z"}}}
        barrier.wait()
        try:
            outcomes[i] = Passports(context).revise(passport_id, "acme", patch, expected_version=1)
        except Exception as exc:  # every outcome is inspected below
            outcomes[i] = exc

    threads = [threading.Thread(target=revise, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    conflicts = [o for o in outcomes if isinstance(o, VersionConflict)]
    successes = [o for o in outcomes if not isinstance(o, Exception)]
    assert len(successes) == 1, outcomes
    assert len(conflicts) == WRITERS - 1, outcomes
    assert [v.version for v in context.store.list_versions(passport_id)] == [1, 2]
    report = verify_passport(context, passport_id)
    assert (report.versions, report.credentials) == (2, 8)
