"""Issue 9, must-show 3: no ``passport`` command prints a traceback. Every command is driven (they are enumerated from
the Typer application, so a new one is covered at once) with each failure that applies to it: a missing file, a
malformed file, an unknown id, a wrong key, a wrong organisation, an unreachable database. Each gives one clear line
on stderr (``error: …``) and a non-zero exit.

Two results are not errors and stay on stdout, as DESIGN §11 fixes them: ``passport verify``'s verdict
(``INVALID <reason>: detail``) and ``passport validate``'s problem lines; there the one line is on stdout and stderr
stays empty.

The matrix runs in-process (typer's CliRunner: any exception other than SystemExit is a traceback a user would see);
a selection runs again as real processes (``python -m passport``) to check what really reaches stderr."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import typing
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner, Result

from passport.access import Role
from passport.cli import app
from passport.cli import commands as _commands  # noqa: F401  (registers the sub-commands)
from passport.config import Settings
from passport.service import access_management as access
from passport.service import dump
from passport.service.apikeys import Caller, create_api_key, revoke_api_key
from passport.service.context import open_context
from passport.service.organisations import create_organisation
from passport.service.passports import Passports

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "docs" / "examples"
runner = CliRunner()

# --- the commands -------------------------------------------------------------------------------------------------


def command_tree(group: Any, prefix: tuple[str, ...] = ()) -> dict[str, Any]:
    """Every leaf command of the application by its path ("keys revoke"), as click sees it (with its parameters).
    (Typer vendors its own click: its classes are told apart by what they have, not by isinstance.)"""
    found: dict[str, Any] = {}
    for name, command in sorted(group.commands.items()):
        if hasattr(command, "commands"):
            found |= command_tree(command, (*prefix, name))
        else:
            found[" ".join((*prefix, name))] = command
    return found


COMMANDS = command_tree(typer.main.get_command(app))
# Commands that need no database: with an unreachable one they still work.
DATABASE_FREE = {"validate", "convert", "schema export", "schema check", "schema docs", "verify"}
# A valid invocation of every command against the workspace below: each failure varies one thing of it.
VALID: dict[str, tuple[str, ...]] = {
    "validate": ("{examples}/passport-ev.json",),
    "convert": ("--to", "batterypass", "{examples}/passport-ev.json"),
    "schema export": ("--dir", "{ws}/schemas"),
    "schema check": ("--dir", "{repo}/schemas"),
    "schema docs": ("--out", "{ws}/data-model.md"),
    "serve": ("--port", "{port}"),
    "init": (),
    "demo": ("--keys-file", "{ws}/demo-keys.json", "--count", "7", "--no-qr"),
    "orgs create": ("another", "--name", "Another Organisation"),
    "orgs list": (),
    "keys list": ("--org", "acme"),
    "keys rotate": ("--org", "acme"),
    "keys revoke": ("key-1", "--org", "acme"),
    "issue": ("{examples}/passport-lmt.json", "--org", "acme"),
    "import": ("{ws}/fleet.ndjson", "--org", "acme"),
    "export": ("--out", "{ws}/out.ndjson"),
    "restore": ("{ws}/export.ndjson",),
    "verify": ("{ws}/export.ndjson",),
    "apikeys create": ("--org", "acme", "--role", "manufacturer"),
    "apikeys list": ("--org", "acme"),
    "apikeys revoke": ("{apikey}",),
    "purposes list": ("--org", "recycler-co"),
    "purposes approve": ("recycler-co", "repairer"),
    "purposes refuse": ("recycler-co", "repairer"),
    "grants list": ("--grantee", "recycler-co"),
    "grants revoke": ("{grant}",),
    "accesslog list": ("--manufacturer", "acme"),
    "accesslog prune": ("--before", "2016-12-31"),
    "qr": ("{passport}", "--out", "{ws}/qr.svg"),
    "labels": ("{passport}", "--out", "{ws}/labels.pdf"),
    "report recycled-content": ("--by", "manufacturer"),
    "report recovery": (),
}
# restore writes into an empty database only
EMPTY_DATABASE = {"PASSPORT_DATABASE_URL": "sqlite:///{ws}/restored.db"}
VALID_ENV: dict[str, dict[str, str]] = {"restore": EMPTY_DATABASE}

# --- the failures -------------------------------------------------------------------------------------------------

MISSING, MALFORMED, UNKNOWN_ID, WRONG_KEY, WRONG_ORG, BUSY = (
    "missing file", "malformed file", "unknown id", "wrong key", "wrong organisation", "address in use")
# (the unreachable databases are a matrix of their own: test_unreachable_database)


@dataclass(frozen=True)
class Case:
    command: str
    kind: str
    args: tuple[str, ...]
    says: str  # in the one line
    env: Mapping[str, str | None] = field(default_factory=dict)
    code: int = 1
    verdict: bool = False  # the line is the command's result, on stdout (verify's INVALID, validate's problems)

    @property
    def id(self) -> str:
        return f"{self.command}: {self.kind}: {' '.join(self.args)[:60]}"


GOOD_EV = "{examples}/passport-ev.json"
CASES: tuple[Case, ...] = (
    # missing file (or a directory that does not exist)
    Case("validate", MISSING, ("{ws}/missing.json",), "missing.json: no such file", code=2),
    Case("convert", MISSING, ("--to", "batterypass", "{ws}/missing.json"), "missing.json: No such file"),
    Case("issue", MISSING, ("{ws}/missing.json", "--org", "acme"), "missing.json: No such file"),
    Case("import", MISSING, ("{ws}/missing.ndjson", "--org", "acme"), "missing.ndjson: No such file"),
    Case("import", MISSING, ("{ws}/fleet.ndjson", "--org", "acme", "--report", "{ws}/nodir/report.ndjson"),
         "nodir/report.ndjson: No such file"),
    Case("restore", MISSING, ("{ws}/missing.ndjson",), "missing.ndjson: No such file", env=EMPTY_DATABASE),
    Case("verify", MISSING, ("{ws}/missing.json",), "missing.json: No such file"),
    Case("export", MISSING, ("--out", "{ws}/nodir/out.ndjson"), "nodir/out.ndjson: No such file"),
    Case("qr", MISSING, ("{passport}", "--out", "{ws}/nodir/qr.png"), "nodir/qr.png: No such file"),
    Case("labels", MISSING, ("{passport}", "--out", "{ws}/nodir/labels.pdf"), "nodir/labels.pdf: No such file"),
    Case("schema check", MISSING, ("--dir", "{ws}/nodir"), "nodir: no such directory"),
    Case("schema export", MISSING, ("--dir", "{ws}/afile/schemas"), "afile/schemas: "),
    Case("schema docs", MISSING, ("--out", "{ws}/nodir/data-model.md"), "nodir/data-model.md: No such file"),
    Case("demo", MISSING, ("--keys-file", "{ws}/nodir/keys.json"), "no directory"),
    Case("init", MISSING, (), "keys-file-not-dir: exists and is not a directory",
         env={"PASSPORT_KEYS_DIR": "{ws}/keys-file-not-dir"}),
    Case("orgs create", MISSING, ("another", "--name", "Another"), "keys-file-not-dir",
         env={"PASSPORT_KEYS_DIR": "{ws}/keys-file-not-dir"}),
    # malformed file
    Case("validate", MALFORMED, ("{ws}/bad.json",), "bad.json: /: malformed JSON", verdict=True),
    Case("validate", MALFORMED, ("{ws}/binary.bin",), "binary.bin: /: ", verdict=True),
    Case("convert", MALFORMED, ("--to", "batterypass", "{ws}/bad.json"), "malformed JSON"),
    Case("convert", MALFORMED, ("--from", "batterypass", "{ws}/object.json"), "aspect(s) missing"),
    Case("convert", MALFORMED, ("--to", "batterypass", "{ws}/array.json"), "expected a JSON object"),
    Case("issue", MALFORMED, ("{ws}/bad.json", "--org", "acme"), "invalid JSON"),
    Case("issue", MALFORMED, ("{ws}/binary.bin", "--org", "acme"), "invalid JSON"),
    Case("issue", MALFORMED, ("{ws}/array.json", "--org", "acme"), "must be an object"),
    Case("import", MALFORMED, ("{ws}/bad.ndjson", "--org", "acme"), "2 of 2 lines failed; first: line 1"),
    Case("import", MALFORMED, ("{ws}/bad.csv", "--org", "acme"), "column 'x' is not a field"),
    Case("import", MALFORMED, ("{ws}/binary.ndjson", "--org", "acme"), "lines failed"),
    Case("restore", MALFORMED, ("{ws}/bad.ndjson",), "line 1", env=EMPTY_DATABASE),
    Case("restore", MALFORMED, ("{ws}/truncated.ndjson",), "trailer", env=EMPTY_DATABASE),
    Case("restore", MALFORMED, ("{ws}/export.ndjson",), "needs an empty database"),
    Case("verify", MALFORMED, ("{ws}/bad.json",), "INVALID malformed", verdict=True),
    Case("verify", MALFORMED, ("{ws}/binary.bin",), "INVALID malformed", verdict=True),
    Case("verify", MALFORMED, ("{ws}/tampered.json", "--key", "{right_key}"), "INVALID signature-invalid",
         verdict=True),
    Case("verify", MALFORMED, ("{ws}/truncated.ndjson",), "INVALID", verdict=True),
    Case("demo", MALFORMED, ("--keys-file", "{ws}/bad.json"), "not a demo keys file"),
    Case("orgs list", MALFORMED, (), "file is not a database",
         env={"PASSPORT_DATABASE_URL": "sqlite:///{ws}/bad.json"}),
    Case("apikeys list", MALFORMED, (), "invalid setting PASSPORT_TRUSTED_PROXIES: not JSON",
         env={"PASSPORT_TRUSTED_PROXIES": "127.0.0.1"}),
    Case("keys list", MALFORMED, (), "invalid setting PASSPORT_ENV", env={"PASSPORT_ENV": "staging"}),
    Case("report recovery", MALFORMED, (), "PASSPORT_DATABASE_URL is not a database URL",
         env={"PASSPORT_DATABASE_URL": "passport.db"}),
    Case("report recycled-content", MALFORMED, (), "newer version of passport",
         env={"PASSPORT_DATABASE_URL": "sqlite:///{ws}/newer.db"}),
    Case("accesslog prune", MALFORMED, ("--before", "last tuesday"), "--before: a date", code=2),
    Case("keys revoke", MALFORMED, ("key-1", "--org", "acme", "--at", "yesterday"), "--at 'yesterday'", code=2),
    # unknown id
    Case("qr", UNKNOWN_ID, ("{unknown}", "--out", "{ws}/qr.png"), "no passport {unknown}"),
    Case("qr", UNKNOWN_ID, ("not-an-id", "--out", "{ws}/qr.png"), "'not-an-id' is not a passport id"),
    Case("qr", UNKNOWN_ID, ("http://testserver/01/09520123456788/21/NO-SUCH", "--out", "{ws}/qr.svg"),
         "no passport for GTIN 09520123456788 serial NO-SUCH"),
    Case("labels", UNKNOWN_ID, ("{passport}", "{unknown}", "--out", "{ws}/labels.pdf"), "no passport {unknown}"),
    Case("export", UNKNOWN_ID, ("--out", "{ws}/out.ndjson", "--passport", "{unknown}"), "no passport {unknown}"),
    Case("accesslog list", UNKNOWN_ID, ("--passport", "{unknown}"), "no passport {unknown}"),
    Case("grants revoke", UNKNOWN_ID, ("{unknown}",), "no grant {unknown}"),
    Case("apikeys revoke", UNKNOWN_ID, ("{unknown}",), "no active API key {unknown}"),
    Case("keys revoke", UNKNOWN_ID, ("key-9", "--org", "acme"), "no key 'key-9' of 'acme'"),
    Case("purposes approve", UNKNOWN_ID, ("recycler-co", "wizard"), "purpose: one of"),
    # wrong key
    Case("verify", WRONG_KEY, ("{ws}/credential.json", "--key", "{wrong_key}"), "INVALID signature-invalid",
         verdict=True),
    Case("verify", WRONG_KEY, ("{ws}/credential.json", "--key", "not-a-key"), "--key: "),
    Case("verify", WRONG_KEY, ("{ws}/credential.json", "--offline"), "INVALID unknown-key", verdict=True),
    Case("apikeys revoke", WRONG_KEY, ("{revoked_apikey}",), "no active API key"),
    Case("issue", WRONG_KEY, (GOOD_EV, "--org", "vault"), "wrong or missing PASSPORT_KEY_PASSPHRASE",
         env={"PASSPORT_KEY_PASSPHRASE": "not the passphrase"}),
    Case("keys rotate", WRONG_KEY, ("--org", "vault"), "wrong or missing PASSPORT_KEY_PASSPHRASE",
         env={"PASSPORT_KEY_PASSPHRASE": "not the passphrase"}),
    Case("grants revoke", WRONG_KEY, ("{revoked_grant}",), "no active grant {revoked_grant}"),
    Case("keys revoke", WRONG_KEY, ("key-1", "--org", "vault"), "wrong or missing PASSPORT_KEY_PASSPHRASE",
         env={"PASSPORT_KEY_PASSPHRASE": "not the passphrase"}),
    # wrong organisation
    Case("issue", WRONG_ORG, (GOOD_EV, "--org", "nosuch"), "no organisation 'nosuch'"),
    Case("import", WRONG_ORG, ("{ws}/fleet.ndjson", "--org", "nosuch"), "no organisation 'nosuch'"),
    Case("apikeys create", WRONG_ORG, ("--org", "nosuch", "--role", "manufacturer"), "no organisation 'nosuch'"),
    Case("apikeys create", WRONG_ORG, ("--org", "acme", "--role", "wizard"), "role 'wizard'"),
    Case("apikeys list", WRONG_ORG, ("--org", "nosuch"), "no organisation 'nosuch'"),
    Case("keys list", WRONG_ORG, ("--org", "nosuch"), "no organisation 'nosuch'"),
    Case("keys rotate", WRONG_ORG, ("--org", "nosuch"), "no organisation 'nosuch'"),
    Case("keys revoke", WRONG_ORG, ("key-1", "--org", "nosuch"), "no organisation 'nosuch'"),
    Case("orgs create", WRONG_ORG, ("acme", "--name", "ACME again"), "organisation 'acme' already exists"),
    Case("orgs create", WRONG_ORG, ("Not A Slug", "--name", "X"), "organisation slug 'Not A Slug'"),
    Case("purposes approve", WRONG_ORG, ("nosuch", "recycler"), "no organisation 'nosuch'"),
    Case("purposes refuse", WRONG_ORG, ("nosuch", "recycler"), "no organisation 'nosuch'"),
    Case("purposes list", WRONG_ORG, ("--org", "nosuch"), "no organisation 'nosuch'"),
    Case("grants list", WRONG_ORG, ("--grantee", "nosuch"), "no organisation 'nosuch'"),
    Case("grants list", WRONG_ORG, ("--grantor", "nosuch"), "no organisation 'nosuch'"),
    Case("accesslog list", WRONG_ORG, ("--manufacturer", "nosuch"), "no organisation 'nosuch'"),
    Case("accesslog list", WRONG_ORG, ("--reader", "nosuch"), "no organisation 'nosuch'"),
    Case("report recycled-content", WRONG_ORG, ("--org", "nosuch"), "no organisation 'nosuch'"),
    Case("report recovery", WRONG_ORG, ("--recycler", "nosuch"), "no organisation 'nosuch'"),
    Case("demo", WRONG_ORG, (), "the demo is for development", env={"PASSPORT_ENV": "production",
                                                                     "PASSPORT_KEY_PASSPHRASE": "x"}),
    # the address serve listens on is taken
    Case("serve", BUSY, ("--port", "{busy_port}"), "cannot listen on 127.0.0.1:{busy_port}"),
)
UNREACHABLE = {
    "postgresql": "postgresql://postgres@127.0.0.1:1/x",
    "sqlite-missing-dir": "sqlite:///{ws}/no/such/dir/passport.db",
    "sqlite-unwritable-dir": "sqlite:///{ws}/afile/passport.db",  # a regular file where a directory should be
}

# --- the workspace ------------------------------------------------------------------------------------------------


@dataclass
class Workspace:
    path: Path
    values: dict[str, str]

    def fill(self, text: str) -> str:
        return text.format(ws=self.path, **self.values)

    def env(self, overrides: Mapping[str, str | None] | None = None) -> dict[str, str | None]:
        """The environment of a command: this workspace's database and keys, nothing inherited from PASSPORT_*."""
        env: dict[str, str | None] = {name: None for name in os.environ if name.startswith("PASSPORT_")}
        env |= {"PASSPORT_DATABASE_URL": f"sqlite:///{self.path / 'passport.db'}",
                "PASSPORT_KEYS_DIR": str(self.path / "keys"), "PASSPORT_PUBLIC_BASE_URL": "http://testserver",
                "COLUMNS": "250"}
        env |= {name: None if value is None else self.fill(value) for name, value in (overrides or {}).items()}
        return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """A database with two organisations, a passport, an API key, a grant (and a revoked one of each), an encrypted
    organisation, an export of it all, and the files the failures need."""
    path = tmp_path_factory.mktemp("cli-errors")
    settings = Settings(database_url=f"sqlite:///{path / 'passport.db'}", keys_dir=path / "keys",
                        public_base_url="http://testserver")
    context = open_context(settings)
    try:
        create_organisation(context, "acme", "ACME Batteries GmbH")
        create_organisation(context, "recycler-co", "Recycler Co")
        ev = json.loads((EXAMPLES / "passport-ev.json").read_text(encoding="utf-8"))
        passport = Passports(context).issue("acme", ev).passport_id
        key, _ = create_api_key(context, "acme", "manufacturer", "cli-errors")
        revoked_key, _ = create_api_key(context, "acme", "manufacturer", "revoked")
        revoke_api_key(context, revoked_key.key_id)
        admin, maker = Caller(Role.ADMIN, None), Caller(Role.MANUFACTURER, "acme")
        access.decide_purpose(context, admin, "recycler-co", "recycler", True)
        until = context.clock() + dt.timedelta(days=30)
        grant = access.grant(context, maker, "recycler-co", "passport", passport, "recycler", until)
        revoked = access.grant(context, maker, "recycler-co", "passport", passport, "recycler", until)
        access.revoke_grant(context, maker, revoked.grant_id)
        keys = {k.organisation: k.public_key_multibase for k in context.store.list_keys()}
        with (path / "export.ndjson").open("wb") as handle:
            dump.export(context, handle)
    finally:
        context.close()
    vault = open_context(Settings(database_url=settings.database_url, keys_dir=path / "keys",
                                  public_base_url="http://testserver", key_passphrase="the passphrase"))
    try:
        create_organisation(vault, "vault", "Vault Batteries (encrypted keys)")
    finally:
        vault.close()
    _files(path)
    return Workspace(path, {
        "examples": str(EXAMPLES), "repo": str(ROOT), "passport": passport, "apikey": key.key_id,
        "revoked_apikey": revoked_key.key_id, "grant": grant.grant_id, "revoked_grant": revoked.grant_id,
        "unknown": str(uuid.uuid4()), "right_key": keys["acme"], "wrong_key": keys["recycler-co"],
    })


