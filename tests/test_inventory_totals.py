"""The inventory totals (passport/storage/totals_sql.py) on SQLite and PostgreSQL: kept in step with every write they
must be (new passports one by one and in batches, revisions moving a passport between keys, custody transfers,
ceasing, restore, refused batches that write nothing, concurrent writers), they equal a rebuild from the detailed
rows, and every inventory and access-log grouping read from them equals the same query over the detailed rows, for
every kind of scope (passports named one by one included) and windows of whole months (others use the detailed rows).
Migration 0006 fills them for a database that already holds passports."""

from __future__ import annotations

import datetime as dt
import random
import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import event, inspect, select

from passport.errors import Conflict
from passport.storage import AccessScope, Organisation, PassportRecord
from passport.storage.circularity_tables import inventory_materials, inventory_passports
from passport.storage.migrate import MIGRATIONS, current_revision, upgrade
from passport.storage.sql import SqlStore
from passport.storage.totals_sql import KEY_COLUMNS, rebuild
from tests.test_store import version

T0 = dt.datetime(2026, 3, 30, 12, 0, tzinfo=dt.UTC)
ORGS = ("acme", "bolt", "cellco", "recyco")
MODELS = (None, "01900000-0000-7000-8000-00000000000a", "01900000-0000-7000-8000-00000000000b")
MATERIALS = ("Co", "Li", "Ni", "Mn", "Pb", "Cu", "graphite", "PVDF binder")
GROUPINGS: Sequence[tuple[str, ...]] = (
    ("material",), ("material", "chemistry"), ("material", "category", "status"), ("material", "month"),
    ("material", "manufacturer"), ("material", "holder"), ("material", "month", "holder", "manufacturer"))


@pytest.fixture
def store(database_url: str) -> Iterator[SqlStore]:
    opened = SqlStore(database_url)
    for slug in ORGS:
        opened.create_organisation(Organisation(slug, slug.upper(), T0))
    yield opened
    opened.close()


class World:
    """Random passports written to the store, with their current state."""

    def __init__(self, store: SqlStore, seed: int) -> None:
        self.store = store
        self.rng = random.Random(seed)
        self.current: dict[str, PassportRecord] = {}
        self.history: list[tuple[PassportRecord, Any, int | None]] = []  # every write that landed, in order
        self.serial = 0

    def _materials(self) -> tuple[tuple[str, str, str, float], ...]:
        chosen = self.rng.sample(MATERIALS, self.rng.randint(0, 5))
        if chosen and self.rng.random() < 0.3:
            chosen.append(chosen[0])  # one material at two positions counts its passport once
        return tuple((m, f"{m} part", "", round(self.rng.uniform(0.001, 40.0), 6)) for m in chosen)

    def _state(self, base: PassportRecord) -> PassportRecord:
        rng = self.rng
        return replace(
            base, category=rng.choice(("ev", "lmt", "industrial")), chemistry=rng.choice(("NMC811", "LFP")),
            status=rng.choice(("original", "repurposed", "waste")), ceased=rng.random() < 0.1,
            model_id=rng.choice(MODELS), holder=rng.choice((None, None, *ORGS)), materials=self._materials())

    def new(self) -> tuple[PassportRecord, Any, None]:
        self.serial += 1
        # issue times across four months, some on the first instant of one
        created = T0 + dt.timedelta(days=self.rng.choice((0, 1, 2, 33, 60, 95)), hours=self.rng.choice((0, 12)))
        created = created.replace(hour=0) if created.day == 1 and self.rng.random() < 0.5 else created
        pid = str(uuid.uuid4())
        record = self._state(PassportRecord(
            pid, "09520123456788", f"SN-{self.serial}", self.rng.choice(ORGS[:3]), 1, "ev", "LFP", "original", False,
            created, created))
        return record, version(pid, 1), None

    def revision(self, pid: str) -> tuple[PassportRecord, Any, int]:
        former = self.current[pid]
        number = former.current_version + 1
        record = replace(former, current_version=number, updated_at=former.updated_at + dt.timedelta(minutes=1))
        # half the revisions keep the passport's key (a new composition, as most updates would), half move it
        record = replace(record, materials=self._materials()) if self.rng.random() < 0.5 else self._state(record)
        return record, version(pid, number), former.current_version

    def write(self, items: Sequence[tuple[PassportRecord, Any, int | None]]) -> None:
        self.store.add_versions(items)
        self.history += items
        for record, _, _ in items:
            self.current[record.passport_id] = record

    def run(self, steps: int) -> None:
        for _ in range(steps):
            roll = self.rng.random()
            if roll < 0.3 or not self.current:
                self.write([self.new()])
            elif roll < 0.45:
                self.write([self.new() for _ in range(self.rng.randint(2, 6))])
            elif roll < 0.85:
                pids = self.rng.sample(sorted(self.current), min(len(self.current), self.rng.randint(1, 3)))
                self.write([self.revision(pid) for pid in pids])
            else:
                # a batch refused as a whole (a revision of a version the passport has left): nothing changes
                pid = self.rng.choice(sorted(self.current))
                stale = self.revision(pid)
                with pytest.raises(Conflict):
                    self.store.add_versions([self.new(), (stale[0], stale[1], stale[2] - 1 or 99)])


