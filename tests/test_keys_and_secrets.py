"""Private keys: 0600 files in 0700 directories, encrypted with the passphrase (required in production), and never
shown: not in CLI output, exports, DID documents, JWKS, reprs, exception messages, logs, or the repository."""

from __future__ import annotations

import base64
import json
import logging
import stat
import subprocess
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from pydantic import SecretStr
from typer.testing import CliRunner, Result

from passport.cli import app, commands  # noqa: F401  (commands registers the sub-commands)
from passport.config import Settings
from passport.errors import ConfigurationError, NotFound, PassportError
from passport.multikey import b58encode
from passport.service.context import ServiceContext, open_context
from passport.service.organisations import create_organisation, signer_for
from passport.service.verification import verify_store
from passport.web.app import create_app
from tests.secrets_scan import assert_no_secret, secret_forms

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "docs" / "examples"
PASSPHRASE = "correct horse battery staple 2026"


@dataclass
class Cli:
    """The CLI on one database and keystore; every output is kept for the secret scan."""

    tmp_path: Path
    env: dict[str, str]
    outputs: dict[str, str] = field(default_factory=dict)

    def __call__(self, *args: str, expect: int = 0, **env: str) -> Result:
        result = CliRunner().invoke(app, list(args), env={**self.env, **env})
        assert result.exit_code == expect, result.output
        self.outputs[" ".join(args)] = result.stdout + result.stderr
        return result

    def settings(self) -> Settings:
        passphrase = self.env.get("PASSPORT_KEY_PASSPHRASE")
        return Settings(
            database_url=self.env["PASSPORT_DATABASE_URL"],
            keys_dir=Path(self.env["PASSPORT_KEYS_DIR"]),
            public_base_url="http://testserver",
            env=self.env["PASSPORT_ENV"],
            key_passphrase=passphrase,
        )


@pytest.fixture
def cli_factory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Cli]:
    for name in ("PASSPORT_KEY_PASSPHRASE", "PASSPORT_ENV", "PASSPORT_DATABASE_URL", "PASSPORT_KEYS_DIR"):
        monkeypatch.delenv(name, raising=False)

    def make(*, production: bool = False) -> Cli:
        env = {
            "PASSPORT_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
            "PASSPORT_KEYS_DIR": str(tmp_path / "keys"),
            "PASSPORT_PUBLIC_BASE_URL": "http://testserver",
            "PASSPORT_ENV": "production" if production else "development",
        }
        if production:
            env["PASSPORT_KEY_PASSPHRASE"] = PASSPHRASE
        return Cli(tmp_path, env)

    return make


# --- files ----------------------------------------------------------------------------------------------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_key_files_are_0600_in_0700_directories(context_factory: Callable[..., ServiceContext]) -> None:
    context = context_factory()
    create_organisation(context, "acme", "ACME Batteries GmbH")
    root = context.settings.keys_dir
    assert mode(root) == 0o700
    assert mode(root / "acme") == 0o700
    assert mode(root / "acme" / "key-1.pem") == 0o600
    assert (root / "acme" / "key-1.pem").read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")


def test_with_a_passphrase_keys_are_encrypted(context_factory: Callable[..., ServiceContext]) -> None:
    context = context_factory(key_passphrase=PASSPHRASE)
    create_organisation(context, "acme", "ACME Batteries GmbH")
    pem = (context.settings.keys_dir / "acme" / "key-1.pem").read_bytes()
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    with pytest.raises(TypeError):
        load_pem_private_key(pem, password=None)
    signer_for(context, "acme").sign(b"usable with the passphrase")


def test_a_wrong_passphrase_is_a_configuration_error(context_factory: Callable[..., ServiceContext]) -> None:
    context = context_factory(key_passphrase=PASSPHRASE)
    create_organisation(context, "acme", "ACME Batteries GmbH")
    forms = secret_forms(context.settings.keys_dir, PASSPHRASE)
    for wrong in ("wrong passphrase", None):
        other = context_factory(context.settings.database_url, key_passphrase=wrong)
        with pytest.raises(ConfigurationError) as caught:
            signer_for(other, "acme")
        assert "PASSPORT_KEY_PASSPHRASE" in caught.value.detail
        assert caught.value.__cause__ is None
        assert caught.value.__suppress_context__
        assert_no_secret(forms, "the exception", "".join(traceback.format_exception(caught.value)))


def test_production_without_a_passphrase_refuses_to_start(tmp_path: Path, cli_factory: Callable[..., Cli]) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'p.db'}", keys_dir=tmp_path / "keys", env="production")
    with pytest.raises(ConfigurationError, match="PASSPORT_KEY_PASSPHRASE"):
        open_context(settings)
    with pytest.raises(ConfigurationError):
        create_app(settings)

    cli = cli_factory(production=True)
    for command in (["init"], ["orgs", "list"], ["keys", "list"], ["export", "--out", str(tmp_path / "x.ndjson")]):
        result = cli(*command, expect=1, PASSPORT_KEY_PASSPHRASE="")
        lines = result.stderr.strip().splitlines()
        assert lines == ["error: PASSPORT_KEY_PASSPHRASE is required when PASSPORT_ENV=production"], result.output
        assert "Traceback" not in result.output


