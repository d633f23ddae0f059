"""Must show 4 of the circularity issue, in headless Chromium against a real server (uvicorn on a loopback port, a
temporary SQLite database seeded through the services).

- A recycler's analyst signs in to ``/console`` with an API key, filters a search, opens a passport, views the
  inventory and both reports with their charts, downloads CSV files and signs out.
- A cross-site form post (sign-out, sign-in) and a same-site one without the CSRF token are refused, and change
  nothing.
- The session cookie is HttpOnly and SameSite=Strict, and Secure outside development (a second server runs with the
  production setting).
- axe-core reports no serious or critical violation on any console page.
- A legitimate-interest user never sees an authority-only field, and an authority never sees a field for persons
  with a legitimate interest only: no value of such a field (the sentinels of tests/api_fixtures.py) and no name of
  one appears in any page or CSV download of theirs.

Without Chromium these tests skip with a message, except under ``CI=true``, where they fail."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from passport.access import VIEW_AUDIENCES, View
from passport.config import Environment, Settings
from passport.service.apikeys import create_api_key
from passport.service.context import open_context
from passport.service.lifecycle import Lifecycle, parse_event
from passport.service.organisations import create_organisation
from passport.service.passports import Passports
from tests.api_fixtures import (
    AUTHORITY,
    LEGITIMATE,
    OTHER,
    OWNER,
    ROLE_KEYS,
    TRANSFER,
    Secrets,
    every_field_document,
    record_custody,
    seed_roles,
)
from tests.chromium import artifact, axe_script, chromium, require_chromium
from tests.conftest import EXAMPLES, ROOT

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

pytestmark = pytest.mark.browser
RECYCLER = ROLE_KEYS[LEGITIMATE][0]
SESSION_COOKIE = "passport_session"
ATTACKER = "http://attacker.example"


@dataclass
class Site:
    base: str
    keys: dict[str, str]
    passports: dict[str, str]  # name -> passport id
    serials: dict[str, str]  # name -> serial number
    full: dict[str, Any] = field(default_factory=dict)  # the full document of the every-field passport


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _example(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((EXAMPLES / f"passport-{name}.json").read_text("utf-8"))
    document.pop("passportId", None)
    return document


def _seed(settings: Settings) -> tuple[dict[str, str], dict[str, str], dict[str, str], dict[str, Any]]:
    """acme's three examples, its every-field passport (handed to the recycler), a battery the recycler recycled
    with recovered masses, and a rival's passport; a key per role (the recycler holds a grant from acme)."""
    context = open_context(settings)
    try:
        keys = seed_roles(context)
        passports = Passports(context)
        lifecycle = Lifecycle(passports)
        ids: dict[str, str] = {}
        serials: dict[str, str] = {}

        def issue(name: str, document: dict[str, Any], organisation: str = "acme") -> str:
            ids[name] = passports.issue(organisation, document).passport_id
            serials[name] = document["general"]["serialNumber"]
            return ids[name]

        for name in ("ev", "lmt", "industrial"):
            issue(name, _example(name))
        every = issue("every", every_field_document(_example("ev")))
        record_custody(context, every, "acme", TRANSFER)
        recycled = _example("ev")
        recycled["general"]["serialNumber"] = "CONSOLE-RECYCLED-1"
        issue("recycled", recycled)
        record_custody(context, ids["recycled"], "acme", {"type": "transfer", "to": RECYCLER})
        for event in (b'{"type": "status-change", "status": "waste"}',
                      b'{"type": "recycled", "recoveredMaterials": [{"material": "Co", "mass": 4.56},'
                      b' {"material": "Ni", "mass": 34.56}, {"material": "Li", "mass": 3.45}]}'):
            lifecycle.apply(ids["recycled"], RECYCLER, parse_event(event))
        rival = _example("lmt")
        rival["general"]["serialNumber"] = "RIVAL-LMT-0001"
        issue("rival", rival, ROLE_KEYS[OTHER][0])
        full = json.loads(context.store.get_version(every).credential(View.FULL.value))
        return keys, ids, serials, full["credentialSubject"]["passport"]
    finally:
        context.close()