def _files(path: Path) -> None:
    """The inputs of the failures, beside the database."""
    lines = (path / "export.ndjson").read_text(encoding="utf-8").splitlines()
    version = next(json.loads(line) for line in lines if json.loads(line)["type"] == "version")
    credential = version["credentials"]["public"]
    (path / "credential.json").write_text(json.dumps(credential), encoding="utf-8")
    credential["credentialSubject"]["passport"]["general"]["serialNumber"] = "TAMPERED-1"
    (path / "tampered.json").write_text(json.dumps(credential), encoding="utf-8")
    (path / "truncated.ndjson").write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    lmt = json.loads((EXAMPLES / "passport-lmt.json").read_text(encoding="utf-8"))
    lmt.pop("passportId", None)
    lmt["general"]["serialNumber"] = "FLEET-0001"
    (path / "fleet.ndjson").write_text(json.dumps(lmt) + "\n", encoding="utf-8")
    (path / "bad.json").write_text('{"general": {"gtin": ', encoding="utf-8")
    (path / "bad.ndjson").write_text('{"a": 1}\n{"general": \n', encoding="utf-8")
    (path / "bad.csv").write_text("x,y\n1,2\n", encoding="utf-8")
    (path / "binary.bin").write_bytes(bytes(range(256)) * 4)
    (path / "binary.ndjson").write_bytes(b"\xff\xfe" + bytes(range(200)))
    (path / "object.json").write_text('{"a": 1}', encoding="utf-8")
    (path / "array.json").write_text("[1, 2]", encoding="utf-8")
    (path / "afile").write_text("a file, not a directory", encoding="utf-8")
    (path / "keys-file-not-dir").write_text("a file, not a directory", encoding="utf-8")
    shutil.copyfile(path / "passport.db", path / "newer.db")
    database = sqlite3.connect(path / "newer.db")
    try:  # a schema revision this version of passport does not know
        with database:
            database.execute("UPDATE alembic_version SET version_num = 'ffff0000'")
    finally:
        database.close()