def test_cli_with_a_wrong_passphrase_fails_in_one_line(cli_factory: Callable[..., Cli]) -> None:
    cli = cli_factory(production=True)
    cli("init")
    cli("orgs", "create", "acme", "--name", "ACME Batteries GmbH")
    result = cli(
        "issue",
        str(EXAMPLES / "passport-ev.json"),
        "--org",
        "acme",
        expect=1,
        PASSPORT_KEY_PASSPHRASE="not the passphrase",
    )
    assert result.stderr.strip().splitlines() == [
        "error: cannot open private key 'key-1' of 'acme': wrong or missing PASSPORT_KEY_PASSPHRASE"
    ]
    assert "Traceback" not in result.output
    assert_no_secret(secret_forms(cli.tmp_path / "keys", PASSPHRASE), "the error", result.output)


# --- secrets never shown ------------------------------------------------------------------------------------------


def exercise(cli: Cli) -> None:
    """Every command of the key and passport life, as a user would run them."""
    export = str(cli.tmp_path / "export.ndjson")
    cli("init")
    cli("orgs", "create", "acme", "--name", "ACME Batteries GmbH")
    cli("orgs", "list")
    cli("orgs", "list", "--json")
    cli("keys", "list")
    cli("keys", "list", "--json", "--org", "acme")
    cli("issue", str(EXAMPLES / "passport-ev.json"), "--org", "acme")
    cli("keys", "rotate", "--org", "acme")
    cli("issue", str(EXAMPLES / "passport-lmt.json"), "--org", "acme", "--json")
    cli("keys", "revoke", "--org", "acme", "key-1", "--at", "2000-01-01T00:00:00Z")
    cli("keys", "list")
    cli("keys", "list", "--json")
    cli("export", "--out", export)
    cli("export", "--out", "-")
    cli("verify", export, expect=1)  # key-1 is revoked from 2000 on: its signatures fail
    cli("verify", export, "--offline", expect=1)


@pytest.mark.anyio
@pytest.mark.parametrize("production", [False, True], ids=["development", "production"])
async def test_private_keys_never_appear(
    cli_factory: Callable[..., Cli], production: bool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    cli = cli_factory(production=production)
    exercise(cli)
    passphrase = PASSPHRASE if production else None
    forms = secret_forms(cli.tmp_path / "keys", passphrase)
    # acme's key-1 and key-2, and in development the key of the 'dev' organisation `passport init` creates
    assert len(list((cli.tmp_path / "keys").rglob("*.pem"))) == (2 if production else 3)

    for command, output in cli.outputs.items():
        assert_no_secret(forms, f"`passport {command}`", output)
        assert "Traceback" not in output
    export = (cli.tmp_path / "export.ndjson").read_text("utf-8")
    assert_no_secret(forms, "the export", export)
    assert "PRIVATE KEY" not in export
    assert "privateKey" not in export

    context = open_context(cli.settings())
    wrong = open_context(cli.settings().model_copy(update={"key_passphrase": SecretStr("wrong")}))
    try:
        signer = signer_for(context, "acme")
        assert_no_secret(forms, "repr()", repr(signer) + repr(context.keystore) + repr(context))
        failures: list[Callable[[], object]] = [
            lambda: context.keystore.signer("acme", "key-9", "x"),
            lambda: signer_for(context, "nobody"),
            lambda: signer_for(wrong, "acme"),
        ]
        for failure in failures:
            with pytest.raises(PassportError) as caught:
                failure()
            assert_no_secret(forms, "an exception", "".join(traceback.format_exception(caught.value)))
        app_ = create_app(context.settings, context)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app_), base_url="http://testserver") as http:
            for path in ("/orgs/acme/did.json", "/.well-known/did.json", "/.well-known/jwks.json"):
                response = await http.get(path)
                assert response.status_code == 200
                assert_no_secret(forms, path, response.text)
            jwks = (await http.get("/.well-known/jwks.json")).json()
            assert all("d" not in key for key in jwks["keys"])
    finally:
        context.close()
        wrong.close()
    assert_no_secret(forms, "the logs", caplog.text)


def test_repr_of_settings_hides_the_passphrase(context_factory: Callable[..., ServiceContext]) -> None:
    context = context_factory(key_passphrase=PASSPHRASE)
    assert PASSPHRASE not in repr(context.settings)
    assert PASSPHRASE not in repr(context.keystore)
    assert "encrypted=True" in repr(context.keystore)