class Server:
    """uvicorn serving the app from PASSPORT_* settings on a free loopback port."""

    def __init__(self, root: Path, env: str) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.settings = Settings(database_url=f"sqlite:///{root / 'passport.db'}", keys_dir=root / "keys",
                                 public_base_url=self.base, env=Environment(env),
                                 key_passphrase="console test passphrase" if env == "production" else None)
        self.log = root / "server.log"
        self.process: subprocess.Popen[bytes] | None = None

    def launch(self) -> None:
        settings = self.settings
        env = {**os.environ, "PASSPORT_DATABASE_URL": settings.database_url,
               "PASSPORT_KEYS_DIR": str(settings.keys_dir), "PASSPORT_PUBLIC_BASE_URL": self.base,
               "PASSPORT_ENV": settings.env.value}
        if settings.key_passphrase:
            env["PASSPORT_KEY_PASSPHRASE"] = settings.key_passphrase.get_secret_value()
        with self.log.open("wb") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "--factory", "passport.web.app:app_from_environment",
                 "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning", "--no-access-log"],
                cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)

    def wait(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the server exited: {self.log.read_text(errors='replace')}")
            try:
                if httpx.get(f"{self.base}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        pytest.fail(f"the server did not start: {self.log.read_text(errors='replace')}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass
class Sites:
    development: Site
    production: Site


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sites]:
    """Two servers, started side by side: the seeded site in development, and a second one with
    PASSPORT_ENV=production (and the passphrase production requires) holding one organisation and its key."""
    require_chromium()
    production = Server(tmp_path_factory.mktemp("production"), "production")
    context = open_context(production.settings)
    try:
        create_organisation(context, RECYCLER, "Recycler")
        key = create_api_key(context, RECYCLER, "legitimate_interest", label="console")[1]
    finally:
        context.close()
    production.launch()
    development = Server(tmp_path_factory.mktemp("console"), "development")
    try:
        keys, ids, serials, full = _seed(development.settings)
        development.launch()
        development.wait()
        production.wait()
        yield Sites(Site(development.base, keys, ids, serials, full),
                    Site(production.base, {LEGITIMATE: key}, {}, {}))
    finally:
        development.stop()
        production.stop()


@pytest.fixture(scope="module")
def site(sites: Sites) -> Site:
    return sites.development


@pytest.fixture(scope="module")
def browser(site: Site) -> Iterator[Browser]:
    with chromium() as running:
        yield running


@dataclass
class Tab:
    context: BrowserContext
    page: Page
    errors: list[str]


@pytest.fixture
def tab(browser: Browser) -> Iterator[Any]:
    """``tab(bypass_csp=False)``: a fresh browser context (no shared state) and page, collecting console errors."""
    opened: list[BrowserContext] = []

    def open_tab(bypass_csp: bool = False) -> Tab:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB", bypass_csp=bypass_csp,
                                      accept_downloads=True)
        opened.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        return Tab(context, page, errors)

    yield open_tab
    for context in opened:
        context.close()


def sign_in(page: Page, base: str, key: str) -> None:
    page.goto(f"{base}/console", wait_until="load")
    assert page.url == f"{base}/console/sign-in"  # not signed in: the sign-in page
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/console/passports")


def session_cookie(context: BrowserContext) -> dict[str, Any]:
    (cookie,) = [dict(c) for c in context.cookies() if c["name"] == SESSION_COOKIE]
    return cookie


def eyebrow(page: Page) -> str:
    """The line above a passport's title, as written (the style shows it in capitals)."""
    return page.locator(".eyebrow").text_content() or ""


def rows(page: Page) -> list[str]:
    return [text.strip() for text in page.locator("table.data tbody tr").all_inner_texts()]


# --- the analyst's session ---------------------------------------------------------------------------------------