def totals_rows(store: SqlStore) -> dict[str, dict[tuple[Any, ...], tuple[int, float]]]:
    with store.engine.connect() as connection:
        passports = {tuple(row[:8]): (row[8], 0.0) for row in connection.execute(
            select(*[inventory_passports.c[name] for name in KEY_COLUMNS], inventory_passports.c.passports))}
        materials = {tuple(row[:9]): (row[9], row[10]) for row in connection.execute(
            select(*[inventory_materials.c[name] for name in (*KEY_COLUMNS, "material")],
                   inventory_materials.c.passports, inventory_materials.c.mass_kg))}
    return {"passports": passports, "materials": materials}


def rebuilt_rows(store: SqlStore) -> dict[str, dict[tuple[Any, ...], tuple[int, float]]]:
    """The totals a rebuild from the detailed rows gives (rolled back: the store keeps its own)."""
    with store.engine.connect() as connection:
        transaction = connection.begin()
        rebuild(connection)
        passports = {tuple(row[:8]): (row[8], 0.0) for row in connection.execute(
            select(*[inventory_passports.c[name] for name in KEY_COLUMNS], inventory_passports.c.passports))}
        materials = {tuple(row[:9]): (row[9], row[10]) for row in connection.execute(
            select(*[inventory_materials.c[name] for name in (*KEY_COLUMNS, "material")],
                   inventory_materials.c.passports, inventory_materials.c.mass_kg))}
        transaction.rollback()
    return {"passports": passports, "materials": materials}


def assert_same_totals(kept: dict[str, Any], rebuilt: dict[str, Any]) -> None:
    for table in ("passports", "materials"):
        assert kept[table].keys() == rebuilt[table].keys(), table
        for key, (count, mass) in rebuilt[table].items():
            assert kept[table][key][0] == count, key
            assert kept[table][key][1] == pytest.approx(mass, rel=1e-9, abs=1e-9), key


def detailed_inventory(store: SqlStore, **query: Any) -> list[dict[str, Any]]:
    group_by = query.pop("group_by")
    statement = store._detailed_inventory(group_by, store._scope(**query))
    with store.engine.connect() as connection:
        return [{**dict(row), "massKg": float(row["massKg"]), "passports": int(row["passports"])}
                for row in connection.execute(statement).mappings()]


def approx_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**row, "massKg": pytest.approx(row["massKg"], rel=1e-9, abs=1e-9)} for row in rows]


def scopes(world: World) -> list[AccessScope | None]:
    pids = sorted(world.current)
    return [
        None,
        AccessScope("acme"),
        AccessScope("recyco"),  # holds some batteries, makes none
        AccessScope("recyco", model_ids=frozenset({MODELS[1]})),
        AccessScope("recyco", manufacturers=frozenset({"bolt"})),
        AccessScope("recyco", passport_ids=frozenset(pids[::5])),  # named one by one, some held anyway
        AccessScope("acme", passport_ids=frozenset(pids[1::4]), model_ids=frozenset({MODELS[2]})),
    ]


WINDOWS = [
    (None, None),
    (dt.datetime(2026, 4, 1, tzinfo=dt.UTC), None),
    (None, dt.datetime(2026, 6, 1, tzinfo=dt.UTC)),
    (dt.datetime(2026, 4, 1, tzinfo=dt.UTC), dt.datetime(2026, 5, 1, tzinfo=dt.UTC)),
    (dt.datetime(2026, 3, 31, tzinfo=dt.UTC), None),  # not a month's start: the detailed rows answer
    # a month's start in UTC written in another time zone
    (dt.datetime(2026, 5, 1, 2, tzinfo=dt.timezone(dt.timedelta(hours=2))), None),
]


