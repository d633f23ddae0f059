"""Issue 9, must-show 1: what ``make run`` runs once installed (the recipe of the Makefile's ``run`` target, read from
the Makefile: ``passport init``, ``passport demo``, ``passport serve``) reaches a serving state with the demo loaded,
in a temporary directory as a fresh clone would have it (the database, ``keys/`` and ``.demo-keys.json`` beside it).

The three public pages it prints open in Chromium and show their battery; every printed demo API key works, and reads
the non-public view of its role; the printed ``/docs`` and console links answer. Running it a second time loads
nothing again (same passports, same keys) and says the demo is already there. The keys file is private (0600) and
git-ignored where ``make run`` writes it."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.chromium import chromium
from tests.conftest import ROOT

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage

pytestmark = pytest.mark.browser  # uses Chromium (like every test, it runs in `make test`)

PAGE = re.compile(r"^  (?P<label>[^:\n]+): (?P<url>https?://\S+/01/(?P<gtin>\d{14})/21/(?P<serial>\S+))$", re.M)
KEY = re.compile(r"^  (?P<name>[a-z_]+:[a-z0-9-]+)\s+(?P<key>pp_\S+)$", re.M)
LINKS = re.compile(r"^API documentation: (?P<docs>\S+/docs)\s+console: (?P<console>\S+/console)\b", re.M)
LOADED = re.compile(r"^demo (?P<state>loaded|already loaded): (?P<count>\d+) passports$", re.M)


def run_recipe() -> list[str]:
    """The shell lines of the Makefile's ``run`` target, as make would run them (the ``@`` dropped)."""
    lines = (ROOT / "Makefile").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(r"^run\s*:", line))
    recipe = []
    for line in lines[start + 1:]:
        if not line.startswith("\t"):
            break
        recipe.append(line.strip().removeprefix("@"))
    return recipe


def expand(line: str, port: int) -> str:
    bin_dir = Path(sys.executable).parent  # the virtualenv the tests run in: what $(BIN) is after installing
    values = {"BIN": str(bin_dir), "VENV": str(bin_dir.parent), "HOST": "127.0.0.1", "PORT": str(port),
              "PYTHON": sys.executable}
    expanded = re.sub(r"\$\((\w+)\)", lambda m: values[m.group(1)], line)
    assert "$(" not in expanded, expanded
    return expanded


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Run:
    output: str  # what the recipe printed before serving
    base: str
    pages: list[re.Match[str]]
    keys: dict[str, str]
    count: int
    state: str


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """Where ``make run`` runs: a directory of its own (its relative ./passport.db, ./keys, ./.demo-keys.json)."""
    return tmp_path


@pytest.fixture
def environment(clone: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("PASSPORT_")}
    port = free_port()
    # make run serves on HOST:PORT; the demo's links are made from the public base URL, so they name the same port
    env |= {"PASSPORT_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", "MAKE_RUN_PORT": str(port),
            "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}", "COLUMNS": "200"}
    return env


class MakeRun:
    """Runs the recipe in ``clone``; the last line (serve) in the background until ``stop()``."""

    def __init__(self, clone: Path, environment: dict[str, str]) -> None:
        self.clone, self.environment = clone, environment
        self.servers: list[subprocess.Popen[bytes]] = []

    def __call__(self) -> Run:
        port = int(self.environment["MAKE_RUN_PORT"])
        recipe = [expand(line, port) for line in run_recipe()]
        assert any(" init" in line for line in recipe) and any(" demo" in line for line in recipe), recipe
        assert recipe[-1].split()[1:2] == ["serve"], recipe
        printed = []
        for line in recipe[:-1]:
            done = subprocess.run(["bash", "-c", line], cwd=self.clone, env=self.environment, capture_output=True,
                                  text=True, timeout=300, check=False)
            assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
            assert "Traceback" not in done.stderr, done.stderr
            printed.append(done.stdout)
        log_path = self.clone / f"serve-{len(self.servers)}.log"
        with log_path.open("wb") as log:
            server = subprocess.Popen(["bash", "-c", f"exec {recipe[-1]}"], cwd=self.clone, env=self.environment,
                                      stdout=log, stderr=subprocess.STDOUT)
        self.servers.append(server)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, log_path.read_text()
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not answer /healthz within 60 s"
            time.sleep(0.2)
        output = "".join(printed)
        loaded = LOADED.search(output)
        assert loaded, output
        return Run(output, base, list(PAGE.finditer(output)),
                   {m["name"]: m["key"] for m in KEY.finditer(output)}, int(loaded["count"]), loaded["state"])

    def stop(self) -> None:
        while self.servers:
            server = self.servers.pop()
            if server.poll() is None:
                server.terminate()
                server.wait(timeout=30)


@pytest.fixture
def make_run(clone: Path, environment: dict[str, str]) -> Iterator[MakeRun]:
    runner = MakeRun(clone, environment)
    try:
        yield runner
    finally:
        runner.stop()


def count_passports(base: str, key: str) -> int:
    """Every passport, through the API with an authority key (authorities see all of them, ceased ones too)."""
    total, cursor = 0, None
    while True:
        params: dict[str, str | int] = {"limit": 1000}
        if cursor:
            params["cursor"] = cursor
        answer = httpx.get(f"{base}/api/v1/passports", params=params, headers={"Authorization": f"Bearer {key}"},
                           timeout=60)
        assert answer.status_code == 200, answer.text
        total += len(answer.json()["items"])
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            return total