def test_sign_in_search_open_inventory_reports_csv_sign_out(site: Site, tab: Any) -> None:
    shown = tab()
    page: Page = shown.page
    sign_in(page, site.base, site.keys[LEGITIMATE])
    assert "recycler · legitimate_interest" in page.locator(".who").inner_text()
    everything = rows(page)
    assert any(site.serials["ev"] in row for row in everything)
    assert any(site.serials["lmt"] in row for row in everything)

    # filter: LMT batteries only (the rival's LMT passport is public to the recycler: listed, in the public view)
    page.get_by_label("Category").select_option("lmt")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r".*/console/passports\?.*category=lmt.*"))
    found = rows(page)
    assert len(found) == 2 and all("lmt" in row for row in found), found
    assert any(site.serials["lmt"] in row and "legitimate_interest" in row for row in found)
    assert any(site.serials["rival"] in row and "public" in row for row in found)
    assert not any(site.serials["ev"] in row for row in found)
    page.screenshot(path=artifact("console-search.png"), full_page=True)

    # open acme's LMT passport: the recycler's view, with its history
    page.locator("table.data tbody tr", has_text=site.serials["lmt"]).get_by_role("link").click()
    page.wait_for_url(f"{site.base}/console/passports/{site.passports['lmt']}")
    assert "legitimate_interest view" in eyebrow(page)
    assert page.locator("h1").inner_text() == _example("lmt")["general"]["modelName"]
    assert page.locator("ol.history li").count() == 1
    assert page.locator("#s-composition").count() == 1  # restricted data: the recycler's grant shows it

    # the inventory, with its chart; grouped by status too
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Inventory").click()
    page.wait_for_url(f"{site.base}/console/inventory")
    assert page.locator("svg.chart").count() == 1 and page.locator("svg.chart rect").count() >= 5
    assert "passports in scope" in page.locator("main").inner_text()
    page.get_by_role("checkbox", name="status").check()
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r".*/console/inventory\?.*group=status.*"))
    assert "status" in page.locator("table.data thead").inner_text()
    page.screenshot(path=artifact("console-inventory.png"), full_page=True)
    with page.expect_download() as downloading:
        page.get_by_role("link", name="Download CSV").click()
    download = downloading.value
    assert download.suggested_filename == "inventory.csv"
    table = list(csv.DictReader(io.StringIO(Path(download.path()).read_text("utf-8"))))
    assert {"material", "status", "massKg", "passports"} <= set(table[0])
    cobalt = {row["status"]: float(row["massKg"]) for row in table if row["material"] == "Co"}
    # acme's EV (4.8 kg), LMT (0.077 kg) and every-field passport (no cobalt in its sentinel composition)
    assert cobalt == {"original": pytest.approx(4.877)}

    # both reports, with charts
    page.get_by_role("link", name="Recycled content").click()
    page.wait_for_url(f"{site.base}/console/reports/recycled-content")
    assert page.locator("figure svg.chart").count() >= 2
    assert page.locator("td.verdict.meets").count() > 0 and page.locator("td.verdict.below").count() > 0
    page.get_by_role("link", name="manufacturer").click()
    page.wait_for_url(f"{site.base}/console/reports/recycled-content?by=manufacturer")
    assert rows(page)[0].startswith("acme")
    page.screenshot(path=artifact("console-recycled-content.png"), full_page=True)
    with page.expect_download() as downloading:
        page.get_by_role("link", name="Download CSV").click()
    assert downloading.value.suggested_filename == "recycled-content-by-manufacturer.csv"

    page.get_by_role("link", name="Recovery").click()
    page.wait_for_url(f"{site.base}/console/reports/recovery")
    assert page.locator("svg.chart").count() == 1 and page.locator("svg.chart rect").count() == 3
    recovery = rows(page)
    assert len(recovery) == 3 and all(row.startswith(RECYCLER) for row in recovery)
    page.screenshot(path=artifact("console-recovery.png"), full_page=True)
    with page.expect_download() as downloading:
        page.get_by_role("link", name="Download CSV").click()
    efficiency = {row["material"]: row["efficiency"] for row in csv.DictReader(io.StringIO(
        Path(downloading.value.path()).read_text("utf-8")))}
    assert efficiency == {"Co": "95.0", "Li": "50.0", "Ni": "90.0"}

    # sign out: back to the sign-in page; the old session is gone on the server too
    cookie = session_cookie(shown.context)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{site.base}/console/sign-in")
    assert not [c for c in shown.context.cookies() if c["name"] == SESSION_COOKIE]
    page.goto(f"{site.base}/console/inventory")
    assert page.url == f"{site.base}/console/sign-in"
    replayed = httpx.get(f"{site.base}/console/passports", cookies={SESSION_COOKIE: cookie["value"]})
    assert replayed.status_code == 303 and replayed.headers["location"] == "/console/sign-in"
    assert shown.errors == [], shown.errors  # the strict CSP blocked nothing, no resource failed


