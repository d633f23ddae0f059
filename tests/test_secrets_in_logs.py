"""The session-wide scan for secrets in logs (tests/secrets_scan.py, registered by tests/conftest.py) can fail a run:
separate pytest processes, set up as tests/conftest.py sets up this one, plant key material and API keys in log
records in every way the scan claims to cover, and the run fails naming each; a run without a leak passes."""

from __future__ import annotations

import base64
import logging
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from passport.multikey import b58encode
from tests.secrets_scan import SecretIndex, SessionSecretScan, format_record, key_forms

ROOT = Path(__file__).resolve().parents[1]

CONFTEST = """
import pytest
from tests import secrets_scan

def pytest_configure(config: pytest.Config) -> None:
    secrets_scan.install(config)
"""

COMMON = """
import base64, logging
from pathlib import Path
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, load_pem_private_key
from passport.keystore import FileKeystore
from passport.multikey import b58encode

def generated(tmp_path: Path, passphrase: bytes | None = None) -> tuple[bytes, bytes]:
    keystore = FileKeystore(tmp_path / "keys", passphrase)
    public = keystore.generate("acme", "key-1")
    pem = (tmp_path / "keys" / "acme" / "key-1.pem").read_bytes()
    key = load_pem_private_key(pem, password=passphrase)
    return key.private_bytes_raw(), public
"""

LEAKS = COMMON + """
def test_1_seed_hex_at_debug_on_a_service_logger(tmp_path):
    seed, _ = generated(tmp_path)
    logging.getLogger("passport.web").debug("case-1 signer seed %s", seed.hex())

def test_2_pem_line_on_a_logger_that_does_not_propagate(tmp_path):
    generated(tmp_path)
    pem = (tmp_path / "keys" / "acme" / "key-1.pem").read_text()
    quiet = logging.getLogger("uvicorn.error")
    quiet.propagate = False
    quiet.setLevel(logging.INFO)
    quiet.warning("case-2 loaded %s", pem.splitlines()[1])

def test_3_base58_seed_in_an_exception_traceback(tmp_path):
    seed, _ = generated(tmp_path)
    try:
        raise ValueError(f"bad key {b58encode(seed)}")
    except ValueError:
        logging.getLogger("passport.web").exception("case-3 request failed")

def test_4_api_key_in_an_extra_attribute():
    logging.getLogger("passport.audit").warning("case-4 authentication failed", extra={"token": "pp_" + "Q" * 43})

def test_5_key_file_written_by_another_process(tmp_path):
    key = Ed25519PrivateKey.generate()
    path = tmp_path / "server-keys" / "rival" / "key-7.pem"
    path.parent.mkdir(parents=True)
    path.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    seed = base64.b64encode(key.private_bytes_raw()).decode()
    logging.getLogger("some.library").error("case-5 seed %s", seed)

def test_6_encrypted_key_urlsafe_seed(tmp_path):
    seed, _ = generated(tmp_path, b"a passphrase of twenty-five")
    logging.getLogger("passport.jobs").info("case-6 %s", base64.urlsafe_b64encode(seed).decode().rstrip("="))
"""

CLEAN = COMMON + """
from passport.multikey import multibase_encode, ED25519_PUB

def test_harmless_logs(tmp_path):
    seed, public = generated(tmp_path)
    log = logging.getLogger("passport.web")
    log.error("unexpected error: POST /api/v1/passports: ValueError")
    log.warning("public key %s", multibase_encode(ED25519_PUB + public))
    log.warning("a prefix alone pp_abc and a hash %s", "ab" * 32)
"""


def run_pytest(tmp_path: Path, tests: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_inner.py").write_text(textwrap.dedent(tests))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    env.pop("PYTEST_ADDOPTS", None)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--basetemp={tmp_path / 'inner'}", "-q",
         "test_inner.py"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_a_run_that_logs_secrets_fails_and_names_each(tmp_path: Path) -> None:
    result = run_pytest(tmp_path, LEAKS)
    output = result.stdout + result.stderr
    assert "6 passed" in output, output  # every test passed: the scan alone fails the run
    assert result.returncode == 1, output
    findings = [line for line in output.splitlines() if line.startswith("SECRET IN LOGS:")]
    for case in range(1, 7):
        assert any(f"case-{case}" in line for line in findings), (case, output)
    assert any("an API key token" in line for line in findings), output
    assert any("encrypted" not in line and "rival/key-7" in line for line in findings), output
    # the report names the secret, it does not repeat it
    assert not re.search(r"[0-9a-f]{64}|pp_Q{43}", output), output


def test_a_run_without_secrets_in_its_logs_passes(tmp_path: Path) -> None:
    result = run_pytest(tmp_path, CLEAN)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "secrets in logs: none (" in output, output
    assert "1 private keys" in output, output


def test_every_form_of_a_key_is_found_and_nothing_else() -> None:
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    index = SecretIndex()
    index.add(key_forms(pem, None), "private key acme/key-1")
    seed = key.private_bytes_raw()
    for leak in (pem.decode(), seed.hex(), seed.hex().upper(), base64.b64encode(seed).decode(),
                 base64.urlsafe_b64encode(seed).decode().rstrip("="), b58encode(seed)):
        assert list(index.search(f"prefix {leak} suffix")) != [], leak
    public = key.public_key().public_bytes_raw()
    for harmless in (public.hex(), b58encode(public), "pp_short", "x" * 200, ""):
        assert list(index.search(f"log line: {harmless}")) == [], harmless
    assert list(index.search("pp_" + "A" * 43)) == ["an API key token (pp_AAAA…)"]
    assert list(index.search("pp_" + "A" * 44)) == []  # not a token's length


def test_a_record_is_formatted_with_everything_a_handler_could_write() -> None:
    try:
        raise RuntimeError("inner detail")
    except RuntimeError as exc:
        record = logging.LogRecord("passport.web", logging.ERROR, __file__, 1, "failed %s", ("x",),
                                   (type(exc), exc, exc.__traceback__))
    record.token = "extra value"
    text = format_record(record)
    assert "failed x" in text
    assert "inner detail" in text
    assert "extra value" in text
    bad = logging.LogRecord("passport.web", logging.ERROR, __file__, 1, "%d", ("not a number",), None)
    assert "not a number" in format_record(bad)


def test_this_run_is_scanned_at_every_level(pytestconfig: pytest.Config) -> None:
    """The scan is registered for this very run and sees what the service logs below WARNING."""
    plugin = pytestconfig.pluginmanager.get_plugin(SessionSecretScan.name)
    assert isinstance(plugin, SessionSecretScan)
    logging.getLogger("passport.jobs").debug("marker %s of this run", "7f3c")
    assert any("marker 7f3c of this run" in text for text in plugin.records[-5:])
