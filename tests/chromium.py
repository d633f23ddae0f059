"""Headless Chromium for the tests (Debian's ``/usr/bin/chromium`` driven by Playwright; no browser download) and
the other external tools they use (``pdftoppm``, axe-core from npm).

A missing tool skips the test with a message saying how to install it, except under ``CI=true``, where it fails:
CI never skips these tests silently."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("PASSPORT_CHROMIUM", "/usr/bin/chromium"))
AXE = ROOT / ".cache" / "npm" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "tests" / "artifacts"
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]


def unavailable(message: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (CI=true: browser tests never skip)")
    pytest.skip(message)


def require_chromium() -> Path:
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        unavailable(f"Chromium not found at {CHROMIUM}: `make test` installs it (apt-get install chromium) as root, "
                    "or set PASSPORT_CHROMIUM")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        unavailable("the Python package playwright is not installed: pip install -e '.[test]'")
    return CHROMIUM


def require_tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        unavailable(f"{name} not found: `make test` installs it (apt-get install {package}) as root")
    return path


def axe_script() -> str:
    if not AXE.is_file():
        unavailable(f"axe-core not found at {AXE}: `make test` installs it "
                    "(npm install --prefix .cache/npm axe-core@4)")
    return AXE.read_text(encoding="utf-8")


@contextmanager
def chromium() -> Iterator[Browser]:
    """A running headless Chromium; every test opens its own fresh context (a fresh profile)."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def artifact(name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / name


__all__ = ["ARGS", "ARTIFACTS", "AXE", "CHROMIUM", "artifact", "axe_script", "chromium", "require_chromium",
           "require_tool", "unavailable"]