def test_a_wrong_key_is_refused(site: Site, tab: Any) -> None:
    page: Page = tab().page
    page.goto(f"{site.base}/console/sign-in")
    page.get_by_label("API key").fill("pp_" + "x" * 43)
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text().startswith("That API key is not valid")
    assert page.url == f"{site.base}/console/sign-in"


# --- CSRF and the cookie -----------------------------------------------------------------------------------------

def _attack(page: Page, action: str, fields: dict[str, str]) -> int:
    """Open a page of another site that posts a form to ``action`` as soon as it loads; the status of the answer."""
    inputs = "".join(f'<input type="hidden" name="{name}" value="{value}">' for name, value in fields.items())
    html = (f'<!doctype html><title>Win a prize</title><form method="post" action="{action}">{inputs}</form>'
            "<script>document.forms[0].submit()</script>")
    page.route(f"{ATTACKER}/**", lambda route: route.fulfill(status=200, content_type="text/html", body=html))
    with page.expect_response(action) as answer:
        page.goto(f"{ATTACKER}/prize")
    page.wait_for_load_state("load")
    return answer.value.status


def test_cross_site_and_tokenless_posts_are_refused(site: Site, tab: Any) -> None:
    shown = tab()
    page: Page = shown.page
    sign_in(page, site.base, site.keys[LEGITIMATE])
    cookie = session_cookie(shown.context)

    # another site posts the sign-out form: refused (and the browser did not even send the session cookie)
    assert _attack(page, f"{site.base}/console/sign-out", {}) == 403
    assert "Request refused" in page.locator("h1").inner_text()
    # a login CSRF: another site signs the victim in with the attacker's key
    assert _attack(page, f"{site.base}/console/sign-in", {"api_key": site.keys[AUTHORITY], "csrf": "guess"}) == 403
    page.goto(f"{site.base}/console/passports")
    assert page.url == f"{site.base}/console/passports"  # still signed in, as before
    assert "recycler · legitimate_interest" in page.locator(".who").inner_text()
    assert session_cookie(shown.context)["value"] == cookie["value"]

    # this site's own page, a form without the token or with a wrong one: refused
    for token in (None, "not-the-token"):
        with page.expect_response(f"{site.base}/console/sign-out") as answer:
            page.evaluate("""token => {
                const form = document.createElement("form");
                form.method = "post"; form.action = "/console/sign-out";
                if (token !== null) {
                    const input = document.createElement("input");
                    input.type = "hidden"; input.name = "csrf"; input.value = token; form.appendChild(input);
                }
                document.body.appendChild(form); form.submit();
            }""", token)
        assert answer.value.status == 403
        page.wait_for_load_state("load")
        assert "Request refused" in page.locator("h1").inner_text()
    page.goto(f"{site.base}/console/passports")
    assert page.url == f"{site.base}/console/passports"  # nothing happened: still signed in
    # the same refusals without a browser: no CSRF token, wrong token, no login cookie
    jar = {SESSION_COOKIE: cookie["value"]}
    assert httpx.post(f"{site.base}/console/sign-out", cookies=jar).status_code == 403
    assert httpx.post(f"{site.base}/console/sign-out", cookies=jar, data={"csrf": "x"}).status_code == 403
    assert httpx.post(f"{site.base}/console/sign-in", data={"api_key": site.keys[OWNER], "csrf": "x"}
                      ).status_code == 403
    # any text as a token is a refusal, never an error
    assert httpx.post(f"{site.base}/console/sign-out", cookies=jar, data={"csrf": "jeton-é"}).status_code == 403
    assert httpx.post(f"{site.base}/console/sign-in", cookies={"passport_login_csrf": "abc"},
                      data={"api_key": site.keys[OWNER], "csrf": "jeton-é"}).status_code == 403
    assert httpx.get(f"{site.base}/console/passports", cookies=jar).status_code == 200