@pytest.mark.parametrize("seed", [1, 2])
def test_totals_follow_every_write_and_answer_as_the_detailed_rows(store: SqlStore, seed: int) -> None:
    world = World(store, seed)
    world.run(60)
    assert len(world.current) > 20
    assert_same_totals(totals_rows(store), rebuilt_rows(store))

    for scope in scopes(world):
        for since, until in WINDOWS:
            for include_ceased in (False, True):
                window: dict[str, Any] = {"scope": scope, "since": since, "until": until,
                                          "include_ceased": include_ceased}
                for filters in ({}, {"chemistry": "LFP"}, {"status": "waste", "category": "ev"},
                                {"manufacturer": "bolt"}, {"holder": "acme"}):
                    for group_by in GROUPINGS[:: 1 if not filters else 3]:
                        got = store.inventory(group_by=group_by, filters=filters, **window)
                        assert got == approx_rows(detailed_inventory(store, group_by=group_by, filters=filters,
                                                                     **window)), (scope, since, filters, group_by)
                    groups = store.access_groups(filters=filters, **window)
                    conditions = store._scope(filters=filters, **window)
                    assert sorted(groups, key=repr) == sorted(store._detailed_access_groups(scope, conditions),
                                                              key=repr), (scope, since, filters)


def test_every_grouping_has_rows_read_from_the_totals(store: SqlStore) -> None:
    """The comparison above is not between two empty answers, and the totals, not the detailed rows, answer."""
    world = World(store, 3)
    world.run(30)
    statements: list[str] = []

    def capture(*args: Any) -> None:
        statements.append(args[2])

    event.listen(store.engine, "before_cursor_execute", capture)
    try:
        for group_by in GROUPINGS:
            rows = store.inventory(scope=AccessScope("acme", model_ids=frozenset({MODELS[1]})), filters={},
                                   since=dt.datetime(2026, 3, 1, tzinfo=dt.UTC), until=None, group_by=group_by,
                                   include_ceased=True)
            assert rows and all(row["passports"] > 0 and row["massKg"] > 0 for row in rows), group_by
    finally:
        event.remove(store.engine, "before_cursor_execute", capture)
    assert statements and not [statement for statement in statements if "passport_materials" in statement]
    assert sum(n for *_, n in store.access_groups(scope=None, filters={}, since=None, until=None,
                                                   include_ceased=True)) == len(world.current)


def test_restore_fills_the_totals(store: SqlStore, tmp_path: Any) -> None:
    world = World(store, 4)
    world.run(25)
    organisations: list[tuple[Organisation, list[Any]]] = [(organisation, []) for organisation in
                                                            store.list_organisations()]
    restored = SqlStore(f"sqlite:///{tmp_path / 'restored.db'}")
    try:
        restored.restore(organisations, world.history)
        kept, again = totals_rows(store), totals_rows(restored)
        # the organisations' ids may differ between the stores: compare by what the rows count
        assert sorted(kept["passports"].values()) == sorted(again["passports"].values())
        assert sorted(n for n, _ in kept["materials"].values()) == sorted(n for n, _ in again["materials"].values())
        assert_same_totals(again, rebuilt_rows(restored))
    finally:
        restored.close()


def test_migration_0006_fills_the_totals_of_a_database_with_passports(store: SqlStore) -> None:
    world = World(store, 5)
    world.run(30)
    kept = totals_rows(store)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with store.engine.begin() as connection:  # back to 0005, as a database written by the previous version
        config.attributes["connection"] = connection
        command.downgrade(config, "0005")
    with store.engine.connect() as connection:
        assert current_revision(connection) == "0005"
        assert not inspect(connection).has_table("inventory_passports")
    with store.engine.begin() as connection:
        upgrade(connection)
    assert_same_totals(kept, totals_rows(store))


@pytest.mark.postgres
def test_concurrent_writers_keep_the_totals_whole(postgres_schema_url: str) -> None:
    """Eight writers issue and revise passports sharing keys, in batches in different orders: none fails on a
    deadlock or a lost update, and the totals equal a rebuild."""
    store = SqlStore(postgres_schema_url)
    try:
        for slug in ORGS:
            store.create_organisation(Organisation(slug, slug.upper(), T0))
        worlds = [World(store, 100 + i) for i in range(8)]
        for i, world in enumerate(worlds):
            world.serial = 1000 * (i + 1)
        errors: list[BaseException] = []
        barrier = threading.Barrier(len(worlds))

        def work(world: World) -> None:
            barrier.wait()
            try:
                for _ in range(12):
                    items: list[tuple[PassportRecord, Any, int | None]] = [
                        world.new() for _ in range(world.rng.randint(1, 5))]
                    items += [world.revision(pid) for pid in world.rng.sample(sorted(world.current),
                                                                               min(2, len(world.current)))]
                    world.write(items)
            except BaseException as exc:  # every writer's failure is reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(world,)) for world in worlds]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert_same_totals(totals_rows(store), rebuilt_rows(store))
        assert sum(count for count, _ in totals_rows(store)["passports"].values()) == sum(
            len(world.current) for world in worlds)
    finally:
        store.close()