# --- rotation and revocation through the CLI ----------------------------------------------------------------------


def test_rotated_keys_still_verify_old_versions(cli_factory: Callable[..., Cli]) -> None:
    cli = cli_factory()
    cli("orgs", "create", "acme", "--name", "ACME Batteries GmbH")
    cli("issue", str(EXAMPLES / "passport-ev.json"), "--org", "acme")
    rotated = cli("keys", "rotate", "--org", "acme")
    assert rotated.stdout.startswith("acme: new active key key-2 (z6Mk")
    issued = json.loads(cli("issue", str(EXAMPLES / "passport-lmt.json"), "--org", "acme", "--json").stdout)

    keys = json.loads(cli("keys", "list", "--org", "acme", "--json").stdout)
    assert [(k["keyId"], k["state"]) for k in keys] == [("key-1", "retired"), ("key-2", "active")]
    export = str(cli.tmp_path / "export.ndjson")
    cli("export", "--out", export)
    verified = cli("verify", export)
    assert verified.stdout.startswith("OK export: 1 organisations, 2 passports, 2 versions, 8 credentials")

    context = open_context(cli.settings())
    try:
        verify_store(context)
        methods = {
            v.passport_id: v.credential_json("full")["proof"]["verificationMethod"]
            for v in context.store.iter_versions()
        }
        assert methods[issued["passportId"].removeprefix("urn:uuid:")].endswith("#key-2")
        assert sorted(m.rsplit("#", 1)[1] for m in methods.values()) == ["key-1", "key-2"]
    finally:
        context.close()


def test_revoke_with_at(cli_factory: Callable[..., Cli]) -> None:
    cli = cli_factory()
    cli("orgs", "create", "acme", "--name", "ACME Batteries GmbH")
    cli("issue", str(EXAMPLES / "passport-ev.json"), "--org", "acme")
    export = str(cli.tmp_path / "export.ndjson")
    cli("export", "--out", export)
    assert cli("verify", export).stdout.startswith("OK ")

    revoked = cli("keys", "revoke", "--org", "acme", "key-1", "--at", "2001-02-03T04:05:06Z")
    assert revoked.stdout.strip() == "acme: key key-1 revoked from 2001-02-03T04:05:06.000Z"
    keys = json.loads(cli("keys", "list", "--json").stdout)
    assert [(k["keyId"], k["state"], k["revokedAt"]) for k in keys] == [
        ("key-1", "revoked", "2001-02-03T04:05:06.000Z"),
        ("key-2", "active", None),
    ]
    cli("export", "--out", export)
    failed = cli("verify", export, expect=1)
    assert failed.stdout.startswith("INVALID key-revoked: key revoked: ")

    bad = cli("keys", "revoke", "--org", "acme", "key-2", "--at", "yesterday", expect=2)
    assert bad.stderr.strip().splitlines() == [
        "error: --at 'yesterday': expected an RFC 3339 time such as 2026-11-20T00:00:00Z"
    ]
    unknown = cli("keys", "revoke", "--org", "acme", "key-7", expect=1)
    assert unknown.stderr.strip() == "error: no key 'key-7' of 'acme'"


# --- the repository -------------------------------------------------------------------------------------------------


def git(*args: str) -> list[str]:
    result = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True)
    return result.stdout.splitlines()


def test_the_repository_holds_no_keys() -> None:
    assert sorted(git("ls-files", "keys/")) == ["keys/.gitignore", "keys/README.md"]
    assert git("check-ignore", "keys/acme/key-1.pem", "keys/dev/key-1.pem") == [
        "keys/acme/key-1.pem",
        "keys/dev/key-1.pem",
    ]
    tracked_pems = [path for path in git("ls-files") if path.endswith((".pem", ".key"))]
    assert tracked_pems == []


def test_not_found_for_a_missing_key_file(context_factory: Callable[..., ServiceContext]) -> None:
    context = context_factory()
    create_organisation(context, "acme", "ACME Batteries GmbH")
    (context.settings.keys_dir / "acme" / "key-1.pem").unlink()
    with pytest.raises(NotFound, match="private key 'key-1' of 'acme'"):
        signer_for(context, "acme")


def test_the_secret_scan_finds_leaks(context_factory: Callable[..., ServiceContext]) -> None:
    context = context_factory()
    create_organisation(context, "acme", "ACME Batteries GmbH")
    forms = secret_forms(context.settings.keys_dir, None)
    pem = (context.settings.keys_dir / "acme" / "key-1.pem").read_text("ascii")
    seed = signer_for(context, "acme").private_key.private_bytes_raw()
    for leak in (pem, f"seed={seed.hex()}", base64.b64encode(seed).decode(), b58encode(seed)):
        with pytest.raises(AssertionError, match="private key material"):
            assert_no_secret(forms, "a planted leak", f"log line: {leak}")