@pytest.mark.parametrize("environment", ["development", "production"])
def test_the_session_cookie(sites: Sites, tab: Any, environment: str) -> None:
    server = sites.development if environment == "development" else sites.production
    shown = tab()
    sign_in(shown.page, server.base, server.keys[LEGITIMATE])
    cookie = session_cookie(shown.context)
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert cookie["secure"] is (environment == "production")
    assert cookie["path"] == "/console"
    assert SESSION_COOKIE not in shown.page.evaluate("document.cookie")  # no script reads it
    headers = httpx.get(f"{server.base}/console/sign-in").headers.get_list("set-cookie")
    assert len(headers) == 1 and "HttpOnly" in headers[0] and "SameSite=strict" in headers[0]
    assert ("Secure" in headers[0]) is (environment == "production")


# --- accessibility ------------------------------------------------------------------------------------------------

def _axe(page: Page, name: str) -> list[dict[str, Any]]:
    """axe-core's violations on the loaded page, all written to an artifact; the serious and critical ones."""
    page.add_script_tag(content=axe_script())
    results: dict[str, Any] = page.evaluate(
        """async () => {
             const results = await axe.run(document, {resultTypes: ["violations"]});
             return {passes: results.passes.length, violations: results.violations.map(v => ({
               id: v.id, impact: v.impact, help: v.help,
               nodes: v.nodes.map(n => n.target.join(" ") + ": " + n.failureSummary)}))};
           }""")
    artifact(f"axe-console-{name}.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    assert results["passes"] >= 15, results  # axe ran its rules on the page
    return [v for v in results["violations"] if v["impact"] in ("serious", "critical")]


CONSOLE_PAGES = {
    "passports": "/console/passports?category=ev",
    "passport": "/console/passports/{every}",
    "passport-v1": "/console/passports/{every}?version=1",
    "inventory": "/console/inventory?group=category&group=month",
    "recycled-content": "/console/reports/recycled-content",
    "recycled-content-by-manufacturer": "/console/reports/recycled-content?by=manufacturer",
    "recovery": "/console/reports/recovery",
    "access": "/console/access",  # grants and requests (issue 8), linked from every console page
    "error": "/console/passports/00000000-0000-7000-8000-000000000000",
}
ROLE_DEPENDENT = ("passports", "passport", "inventory", "access")  # forms and fields differ by role; the rest does not


@pytest.mark.parametrize("role", [LEGITIMATE, AUTHORITY])
def test_axe_on_every_console_page(site: Site, tab: Any, role: str) -> None:
    """Every page for the legitimate-interest user (sign-in, refusal and error pages included); the pages whose
    markup depends on the role for the authority too."""
    page: Page = tab(bypass_csp=True).page  # axe is a script: only this context allows it
    failures = {}
    if role == LEGITIMATE:
        page.goto(f"{site.base}/console/sign-in")
        failures["sign-in"] = _axe(page, "sign-in")
    sign_in(page, site.base, site.keys[role])
    for name, path in CONSOLE_PAGES.items():
        if role == AUTHORITY and name not in ROLE_DEPENDENT:
            continue
        response = page.goto(f"{site.base}{path.format(every=site.passports['every'])}")
        assert response is not None and response.status == (404 if name == "error" else 200), name
        failures[name] = _axe(page, f"{role}-{name}")
    if role == LEGITIMATE:
        page.evaluate("""() => { const f = document.createElement("form"); f.method = "post";
                                 f.action = "/console/sign-out"; document.body.appendChild(f); f.submit(); }""")
        page.wait_for_load_state("load")
        assert "Request refused" in page.locator("h1").inner_text()
        failures["refused"] = _axe(page, "refused")
    assert failures == {name: [] for name in failures}, failures


# --- audiences ----------------------------------------------------------------------------------------------------

def _exclusive_names(view: View) -> set[str]:
    """Names of the fields outside ``view`` that no field inside it shares (so that seeing one means a leak)."""
    from tests.api_fixtures import LEAVES

    def names(pointer: str) -> list[str]:
        return [part for part in pointer.split("/") if part and part != "-"]

    audiences = VIEW_AUDIENCES[view]
    inside = {name for pointer, node in LEAVES.items() if node.audience in audiences for name in names(pointer)}
    outside = {name for pointer, node in LEAVES.items() if node.audience not in audiences for name in names(pointer)}
    return outside - inside


def _text_of_every_page(page: Page, base: str, site: Site) -> dict[str, str]:
    """The HTML of every console page and the text of every CSV download a signed-in user can reach."""
    every = site.passports["every"]
    paths = {
        "passports": "/console/passports",
        "passports-ev": "/console/passports?category=ev&chemistry=NMC",
        "passport": f"/console/passports/{every}",
        **{f"passport-v{n}": f"/console/passports/{every}?version={n}" for n in (1, 2)},
        "inventory": "/console/inventory?group=chemistry&group=category&group=month",
        "recycled-content": "/console/reports/recycled-content",
        "recycled-content-by-manufacturer": "/console/reports/recycled-content?by=manufacturer",
        "recovery": "/console/reports/recovery",
    }
    texts = {}
    for name, path in paths.items():
        response = page.goto(f"{base}{path}")
        assert response is not None and response.status == 200, name
        texts[name] = page.content()
    for name, path in {"passports.csv": "/console/passports.csv", "inventory.csv": "/console/inventory.csv",
                       "recycled.csv": "/console/reports/recycled-content.csv?by=model",
                       "recovery.csv": "/console/reports/recovery.csv"}.items():
        download = page.request.get(f"{base}{path}")  # with the browser context's cookies
        assert download.status == 200 and download.headers["content-type"].startswith("text/csv"), name
        texts[name] = download.text()
    return texts


@pytest.mark.parametrize(("role", "view", "other"), [
    (LEGITIMATE, View.LEGITIMATE_INTEREST, "authorities-only"),
    (AUTHORITY, View.AUTHORITY, "legitimate-interest-only"),
])
def test_each_audience_sees_only_its_fields(site: Site, tab: Any, role: str, view: View, other: str) -> None:
    page: Page = tab().page
    sign_in(page, site.base, site.keys[role])
    texts = _text_of_every_page(page, site.base, site)
    # the every-field passport, in this view: what the page must show (some value of each section of the view)
    page.goto(f"{site.base}/console/passports/{site.passports['every']}")
    assert f"{view.value} view" in eyebrow(page)
    shown_names = set(page.locator("dl.tree dt").all_inner_texts()) | {
        heading.removeprefix("s-") for heading in (page.locator("section h2").evaluate_all("hs => hs.map(h => h.id)"))}
    secrets = Secrets.of(site.full)
    hidden = secrets.by_view[view]
    assert len(hidden) >= 3, f"the every-field passport has {other} values to hide"
    for name, text in texts.items():
        leaked = secrets.leaked(view, text)
        assert not leaked, f"{role} sees {other} values on {name}: {leaked}"
    forbidden = _exclusive_names(view)
    assert forbidden, other
    assert not shown_names & forbidden, f"{role} sees {other} fields: {sorted(shown_names & forbidden)}"
    for name in ("passports.csv",):
        header = next(csv.reader(io.StringIO(texts[name])))
        columns = {part for column in header for part in column.split(".")}
        assert not columns & forbidden, (name, sorted(columns & forbidden))
    # and what each does see: the legitimate-interest user the custody note, the authority the registration data
    visible_value = ("zq-liveonly-custody-note-transfer" if role == LEGITIMATE
                     else "zq-authonly-eori-DE7734120")
    assert visible_value in texts["passport"]
    assert ("custody" in shown_names) is (role == LEGITIMATE)
    assert ("registrationIdentifiers" in shown_names) is (role == AUTHORITY)


def test_the_other_makers_passport_is_public_to_the_recycler(site: Site, tab: Any) -> None:
    """Issue 8's scope in the console: without custody, a grant or ownership, the recycler reads the public view."""
    page: Page = tab().page
    sign_in(page, site.base, site.keys[LEGITIMATE])
    page.goto(f"{site.base}/console/passports/{site.passports['rival']}")
    assert "public view" in eyebrow(page)
    assert page.locator("#s-composition dt", has_text="batteryMaterials").count() == 0
    page.goto(f"{site.base}/console/passports/{site.passports['every']}")
    assert "legitimate_interest view" in eyebrow(page)
