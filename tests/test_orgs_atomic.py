"""Creating an organisation (``passport orgs create``, ``POST /api/v1/orgs``) is all or nothing: when writing its
first key or its rows fails, no organisation without a key and no key file without an organisation remains, and
the same command succeeds when retried."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from typer.testing import CliRunner

from passport.cli import app as cli
from passport.cli import commands as _commands  # noqa: F401  (registers the sub-commands)
from passport.config import Settings
from passport.service.context import ServiceContext, open_context
from passport.web.app import create_app
from tests.api_fixtures import ADMIN, ApiFactory

SLUG = "newco"


class _DiskFull:
    """A key file handle that writes a few bytes, then fails as a full disk does."""

    def __init__(self, handle: IO[bytes]) -> None:
        self._handle = handle

    def __enter__(self) -> _DiskFull:
        return self

    def __exit__(self, *exc: object) -> None:
        self._handle.close()

    def write(self, data: bytes) -> int:
        self._handle.write(data[:10])
        self._handle.flush()
        raise OSError(errno.ENOSPC, "No space left on device")


def fill_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    """The keystore's key writer fails after writing part of the key, until ``monkeypatch.undo()``."""
    real = os.fdopen

    def fdopen(descriptor: int, *args: Any, **kwargs: Any) -> _DiskFull:
        return _DiskFull(real(descriptor, *args, **kwargs))

    monkeypatch.setattr("passport.keystore.os.fdopen", fdopen)


def _refuse_key_rows(context: ServiceContext) -> Any:
    """The database fails when the key row is written (after the organisation row, in whatever transaction)."""

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, ctx: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO SIGNING_KEYS"):
            raise OperationalError(statement, parameters, Exception("disk I/O error"))

    event.listen(context.store.engine, "before_cursor_execute", before)  # type: ignore[attr-defined]
    return before


def assert_nothing_of(context: ServiceContext, keys_dir: Path) -> None:
    assert SLUG not in {o.slug for o in context.store.list_organisations()}, "no organisation without a key"
    assert context.store.list_keys(SLUG) == []
    assert not (keys_dir / SLUG).exists(), f"no key file without an organisation: {list(keys_dir.rglob('*'))}"


def assert_created(context: ServiceContext) -> None:
    assert SLUG in {o.slug for o in context.store.list_organisations()}
    [key] = context.store.list_keys(SLUG)
    assert key.key_id == "key-1" and key.active
    # the key file is whole and is the registered key: the organisation can sign
    assert context.keystore.public_multikey(SLUG, "key-1") == key.public_key_multibase


@pytest.mark.anyio
@pytest.mark.parametrize("failure", ["key-writer", "database"])
async def test_a_failed_api_creation_leaves_nothing_and_can_be_retried(
    api_factory: ApiFactory, database_url: str, failure: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = await api_factory(database_url)
    context, keys_dir = api.context, api.context.settings.keys_dir
    # a client that answers the 500 instead of raising the app's exception into the test
    transport = httpx.ASGITransport(app=create_app(context.settings, context), raise_app_exceptions=False)
    body, headers = {"slug": SLUG, "name": "NewCo Batteries"}, api.auth(ADMIN)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        if failure == "key-writer":
            fill_disk(monkeypatch)
            response = await client.post("/api/v1/orgs", json=body, headers=headers)
            assert response.status_code == 500, response.text
            monkeypatch.undo()
        else:
            listener = _refuse_key_rows(context)
            response = await client.post("/api/v1/orgs", json=body, headers=headers)
            assert response.status_code == 503, response.text
            event.remove(context.store.engine, "before_cursor_execute", listener)  # type: ignore[attr-defined]
        assert_nothing_of(context, keys_dir)
        retried = await client.post("/api/v1/orgs", json=body, headers=headers)
        assert retried.status_code == 201, retried.text
    assert_created(context)


def test_a_failed_cli_creation_leaves_nothing_and_can_be_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys_dir = tmp_path / "keys"
    env = {"PASSPORT_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "PASSPORT_KEYS_DIR": str(keys_dir),
           "PASSPORT_PUBLIC_BASE_URL": "http://testserver", "COLUMNS": "200"}
    runner = CliRunner()
    assert runner.invoke(cli, ["init"], env=env).exit_code == 0
    fill_disk(monkeypatch)
    failed = runner.invoke(cli, ["orgs", "create", SLUG, "--name", "NewCo"], env=env)
    assert failed.exit_code == 1 and "No space left on device" in failed.stderr, failed.output
    assert "Traceback" not in failed.output
    context = open_context(Settings(database_url=env["PASSPORT_DATABASE_URL"], keys_dir=keys_dir,
                                    public_base_url="http://testserver"))
    try:
        assert_nothing_of(context, keys_dir)
        monkeypatch.undo()  # the disk has room again
        retried = runner.invoke(cli, ["orgs", "create", SLUG, "--name", "NewCo"], env=env)
        assert retried.exit_code == 0, retried.output
        assert_created(context)
    finally:
        context.close()


def test_a_failed_rotation_keeps_the_active_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rotation writes the new key before retiring the old one: when the new key cannot be written, the organisation
    goes on signing with its old key (retiring first left it without any)."""
    from passport.service.organisations import create_organisation, rotate_key, signer_for

    context = open_context(Settings(database_url=f"sqlite:///{tmp_path / 'p.db'}", keys_dir=tmp_path / "keys",
                                    public_base_url="http://127.0.0.1:8000"))
    try:
        create_organisation(context, SLUG, "NewCo")
        fill_disk(monkeypatch)
        with pytest.raises(OSError, match="No space left"):
            rotate_key(context, SLUG)
        monkeypatch.undo()
        keys = context.store.list_keys(SLUG)
        assert [(k.key_id, k.active) for k in keys] == [("key-1", True)]
        assert signer_for(context, SLUG).verification_method.endswith("#key-1")
        assert rotate_key(context, SLUG).key_id == "key-2"  # and the retry works
        assert [(k.key_id, k.active) for k in context.store.list_keys(SLUG)] == [("key-1", False), ("key-2", True)]
    finally:
        context.close()
