"""Finding key material and API keys where they must never be: the forms a private key can leak in, and a
session-wide scan of every log record the test suite emits (Must show 3 of issue 11: no secrets in logs).

:class:`SessionSecretScan` is a pytest plugin that ``tests/conftest.py`` registers for the whole run:

- every log record created in the test process is captured where loggers make it (``Logger.makeRecord``), and
  formatted at once (message, exception traceback, stack, ``extra`` attributes): unlike a handler on the root logger
  this also sees records of loggers that do not propagate (uvicorn's) and records emitted while a test replaces or
  clears the root handlers;
  the ``passport`` loggers are set to DEBUG for the session, so what the service logs at any level is seen;
- every private key the test process generates (``FileKeystore.generate`` is wrapped) is turned into its leak forms
  right away (PEM body, raw seed as hex, base64, base58 and Multikey, and the passphrase); at the end, the key files
  under pytest's temporary directory that other processes (servers the tests start) generated are added;
- at the end of the session (``pytest_sessionfinish``) the captured records are searched for those forms and for any
  API key token (``pp_`` + 43 base64url characters, whoever issued it). A finding sets the session's exit status to
  1 and is reported, redacted, in a "secrets in logs" section.

Why a session-finish hook rather than a last test: it runs whatever subset is selected (``-k``, one file), after
every test's teardown (whose logs a last test could not see), however tests are ordered, and it cannot be
deselected or skipped. ``tests/test_secrets_in_logs.py`` proves it fails a run in a separate pytest process."""

from __future__ import annotations

import base64
import logging
import re
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from passport.keystore import FileKeystore
from passport.multikey import ED25519_PRIV, b58encode, multibase_encode

API_KEY_TOKEN = re.compile(r"pp_[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])")
MIN_FORM = 16  # shorter strings are no evidence of a leak (and would match by chance)
_PREFIX = MIN_FORM


# --- the forms a private key can leak in -----------------------------------------------------------------------------


def key_forms(pem: bytes, passphrase: bytes | None) -> set[str]:
    """Every form one private key could leak in: the PEM body (whole and by line), and, when the key can be opened,
    the raw 32-byte seed in hex, base64 (standard, URL-safe, unpadded), base58 and as a Multikey private key."""
    body = [line for line in pem.decode("ascii").splitlines() if not line.startswith("-----")]
    forms = {line for line in body if len(line) >= 24}
    forms.add("".join(body))
    key = load_pem_private_key(pem, password=passphrase)
    assert isinstance(key, Ed25519PrivateKey)
    seed = key.private_bytes_raw()
    b64 = base64.b64encode(seed).decode()
    urlsafe = base64.urlsafe_b64encode(seed).decode()
    forms |= {seed.hex(), seed.hex().upper(), b64, b64.rstrip("="), urlsafe.rstrip("="), b58encode(seed)}
    forms.add(multibase_encode(ED25519_PRIV + seed))
    return forms


def secret_forms(keys_dir: Path, passphrase: str | None) -> set[str]:
    """Every form the private keys under ``keys_dir`` could leak in (see :func:`key_forms`), and the passphrase."""
    forms: set[str] = set()
    pems = sorted(keys_dir.rglob("*.pem"))
    assert pems, "no key files to look for"
    for path in pems:
        forms |= key_forms(path.read_bytes(), passphrase.encode() if passphrase else None)
    if passphrase:
        forms.add(passphrase)
    return forms


def assert_no_secret(forms: set[str], where: str, text: str) -> None:
    leaked = [form[:8] + "…" for form in forms if form in text]
    assert not leaked, f"private key material in {where}: {leaked}"


# --- searching text for many secrets at once ----------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    what: str  # which secret, never the secret itself
    where: str  # which log record


@dataclass
class SecretIndex:
    """Many secrets, found in a text in one pass: each is indexed by its first :data:`MIN_FORM` characters."""

    _by_prefix: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    count: int = 0

    def add(self, forms: Iterable[str], label: str) -> None:
        for form in forms:
            if len(form) >= MIN_FORM:
                self._by_prefix.setdefault(form[:_PREFIX], []).append((form, label))
                self.count += 1

    def search(self, text: str) -> Iterator[str]:
        """Labels of the secrets in ``text`` (an API key token counts whoever it belongs to), redacted."""
        by_prefix = self._by_prefix
        seen: set[str] = set()
        for start in range(len(text) - _PREFIX + 1):
            candidates = by_prefix.get(text[start : start + _PREFIX])
            if candidates:
                for form, label in candidates:
                    if text.startswith(form, start) and form not in seen:
                        seen.add(form)
                        yield f"{label} ({form[:6]}…, {len(form)} characters)"
        for match in API_KEY_TOKEN.finditer(text):
            yield f"an API key token ({match.group()[:7]}…)"


# --- the session-wide capture and scan ---------------------------------------------------------------------------

_STANDARD = frozenset(vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None))) | {"message", "asctime"}


def format_record(record: logging.LogRecord) -> str:
    """Everything of a record a handler could write: logger, level, message, exception, stack, extra attributes."""
    try:
        message = record.getMessage()
    except Exception:  # a record whose arguments do not fit its format: its parts, as a handler would show them
        message = f"{record.msg!r} % {record.args!r}"
    parts = [f"{record.levelname} {record.name} {record.pathname}:{record.lineno}: {message}"]
    if record.exc_info and record.exc_info[1] is not None:
        parts.append("".join(traceback.format_exception(record.exc_info[1])))
    elif record.exc_text:
        parts.append(record.exc_text)
    if record.stack_info:
        parts.append(record.stack_info)
    parts += [f"{key}={value!r}" for key, value in vars(record).items() if key not in _STANDARD]
    return "\n".join(parts)


