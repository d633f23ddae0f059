"""The demo (what `make run` loads): every kind of record a real installation holds, loaded idempotently, verifying,
and surviving an export and a restore on both engines with nothing lost: custody, holders, recoveries, model links,
purposes, grants (active and revoked), owners, access requests and the audit log."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from passport import demo
from passport.service import dump
from passport.service.context import ServiceContext
from passport.service.verification import verify_store
from passport.storage import PassportRecord, SearchQuery

COUNT = 40  # a small demo: every model, status and access record, in seconds


@pytest.fixture(scope="module")
def demo_export(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, dict[str, PassportRecord], Path]:
    """The demo loaded once into SQLite and exported; the records it holds, to compare restores against."""
    from passport.config import Settings
    from passport.service.context import open_context
    from tests.conftest import FakeClock

    base = tmp_path_factory.mktemp("demo")
    settings = Settings(
        database_url=f"sqlite:///{base / 'demo.db'}", keys_dir=base / "keys", public_base_url="http://testserver"
    )
    context = open_context(settings, clock=FakeClock())
    try:
        result = demo.load(context, base / "keys.json", count=COUNT)
        assert result.created
        out = io.BytesIO()
        dump.export(context, out)
        records = {r.passport_id: r for r, _ in _all(context)}
    finally:
        context.close()
    return out.getvalue(), records, base


def _all(context: ServiceContext) -> list[tuple[PassportRecord, dict[str, bytes]]]:
    return context.store.search(SearchQuery(include_ceased=True, limit=10_000), ["public"])


def _lines(export: bytes, kind: str) -> list[bytes]:
    return [line for line in export.splitlines() if line.startswith(b'{"type":"' + kind.encode() + b'"')]


def test_demo_holds_every_kind_of_record(context_factory: Callable[..., ServiceContext], tmp_path: Path) -> None:
    context = context_factory()
    keys = tmp_path / "keys.json"
    result = demo.load(context, keys, count=COUNT)
    assert result.created and result.passports >= COUNT
    assert oct(keys.stat().st_mode & 0o777) == "0o600"
    assert {role for role, _ in (k.split(":") for k in result.keys)} == {
        "manufacturer",
        "legitimate_interest",
        "authority",
        "admin",
    }
    assert len(result.samples) == 3
    records = [r for r, _ in _all(context)]
    statuses = Counter(r.status for r in records)
    assert {"original", "waste"} <= set(statuses)
    assert statuses.keys() & {"repurposed", "re-used", "remanufactured"}, statuses
    assert any(r.ceased for r in records), "recycled passports cease"
    assert {r.holder for r in records} >= {"collectco", "recyclex"}
    assert {r.chemistry for r in records} >= {"NMC", "LFP", "Lead-acid"} or len({r.chemistry for r in records}) >= 4
    assert context.store.recovery_rows(), "recyclers recorded recovered masses"
    grants = context.store.list_grants()
    assert {g.scope_kind for g in grants} == {"manufacturer", "model", "passport"}
    assert any(g.revoked_at for g in grants) and any(not g.revoked_at for g in grants)
    assert {r.status for r in context.store.list_requests()} == {"approved", "refused", "pending"}
    assert len(context.store.owned_passports("fleetco")) == 5
    assert {p["status"] for p in context.store.list_purposes()} == {"approved"}
    assert {e.action for e in context.store.list_audit()} >= {
        "purpose.approved",
        "grant.created",
        "grant.revoked",
        "owner.set",
        "access-request.created",
        "access-request.approved",
        "access-request.refused",
    }
    report = verify_store(context)
    assert report.passports == len(records) and report.versions > len(records)

    again = demo.load(context, keys, count=COUNT)
    assert not again.created and again.passports == result.passports
    assert again.keys == result.keys, "a second load reads the keys it wrote"


def test_export_restore_keeps_everything(
    demo_export: tuple[bytes, dict[str, PassportRecord], Path],
    context_factory: Callable[..., ServiceContext],
    database_url: str,
    tmp_path: Path,
) -> None:
    exported, records, _ = demo_export
    for kind in ("model", "purpose", "grant", "access-request", "owner", "audit"):
        assert _lines(exported, kind), f"the export has {kind} lines"
    path = tmp_path / "demo.ndjson"
    path.write_bytes(exported)
    target = context_factory(database_url)
    report = dump.restore(target, path)
    assert report.passports == len(records)

    out = io.BytesIO()
    dump.export(target, out)
    assert out.getvalue() == exported, "export(restore(export)) is the same file, byte for byte"

    restored = {r.passport_id: r for r, _ in _all(target)}
    assert restored.keys() == records.keys()
    for passport_id, record in records.items():
        again = restored[passport_id]
        assert (
            again.organisation,
            again.holder,
            again.model_id,
            again.model_version,
            again.status,
            again.ceased,
            again.current_version,
        ) == (
            record.organisation,
            record.holder,
            record.model_id,
            record.model_version,
            record.status,
            record.ceased,
            record.current_version,
        ), passport_id
    assert target.store.owned_passports("fleetco") and len(target.store.owned_passports("fleetco")) == 5
    assert target.store.recovery_rows(), "recovered masses are restored"


def test_restored_inventory_and_recovery_match(
    demo_export: tuple[bytes, dict[str, PassportRecord], Path],
    context_factory: Callable[..., ServiceContext],
    tmp_path: Path,
) -> None:
    """Derived rows (materials, recycled content, recoveries) are rebuilt from the signed documents: the figures
    recyclers see are the same after a restore."""
    exported, _, base = demo_export
    from passport.config import Settings
    from passport.service.context import open_context
    from tests.conftest import FakeClock

    source = open_context(
        Settings(
            database_url=f"sqlite:///{base / 'demo.db'}", keys_dir=base / "keys", public_base_url="http://testserver"
        ),
        clock=FakeClock(),
    )
    path = tmp_path / "demo.ndjson"
    path.write_bytes(exported)
    target = context_factory()
    dump.restore(target, path)
    try:
        for store in (source.store, target.store):
            assert store.inventory(
                scope=None, filters={}, since=None, until=None, group_by=["material"], include_ceased=True
            )
        inventory = [
            store.inventory(
                scope=None, filters={}, since=None, until=None, group_by=["material", "chemistry"], include_ceased=True
            )
            for store in (source.store, target.store)
        ]
        assert inventory[0] == inventory[1]
        recovered = [
            sorted(repr({k: v for k, v in row.items() if k != "recycler_id"}) for row in store.recovery_rows())
            for store in (source.store, target.store)
        ]
        assert recovered[0] and recovered[0] == recovered[1]
        assert source.store.recycled_content_rows(None) == target.store.recycled_content_rows(None)
    finally:
        source.close()
