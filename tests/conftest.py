"""Shared fixtures. Fixtures return factories where a test needs more than one of a thing."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ["tests.api_fixtures"]

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "docs" / "examples"
EXAMPLE_NAMES = ("passport-ev", "passport-lmt", "passport-industrial")


def reference_root() -> Path:
    return Path(os.environ.get("PASSPORT_REFERENCE_DIR", ROOT.parent / "shared" / "reference"))


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """The third-party reference data (never copied into the repository). Absent: skip, except under CI=true."""
    path = reference_root()
    if not path.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"reference data missing at {path} (set PASSPORT_REFERENCE_DIR)")
        pytest.skip(f"reference data not found at {path}; set PASSPORT_REFERENCE_DIR to run this test")
    return path


@pytest.fixture(scope="session")
def _examples() -> dict[str, dict[str, Any]]:
    return {
        name: json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
        for name in EXAMPLE_NAMES
        if (EXAMPLES / f"{name}.json").is_file()
    }


@pytest.fixture
def example(_examples: dict[str, dict[str, Any]]) -> Callable[[str], dict[str, Any]]:
    """Factory: a fresh, mutable copy of a documented example (``example("passport-ev")``)."""

    def load(name: str = "passport-ev") -> dict[str, Any]:
        return copy.deepcopy(_examples[name])

    return load


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# --- storage and service fixtures ---------------------------------------------------------------------------

import datetime as dt  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Iterator  # noqa: E402

from sqlalchemy import create_engine, text  # noqa: E402

from passport.config import Settings  # noqa: E402
from passport.service.context import ServiceContext, open_context  # noqa: E402
from passport.storage.sql import normalise_url  # noqa: E402


def postgres_url() -> str | None:
    url = os.environ.get("PASSPORT_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("PASSPORT_REQUIRE_POSTGRES") == "1":
            pytest.fail("PASSPORT_REQUIRE_POSTGRES=1 but PASSPORT_TEST_POSTGRES_URL is not set")
        pytest.skip("PostgreSQL not configured: set PASSPORT_TEST_POSTGRES_URL to run this test on PostgreSQL")
    return url


@pytest.fixture
def postgres_schema_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards: tests never share tables."""
    base = postgres_url()
    assert base is not None
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalise_url(base))
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every storage test runs on both engines (PostgreSQL is mandatory in CI)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'passport.db'}"
    url: str = request.getfixturevalue("postgres_schema_url")
    return url


class FakeClock:
    """A clock tests can move: ``clock.advance(seconds=…)``."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self.now = start or dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def context_factory(tmp_path: Path, clock: FakeClock) -> Iterator[Callable[..., ServiceContext]]:
    """Factory: a service context on a given database URL (default: a fresh SQLite file), keys in tmp_path."""
    opened: list[ServiceContext] = []

    def make(database: str | None = None, **overrides: Any) -> ServiceContext:
        settings = Settings(
            database_url=database or f"sqlite:///{tmp_path / f'db{len(opened)}.db'}",
            keys_dir=tmp_path / "keys",
            public_base_url=overrides.pop("public_base_url", "http://testserver"),
            # Tests send hundreds of resolver requests a second from one address; tests/test_rate_limits.py turns
            # the limits on.
            rate_limit_enabled=overrides.pop("rate_limit_enabled", False),
            **overrides,
        )
        context = open_context(settings, clock=clock)
        opened.append(context)
        return context

    yield make
    for context in opened:
        context.close()


# --- no secrets in the logs of the whole run (issue 11) -------------------------------------------------------------

from tests import secrets_scan  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    """Capture every log record and every generated private key of the run; at its end, fail it if any key material
    or API key token was logged (tests/secrets_scan.py says how, tests/test_secrets_in_logs.py proves it fails)."""
    secrets_scan.install(config)