class SessionSecretScan:
    """The pytest plugin: capture from configure to session finish, then scan and fail the run on a finding."""

    name = "passport-secret-scan"

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.records: list[str] = []
        self.index = SecretIndex()
        self.keys = 0
        self.findings: list[Finding] = []
        self._seen_pems: set[bytes] = set()
        self._passphrases: set[bytes] = set()
        self._previous_make_record = logging.Logger.makeRecord
        self._previous_generate = FileKeystore.generate
        self._passport_logger = logging.getLogger("passport")
        self._previous_level = self._passport_logger.level

    # installing and removing

    def install(self) -> None:
        previous, records = self._previous_make_record, self.records

        def capture(logger: logging.Logger, *args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(logger, *args, **kwargs)  # with its extra attributes, unlike the record factory's
            records.append(format_record(record))
            return record

        setattr(logging.Logger, "makeRecord", capture)  # noqa: B010
        scan, generate = self, self._previous_generate

        def recording_generate(keystore: FileKeystore, organisation: str, key_id: str) -> bytes:
            public = generate(keystore, organisation, key_id)
            scan.remember_key(keystore.path(organisation, key_id), keystore._passphrase)
            return public

        setattr(FileKeystore, "generate", recording_generate)  # noqa: B010 (mypy: no method assignment)
        if self._passport_logger.level == logging.NOTSET:
            self._passport_logger.setLevel(logging.DEBUG)

    def uninstall(self) -> None:
        setattr(logging.Logger, "makeRecord", self._previous_make_record)  # noqa: B010
        setattr(FileKeystore, "generate", self._previous_generate)  # noqa: B010
        self._passport_logger.setLevel(self._previous_level)

    # keys

    def remember_key(self, path: Path, passphrase: bytes | None) -> None:
        pem = path.read_bytes()
        if pem in self._seen_pems:
            return
        self._seen_pems.add(pem)
        label = f"private key {path.parent.name}/{path.stem}"
        if passphrase:
            self._passphrases.add(passphrase)
            if len(passphrase) >= MIN_FORM:
                self.index.add([passphrase.decode("utf-8", "replace")], "a key passphrase")
        self.index.add(key_forms(pem, passphrase), label)
        self.keys += 1

    def remember_files(self, root: Path) -> None:
        """Key files written by other processes (servers the tests start) under ``root``."""
        for path in root.rglob("*.pem"):
            try:
                pem = path.read_bytes()
            except OSError:
                continue
            if pem in self._seen_pems or b"PRIVATE KEY" not in pem:
                continue
            for passphrase in (None, *self._passphrases):
                try:
                    self.remember_key(path, passphrase)
                    break
                except (TypeError, ValueError):
                    continue
            else:  # encrypted with a passphrase this process never saw: its PEM text at least
                body = [line for line in pem.decode("ascii", "replace").splitlines() if not line.startswith("-----")]
                self.index.add([*body, "".join(body)], f"encrypted private key {path.parent.name}/{path.stem}")
                self._seen_pems.add(pem)
                self.keys += 1

    # the scan

    def scan(self) -> list[Finding]:
        findings = []
        for number, text in enumerate(self.records, start=1):
            for what in self.index.search(text):
                findings.append(Finding(what, f"log record {number}: {_redacted_head(text)}"))
        return findings

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        base = _basetemp(session.config)
        if base is not None and base.is_dir():
            self.remember_files(base)
        self.findings = self.scan()
        if self.findings and session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.findings:
            terminalreporter.write_line(
                f"secrets in logs: none ({len(self.records)} log records searched for {self.keys} private keys, "
                f"{self.index.count} key forms, and API key tokens)")
            return
        terminalreporter.section("secrets in logs", sep="=", red=True, bold=True)
        for finding in self.findings:
            terminalreporter.write_line(f"SECRET IN LOGS: {finding.what} in {finding.where}", red=True)
        terminalreporter.write_line(f"{len(self.findings)} secret(s) in the logs of this run: the run fails")

    def pytest_unconfigure(self) -> None:
        self.uninstall()


def _redacted_head(text: str) -> str:
    head = text.splitlines()[0][:160] if text else ""
    return API_KEY_TOKEN.sub("pp_…", re.sub(r"[A-Za-z0-9+/=_-]{24,}", "…", head))


def _basetemp(config: pytest.Config) -> Path | None:
    """pytest's temporary directory of this run, if any test made one (private API, read defensively)."""
    factory = getattr(config, "_tmp_path_factory", None)
    base = getattr(factory, "_basetemp", None)
    return Path(base) if base is not None else None


def install(config: pytest.Config) -> SessionSecretScan:
    """Register the scan for this pytest run (``tests/conftest.py``; the proof's inner runs do the same)."""
    plugin = SessionSecretScan(config)
    plugin.install()
    config.pluginmanager.register(plugin, SessionSecretScan.name)
    return plugin


__all__ = [
    "API_KEY_TOKEN",
    "Finding",
    "SecretIndex",
    "SessionSecretScan",
    "assert_no_secret",
    "format_record",
    "install",
    "key_forms",
    "secret_forms",
]