@pytest.fixture
def workspace(base: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """A fresh copy of the base for each test (commands may write), as the working directory."""
    copy = tmp_path / "ws"
    shutil.copytree(base.path, copy)
    monkeypatch.chdir(copy)
    return Workspace(copy, base.values | {"port": str(free_port())})


@pytest.fixture
def no_uvicorn(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """`passport serve` in-process must stop before uvicorn; if it gets there, record the call instead of serving."""
    calls: list[dict[str, Any]] = []

    def run(*args: Any, **kwargs: Any) -> None:
        calls.append(kwargs)

    monkeypatch.setattr("uvicorn.run", run)  # passport serve imports uvicorn when it runs
    return calls


def invoke(workspace: Workspace, command: str, args: tuple[str, ...],
           env: Mapping[str, str | None] | None = None) -> Result:
    argv = [*command.split(), *(workspace.fill(a) for a in args)]
    return runner.invoke(app, argv, env=workspace.env(env))


def quiet(stderr: str) -> bool:
    """Nothing on stderr but warnings (convert reports there what Battery Pass cannot carry)."""
    return all(line.startswith("warning: ") for line in stderr.splitlines())


def assert_one_clean_line(result: Result, says: str, *, code: int = 1, verdict: bool = False) -> str:
    """Exit ``code``; no exception escaped (a user would have seen a traceback); exactly one line, on stderr
    starting ``error: `` (or, for a verdict, on stdout with stderr empty), containing ``says``."""
    shown = f"exit {result.exit_code}\nstdout: {result.stdout!r}\nstderr: {result.stderr!r}"
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{result.exception!r} escaped: {shown}")
    assert "Traceback" not in result.stdout + result.stderr, shown
    assert result.exit_code == code, shown
    if verdict:
        lines = result.stdout.strip().splitlines()
        assert len(lines) == 1 and result.stderr.strip() == "", shown
    else:
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), shown
    line = lines[0]
    assert says in line, shown
    assert "a bug" not in line, f"handled only by the last-resort handler: {shown}"
    return line


# --- tests --------------------------------------------------------------------------------------------------------


def test_every_command_is_covered() -> None:
    """A new command needs a valid invocation and at least one failure here (the generic probes below already run
    it with bogus arguments and with an unreachable database)."""
    assert len(COMMANDS) >= 30
    assert set(VALID) == set(COMMANDS), (
        f"add to VALID: {sorted(set(COMMANDS) - set(VALID))}; remove: {sorted(set(VALID) - set(COMMANDS))}")
    assert set(COMMANDS) <= {case.command for case in CASES}, "every command has at least one failure case"
    assert not DATABASE_FREE - set(COMMANDS)
    kinds = {case.kind for case in CASES}
    assert kinds == {MISSING, MALFORMED, UNKNOWN_ID, WRONG_KEY, WRONG_ORG, BUSY}


@pytest.mark.parametrize("command", sorted(VALID))
def test_valid_invocation_succeeds(command: str, workspace: Workspace, no_uvicorn: list[dict[str, Any]]) -> None:
    """The base every failure varies: it works, quietly on stderr."""
    result = invoke(workspace, command, VALID[command], VALID_ENV.get(command, {}))
    shown = f"exit {result.exit_code}\nstdout: {result.stdout[-2000:]!r}\nstderr: {result.stderr!r}"
    assert result.exception is None or isinstance(result.exception, SystemExit), shown
    assert result.exit_code == 0, shown
    assert quiet(result.stderr), shown
    if command == "serve":
        assert [call["port"] for call in no_uvicorn] == [int(workspace.values["port"])]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_failure_is_one_clear_line(case: Case, workspace: Workspace, no_uvicorn: list[dict[str, Any]]) -> None:
    if case.command == "serve":
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            workspace.values["busy_port"] = str(busy.getsockname()[1])
            result = invoke(workspace, case.command, case.args, case.env)
    else:
        result = invoke(workspace, case.command, case.args, case.env)
    assert_one_clean_line(result, workspace.fill(case.says), code=case.code, verdict=case.verdict)
    assert not no_uvicorn


@pytest.mark.parametrize("database", sorted(UNREACHABLE))
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_unreachable_database(command: str, database: str, workspace: Workspace,
                              no_uvicorn: list[dict[str, Any]]) -> None:
    """The valid invocation, with the database unreachable: one line naming the database (password hidden), or, for
    the commands that need none, success."""
    env = {"PASSPORT_DATABASE_URL": UNREACHABLE[database]}
    result = invoke(workspace, command, VALID[command], env)
    if command in DATABASE_FREE:
        assert result.exit_code == 0 and quiet(result.stderr), result.output
        return
    line = assert_one_clean_line(result, "cannot open the database")
    assert workspace.fill(UNREACHABLE[database]) in line
    assert not no_uvicorn


def test_database_password_is_not_shown(workspace: Workspace) -> None:
    result = invoke(workspace, "orgs list", (), {"PASSPORT_DATABASE_URL": "postgresql://postgres:s3cret@127.0.0.1:1/x"})
    line = assert_one_clean_line(result, "cannot open the database postgresql://postgres:***@127.0.0.1:1/x")
    assert "s3cret" not in line


def bogus_arguments(command: Any, workspace: Workspace) -> list[str]:
    """Required parameters filled with values that name nothing: a file in a directory that does not exist, an
    organisation, id or word that does not exist."""
    argv: list[str] = []
    for param in command.params:
        if not param.required:
            continue
        # typer keeps the Python annotation of each parameter (list[Path], str, int, ...)
        annotation = getattr(getattr(param, "type_descriptor", None), "annotation", str)
        kind = typing.get_args(annotation)[0] if typing.get_origin(annotation) is list else annotation
        value = str(workspace.path / "no-such-dir" / "no-such-file.json") if kind is Path \
            else "1" if kind is int else "nosuch"
        argv += [param.opts[0], value] if param.param_type_name == "option" else [value]
    return argv


@pytest.mark.parametrize("command", sorted(set(COMMANDS) - {"serve", "demo"}))  # serve serves; demo loads a demo
def test_bogus_arguments(command: str, workspace: Workspace) -> None:
    """Generic, for every command, including ones added later: arguments that name nothing either work (a listing
    of nothing) or fail in one clear line."""
    argv = [*command.split(), *bogus_arguments(COMMANDS[command], workspace)]
    result = runner.invoke(app, argv, env=workspace.env())
    if result.exit_code == 0:
        assert result.exception is None and "Traceback" not in result.output, result.output
        return
    verdict = command in ("validate", "verify") and result.stderr == ""
    assert_one_clean_line(result, "", code=result.exit_code, verdict=verdict)


# --- real processes -----------------------------------------------------------------------------------------------

PROCESS_CASES = (
    ("issue", MISSING), ("restore", MALFORMED), ("qr", UNKNOWN_ID), ("verify", WRONG_KEY),
    ("apikeys create", WRONG_ORG), ("import", MALFORMED), ("demo", MISSING), ("keys list", MALFORMED),
)


def _process(workspace: Workspace, argv: list[str], env: Mapping[str, str | None]) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("PASSPORT_")}
    full |= {k: v for k, v in workspace.env(env).items() if v is not None}
    return subprocess.run([sys.executable, "-m", "passport", *argv], env=full, cwd=workspace.path,
                          capture_output=True, text=True, timeout=120, check=False)


