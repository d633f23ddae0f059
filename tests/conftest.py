"""Shared fixtures. Fixtures return factories where a test needs more than one of a thing."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

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
