"""Doc tests: every ``sh`` block of the quickstart and the guides runs, in order, against a temporary instance (a
fresh database and keystore, and a server on a free loopback port). ``text`` blocks are illustrations, not run."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "docs" / "quickstart.md", *sorted((ROOT / "docs" / "guides").glob("*.md"))]
BLOCK = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)
DOC_BASE = "http://127.0.0.1:8000"


def shell_blocks(path: Path) -> list[str]:
    return BLOCK.findall(path.read_text(encoding="utf-8"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[tuple[dict[str, str], Path, str]]:
    """A server on a free port over a fresh SQLite database; yields (environment, working directory, base URL)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PASSPORT_DATABASE_URL": f"sqlite:///{tmp_path / 'passport.db'}",
           "PASSPORT_KEYS_DIR": str(tmp_path / "keys"), "PASSPORT_PUBLIC_BASE_URL": base,
           "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}
    work = tmp_path / "work"
    shutil.copytree(ROOT / "docs" / "examples", work / "docs" / "examples")
    subprocess.run([sys.executable, "-m", "passport", "init"], env=env, check=True, capture_output=True, timeout=60)
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "passport.web.app:app_from_environment", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"], env=env, cwd=work)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield env, work, base
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.mark.parametrize("document", DOCS, ids=lambda path: path.name)
def test_every_shell_block_runs(document: Path, instance: tuple[dict[str, str], Path, str]) -> None:
    env, work, base = instance
    blocks = shell_blocks(document)
    assert blocks, f"{document.name} has no sh block"
    script = "set -euo pipefail\n" + "\n".join(blocks).replace(DOC_BASE, base)
    result = subprocess.run(["bash", "-c", script], env=env, cwd=work, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{document.name}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    assert "Traceback" not in result.stdout + result.stderr