def test_real_processes_print_one_line(workspace: Workspace) -> None:
    """What a user's terminal gets: the stderr of real processes (logging, warnings, uvicorn and all), for one case of
    each kind and for every unreachable database with ``serve`` (which would otherwise start uvicorn)."""
    jobs: list[tuple[str, list[str], Mapping[str, str | None], str, bool]] = []
    for command, kind in PROCESS_CASES:
        case = next(c for c in CASES if c.command == command and c.kind == kind)
        jobs.append((case.id, [*command.split(), *map(workspace.fill, case.args)], case.env, case.says, case.verdict))
    for name, url in UNREACHABLE.items():
        jobs.append((f"serve: {name}", ["serve", "--port", workspace.values["port"]],
                     {"PASSPORT_DATABASE_URL": url}, "cannot open the database", False))
        jobs.append((f"init: {name}", ["init"], {"PASSPORT_DATABASE_URL": url}, "cannot open the database", False))
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda job: _process(workspace, job[1], job[2]), jobs))
    problems = []
    for (name, _, _, says, verdict), done in zip(jobs, results, strict=True):
        lines = (done.stdout if verdict else done.stderr).strip().splitlines()
        clean = done.returncode != 0 and "Traceback" not in done.stdout + done.stderr and len(lines) == 1
        if verdict:
            clean = clean and done.stderr == ""
        if not (clean and workspace.fill(says) in lines[0]):
            problems.append(f"{name}: exit {done.returncode}\nstdout: {done.stdout[-800:]}\n"
                            f"stderr: {done.stderr[-800:]}")
    assert not problems, "\n\n".join(problems)

