"""``make run PORT=9000``: the demo's scan URLs and QR codes are made from PASSPORT_PUBLIC_BASE_URL, so the run target
passes the address it serves (``http://$(HOST):$(PORT)``) unless the user set one. Runs the real Makefile with a
stand-in ``passport`` that reports the base URL each step sees (tests/test_make_run.py runs the real thing)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")

STAND_IN = '#!/bin/sh\necho "$1 base=${PASSPORT_PUBLIC_BASE_URL-unset}"\n'


def run_target(tmp_path: Path, *overrides: str, base_url: str | None = None) -> list[str]:
    """What each step of ``make run`` saw, with an installed-looking virtualenv whose ``passport`` is the stand-in."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True, exist_ok=True)
    for name, text in (("python", "#!/bin/sh\nexit 0\n"), ("passport", STAND_IN)):
        (venv / "bin" / name).write_text(text, encoding="utf-8")
        (venv / "bin" / name).chmod(0o755)
    installed = venv / ".run-installed"
    installed.touch()
    later = (ROOT / "pyproject.toml").stat().st_mtime + 60  # newer than pyproject.toml: nothing to install
    os.utime(installed, (later, later))
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("PASSPORT_", "MAKE")) and name not in ("HOST", "PORT")}
    if base_url is not None:
        env["PASSPORT_PUBLIC_BASE_URL"] = base_url
    done = subprocess.run(
        ["make", "--no-print-directory", "-s", "-C", str(ROOT), "run", f"VENV={venv}", f"BIN={venv / 'bin'}",
         *overrides],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return [line for line in done.stdout.splitlines() if " base=" in line]


def test_the_printed_links_name_the_port_served(tmp_path: Path) -> None:
    assert run_target(tmp_path, "PORT=9000") == [
        "init base=http://127.0.0.1:9000", "demo base=http://127.0.0.1:9000", "serve base=http://127.0.0.1:9000"]
    assert run_target(tmp_path, "HOST=0.0.0.0", "PORT=8080")[-1] == "serve base=http://0.0.0.0:8080"
    assert run_target(tmp_path)[1] == "demo base=http://127.0.0.1:8000", "the documented default"


def test_a_public_base_url_the_user_set_wins(tmp_path: Path) -> None:
    assert set(run_target(tmp_path, "PORT=9000", base_url="https://dpp.example.com")) == {
        f"{step} base=https://dpp.example.com" for step in ("init", "demo", "serve")}