def open_page(browser: Browser, url: str) -> tuple[int, str, list[str]]:
    """(status, visible text, console errors) of a page in a fresh browser context."""
    context = browser.new_context()
    try:
        page = context.new_page()
        errors: list[str] = []

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                errors.append(message.text)

        page.on("console", on_console)
        response = page.goto(url)
        assert response is not None, url
        return response.status, page.inner_text("body"), errors
    finally:
        context.close()


def check_pages_in_chromium(run: Run) -> None:
    """The printed pages open and show their battery: serial and model name, the verified badge, no error."""
    assert len(run.pages) == 3, run.output
    with chromium() as browser:
        for page_line in run.pages:
            twin = httpx.get(page_line["url"], headers={"Accept": "application/json"}, timeout=30)
            assert twin.status_code == 200, twin.text
            general = twin.json()["credentialSubject"]["passport"]["general"]
            status, text, errors = open_page(browser, page_line["url"])
            assert status == 200, page_line["url"]
            assert page_line["serial"] in text and general["serialNumber"] == page_line["serial"]
            assert general["modelName"] in text, (general["modelName"], text[:500])
            assert "Signature verified" in text, text[:1000]
            assert "failed verification" not in text and "Not found" not in text
            assert not errors, errors


def check_keys(run: Run) -> None:
    """Every printed key authenticates, and each role reads its own non-public view."""
    roles = {name.split(":")[0] for name in run.keys}
    assert roles == {"manufacturer", "legitimate_interest", "authority", "admin"}, run.keys
    api = f"{run.base}/api/v1"

    def first(key: str | None, query: str) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        answer = httpx.get(f"{api}/passports?{query}&limit=1", headers=headers, timeout=30)
        assert answer.status_code == 200, answer.text
        item: dict[str, Any] = answer.json()["items"][0]
        return item

    for name, key in run.keys.items():
        answer = httpx.get(f"{api}/passports?limit=1", headers={"Authorization": f"Bearer {key}"}, timeout=30)
        assert answer.status_code == 200, (name, answer.text)
    public = first(None, "manufacturer=voltdrive")
    assert public["view"] == "public"
    assert "batteryMaterialMass" not in str(public["passport"]), "the public view holds no material masses"
    maker = first(run.keys["manufacturer:voltdrive"], "manufacturer=voltdrive")
    assert maker["view"] == "full" and "custody" in maker["passport"]
    recycler = first(run.keys["legitimate_interest:recyclex"], "manufacturer=voltdrive")
    assert recycler["view"] == "legitimate_interest"
    assert "batteryMaterialMass" in str(recycler["passport"]["composition"])
    authority = first(run.keys["authority:msa"], "manufacturer=voltdrive")
    assert authority["view"] == "authority" and authority["passport"]["conformity"]["resultOfTestReport"]
    organisations = httpx.get(f"{api}/orgs", headers={"Authorization": f"Bearer {run.keys['admin:operations']}"},
                              timeout=30)
    assert organisations.status_code == 200 and len(organisations.json()) >= 11, organisations.text
    wrong = httpx.get(f"{api}/passports?limit=1", headers={"Authorization": "Bearer pp_not-a-key"}, timeout=30)
    assert wrong.status_code == 401


def check_links(run: Run) -> None:
    links = LINKS.search(run.output)
    assert links, run.output
    assert links["docs"] == f"{run.base}/docs" and links["console"] == f"{run.base}/console"
    docs = httpx.get(links["docs"], timeout=30)
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    assert httpx.get(f"{run.base}/openapi.json", timeout=30).status_code == 200
    console = httpx.get(links["console"], timeout=30, follow_redirects=True)
    assert console.status_code == 200 and "Sign in" in console.text, console.text[:500]
    assert str(console.url).endswith("/console/sign-in")


def test_make_run_serves_the_demo_and_runs_again_without_duplicates(make_run: MakeRun, clone: Path) -> None:
    first = make_run()
    assert first.state == "loaded" and first.count >= 300, first.output
    assert f"passport: serving on {first.base}" in first.output
    assert "QR code of " + first.pages[0]["url"] in first.output
    assert "█" in first.output  # the ASCII (Unicode block) QR code a phone can scan
    check_pages_in_chromium(first)
    check_keys(first)
    check_links(first)
    assert count_passports(first.base, first.keys["authority:msa"]) == first.count

    keys_file = clone / ".demo-keys.json"
    assert keys_file.stat().st_mode & 0o777 == 0o600
    assert (clone / "passport.db").is_file() and (clone / "keys" / "voltdrive").is_dir()
    stored = keys_file.read_text(encoding="utf-8")
    make_run.stop()

    again = make_run()
    assert again.state == "already loaded", again.output
    assert again.count == first.count
    assert again.keys == first.keys and keys_file.read_text(encoding="utf-8") == stored
    assert [m["url"] for m in again.pages] == [m["url"] for m in first.pages]
    assert keys_file.stat().st_mode & 0o777 == 0o600
    assert count_passports(again.base, again.keys["authority:msa"]) == first.count


@pytest.mark.parametrize("path", [".demo-keys.json", "passport.db", "passport.db-wal", "keys/voltdrive/key-1.pem"])
def test_what_make_run_writes_is_git_ignored(path: str) -> None:
    """make run writes these beside the repository (the keys file holds live API keys, keys/ private keys)."""
    git = shutil.which("git")
    assert git is not None, "git is needed to check .gitignore"
    if not (ROOT / ".git").exists():
        pytest.fail(f"{ROOT} is not a git checkout")
    done = subprocess.run([git, "-C", str(ROOT), "check-ignore", "--no-index", "-q", path], check=False)
    assert done.returncode == 0, f"{path} is not git-ignored"
