"""``passport purposes``, ``passport grants`` and ``passport accesslog``: the operator approves purposes, lists and
revokes grants, reads and prunes the access log; every decision is audited, and bad input is a clear message with a
non-zero exit, never a traceback."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from passport.access import Role
from passport.cli import app
from passport.cli import commands as _commands  # noqa: F401  (registers the sub-commands)
from passport.config import Settings
from passport.service import access_management as access
from passport.service.access_control import approved_purposes
from passport.service.apikeys import Caller
from passport.service.context import ServiceContext, open_context
from passport.service.organisations import create_organisation
from passport.service.passports import Passports
from passport.storage import AccessEntry

runner = CliRunner()
Run = Callable[..., tuple[int, str]]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"PASSPORT_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "PASSPORT_KEYS_DIR": str(tmp_path / "keys"),
            "PASSPORT_PUBLIC_BASE_URL": "http://testserver", "COLUMNS": "250"}


@pytest.fixture
def context(env: dict[str, str], tmp_path: Path) -> Iterator[ServiceContext]:
    settings = Settings(database_url=env["PASSPORT_DATABASE_URL"], keys_dir=tmp_path / "keys",
                        public_base_url="http://testserver")
    opened = open_context(settings)
    yield opened
    opened.close()


@pytest.fixture
def run(env: dict[str, str]) -> Run:
    def invoke(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, list(args), env=env)
        assert "Traceback" not in result.output + result.stderr
        return result.exit_code, result.stdout + result.stderr

    return invoke


def test_purposes_and_grants(context: ServiceContext, run: Run, example: Callable[[str], dict[str, Any]]) -> None:
    create_organisation(context, "acme", "ACME")
    create_organisation(context, "recyclex", "RecycleX")
    passport_id = Passports(context).issue("acme", example("passport-ev")).passport_id
    access.request_purpose(context, Caller(Role.LEGITIMATE_INTEREST, "recyclex"), "recycler")

    code, output = run("purposes", "list", "--format", "json")
    assert code == 0, output
    assert [(p["organisation"], p["purpose"], p["status"]) for p in json.loads(output)] == [
        ("recyclex", "recycler", "requested")]
    code, output = run("purposes", "approve", "recyclex", "recycler")
    assert (code, output.strip()) == (0, "recyclex: recycler approved")
    assert approved_purposes(context, "recyclex") == {"recycler"}
    code, output = run("purposes", "approve", "recyclex", "astrology")
    assert code != 0 and "purpose: one of recycler" in output
    code, output = run("purposes", "approve", "nobody", "recycler")
    assert code != 0 and "nobody" in output

    record = access.grant(context, Caller(Role.MANUFACTURER, "acme"), "recyclex", "passport", passport_id,
                          "recycler", context.clock() + dt.timedelta(days=30))
    code, output = run("grants", "list", "--grantee", "recyclex", "--format", "json")
    assert code == 0, output
    [listed] = json.loads(output)
    assert (listed["id"], listed["scope"], listed["active"]) == (
        record.grant_id, {"kind": "passport", "id": passport_id}, True)
    code, output = run("grants", "list", "--grantor", "recyclex", "--format", "csv")
    assert (code, output.strip()) == (0, "id,grantee,grantor,scope,purpose,expiresAt,revokedAt,active")
    code, output = run("grants", "revoke", record.grant_id)
    assert code == 0 and record.grant_id in output
    assert context.store.get_grant(record.grant_id).revoked_at is not None
    code, output = run("grants", "revoke", "0193-not-a-grant")
    assert code != 0 and "no grant" in output

    actions = {(e.action, e.subject) for e in context.store.list_audit()}
    assert ("purpose.approved", "org:recyclex") in actions
    assert ("grant.revoked", f"grant:{record.grant_id}") in actions


def test_access_log_list_and_prune(context: ServiceContext, run: Run) -> None:
    create_organisation(context, "acme", "ACME")
    create_organisation(context, "recyclex", "RecycleX")
    old, recent = dt.datetime(2015, 3, 1, tzinfo=dt.UTC), dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    context.store.log_access([
        AccessEntry(f"0190{n:028x}", moment, "recyclex", "legitimate_interest", None, None, "acme",
                    "legitimate_interest", "recycler", "inventory", None, 12)
        for n, moment in enumerate((old, recent))
    ])
    code, output = run("accesslog", "list", "--manufacturer", "acme", "--format", "json")
    assert code == 0, output
    assert [e["at"][:10] for e in json.loads(output)] == ["2026-11-01", "2015-03-01"]
    code, output = run("accesslog", "list", "--since", "2020-01-01", "--format", "csv")
    assert code == 0 and output.count("recyclex") == 1

    code, output = run("accesslog", "prune", "--before", "31.12.2016")
    assert code == 2 and "--before: a date" in output
    code, output = run("accesslog", "prune", "--before", "2999-01-01")
    assert code == 2 and "future" in output
    assert len(context.store.list_access()) == 2, "nothing removed by refused commands"
    code, output = run("accesslog", "prune", "--before", "2016-12-31")
    assert code == 0 and output.startswith("removed 1 access-log entries")
    assert [e.at for e in context.store.list_access()] == [recent]
    assert any(e.action == "accesslog.pruned" and e.details["removed"] == 1 for e in context.store.list_audit())
