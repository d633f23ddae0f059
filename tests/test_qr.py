"""Must show 1 of the scan issue: QR codes (PNG and SVG, from the HTTP routes and from ``passport qr``) decode with
zxing-cpp to exactly the battery's canonical GS1 Digital Link URI, with error correction M and a 4-module quiet
zone; a 24-label A4 sheet (from ``/api/v1/labels`` and ``passport labels``), rendered by ``pdftoppm -r 300``,
decodes to the 24 right URIs. The SVG is rasterised by Chromium: what a browser or print driver draws."""

from __future__ import annotations

import base64
import copy
import io
import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import httpx
import pytest
import zxingcpp
from anyio.from_thread import BlockingPortal, start_blocking_portal
from fastapi import FastAPI
from PIL import Image
from typer.testing import CliRunner

from passport import qr
from passport.cli import app as cli
from passport.cli import commands as _commands  # noqa: F401  (registers the sub-commands)
from passport.config import Settings
from passport.service.context import open_context
from passport.service.organisations import create_organisation
from passport.service.passports import Passports
from passport.web.app import create_app
from tests.chromium import artifact, chromium, require_tool
from tests.conftest import EXAMPLES, ROOT

if TYPE_CHECKING:
    from playwright.sync_api import Browser

BASE = "https://passport.example.eu"  # an https base: the payload must follow PASSPORT_PUBLIC_BASE_URL exactly
GTIN = "09520123456788"
SHEET = 24


@dataclass(frozen=True)
class Client:
    """A synchronous client of the app in-process: the app runs on an event loop in another thread, so these tests
    can drive Playwright's synchronous API on this one."""

    portal: BlockingPortal
    client: httpx.AsyncClient

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.portal.call(partial(self.client.get, url, **kwargs))


@contextmanager
def sync_client(app: FastAPI, base_url: str) -> Iterator[Client]:
    with start_blocking_portal() as portal:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)
        try:
            yield Client(portal, client)
        finally:
            portal.call(client.aclose)


@dataclass(frozen=True)
class World:
    client: Client
    settings: Settings
    ids: list[str]  # bare UUIDs; the first SHEET make one full label sheet
    uris: dict[str, str]  # id -> canonical Digital Link URI


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("qr")
    settings = Settings(database_url=f"sqlite:///{root / 'passport.db'}", keys_dir=root / "keys",
                        public_base_url=BASE)
    context = open_context(settings)
    create_organisation(context, "acme", "ACME Batteries")
    passports = Passports(context)
    ev = json.loads((EXAMPLES / "passport-ev.json").read_text(encoding="utf-8"))
    ids, uris = [], {}
    # serials of every shape: plain, the longest allowed, and characters that are percent-encoded in the URI
    serials = ["VD75-2026-000142", "Z" * 20, "A/B+C%D", "(x)*;=&!'\"<>?,:"] + [f"SN-{n:05d}" for n in range(SHEET - 3)]
    for serial in serials:
        document = copy.deepcopy(ev)
        document.pop("passportId", None)
        document["general"]["serialNumber"] = serial
        passport_id = passports.issue("acme", document).passport.passport_id
        ids.append(passport_id)
        uris[passport_id] = context.urls.digital_link(GTIN, serial)
    with sync_client(create_app(settings, context), BASE) as client:
        yield World(client, settings, ids, uris)
    context.close()


def decode(image: Image.Image) -> list[zxingcpp.Barcode]:
    found = list(zxingcpp.read_barcodes(image))
    assert all(b.format == zxingcpp.BarcodeFormat.QRCode for b in found)
    return found


def decode_one(image: Image.Image) -> zxingcpp.Barcode:
    (barcode,) = decode(image)
    assert barcode.valid
    return barcode


def assert_quiet_zone(image: Image.Image, module: int) -> None:
    """At least 4 light modules on every side, and the symbol starts right after them."""
    grey = image.convert("L")
    width, height = grey.size
    border = qr.QUIET_ZONE * module
    for box in ((0, 0, width, border), (0, height - border, width, height), (0, 0, border, height),
                (width - border, 0, width, height)):
        assert _extrema(grey.crop(box))[0] > 200, box  # no dark pixel in the quiet zone
    inner = (border + 2, border + 2, border + module - 2, border + module - 2)
    assert _extrema(grey.crop(inner))[1] < 60  # the finder pattern's corner module


def _extrema(image: Image.Image) -> tuple[int, int]:
    low, high = cast(tuple[int, int], image.getextrema())
    return low, high


# --- PNG ------------------------------------------------------------------------------------------------------------

def test_png_route_encodes_the_canonical_uri(world: World) -> None:
    for passport_id in world.ids[:4]:
        response = world.client.get(f"/p/{passport_id}/qr.png")
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/png"
        assert response.headers["x-qr-error-correction"] == "M"
        image = Image.open(io.BytesIO(response.content))
        barcode = decode_one(image)
        assert barcode.text == world.uris[passport_id]
        assert barcode.text.startswith(f"{BASE}/01/{GTIN}/21/")
        assert barcode.ec_level == "M"
        modules = len(qr.qr_matrix(barcode.text))
        assert image.size == (modules * 10, modules * 10)
        assert_quiet_zone(image, 10)
    image.save(artifact("qr-route.png"))


def test_png_route_of_an_unknown_passport(world: World) -> None:
    response = world.client.get("/p/01934b6e-7c1a-7d2e-9a41-000000000000/qr.png")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_the_uri_survives_the_round_trip_through_the_resolver(world: World) -> None:
    """What the code says is what the resolver answers: the decoded URI serves that battery's page."""
    for passport_id in world.ids[:4]:
        uri = decode_one(Image.open(io.BytesIO(world.client.get(f"/p/{passport_id}/qr.png").content))).text
        response = world.client.get(uri, headers={"Accept": "application/json"})
        assert response.status_code == 200, uri
        assert response.json()["credentialSubject"]["passportId"] == f"urn:uuid:{passport_id}"


def test_the_terminal_rendering_is_the_same_symbol() -> None:
    """``qr_text`` (what ``passport demo`` prints) draws two modules per character: reading the glyphs back gives
    the matrix of the PNG and SVG codes."""
    uri = f"{BASE}/01/{GTIN}/21/VD75-2026-000142"
    matrix = qr.qr_matrix(uri)
    glyphs = {"█": (False, False), "▄": (True, False), "▀": (False, True), " ": (True, True)}
    rows: list[list[bool]] = []
    for line in qr.qr_text(uri).split("\n"):
        pairs = [glyphs[c] for c in line]
        rows += [[top for top, _ in pairs], [bottom for _, bottom in pairs]]
    assert rows[: len(matrix)] == matrix and not any(any(row) for row in rows[len(matrix):])


def test_an_empty_sheet_is_one_blank_page(tmp_path: Path) -> None:
    pages = render_pages(qr.label_sheet([]), tmp_path)
    assert len(pages) == 1 and decode(pages[0]) == []


# --- SVG, rasterised by Chromium --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as running:
        yield running


def rasterise(browser: Browser, svg: bytes, size: int = 410) -> Image.Image:
    """The SVG drawn by Chromium at ``size`` CSS pixels, as an image in a plain page."""
    context = browser.new_context(viewport={"width": size + 40, "height": size + 40})
    try:
        page = context.new_page()
        source = "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")
        page.set_content(f'<body style="margin:0;background:#777"><img id="qr" src="{source}" '
                         f'style="display:block;margin:20px;width:{size}px;height:{size}px"></body>')
        page.wait_for_function("document.getElementById('qr').complete")
        return Image.open(io.BytesIO(page.locator("#qr").screenshot()))
    finally:
        context.close()


def test_svg_route_encodes_the_canonical_uri(world: World, browser: Browser) -> None:
    for passport_id in world.ids[:4]:
        response = world.client.get(f"/p/{passport_id}/qr.svg")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("image/svg+xml")
        modules = len(qr.qr_matrix(world.uris[passport_id]))
        assert f'viewBox="0 0 {modules} {modules}"'.encode() in response.content
        image = rasterise(browser, response.content, modules * 10)  # on a grey page: the quiet zone must be white
        barcode = decode_one(image)
        assert barcode.text == world.uris[passport_id]
        assert barcode.ec_level == "M"
        assert_quiet_zone(image, 10)
    image.save(artifact("qr-route-svg.png"))


# --- the CLI ----------------------------------------------------------------------------------------------------

def run_cli(world: World, *args: str) -> str:
    env = {"PASSPORT_DATABASE_URL": world.settings.database_url, "PASSPORT_KEYS_DIR": str(world.settings.keys_dir),
           "PASSPORT_PUBLIC_BASE_URL": BASE}
    result = CliRunner().invoke(cli, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_cli_png(world: World, tmp_path: Path) -> None:
    passport_id = world.ids[2]
    target = tmp_path / "code.png"
    printed = run_cli(world, "qr", f"urn:uuid:{passport_id}", "--out", str(target))
    assert printed.strip() == world.uris[passport_id]
    barcode = decode_one(load(target))
    assert barcode.text == world.uris[passport_id] and barcode.ec_level == "M"
    # the same code from any Digital Link of the battery, even a GTIN-13 one
    again = tmp_path / "again.png"
    run_cli(world, "qr", world.uris[passport_id].replace(f"/01/{GTIN}", f"/01/{GTIN[1:]}"), "--out", str(again))
    assert again.read_bytes() == target.read_bytes()


def test_cli_svg(world: World, browser: Browser, tmp_path: Path) -> None:
    passport_id = world.ids[3]
    target = tmp_path / "code.svg"
    run_cli(world, "qr", passport_id, "--out", str(target))
    barcode = decode_one(rasterise(browser, target.read_bytes()))
    assert barcode.text == world.uris[passport_id] and barcode.ec_level == "M"


def test_cli_refuses_other_formats(world: World, tmp_path: Path) -> None:
    env = {"PASSPORT_DATABASE_URL": world.settings.database_url, "PASSPORT_KEYS_DIR": str(world.settings.keys_dir)}
    result = CliRunner().invoke(cli, ["qr", world.ids[0], "--out", str(tmp_path / "code.gif")], env=env)
    assert result.exit_code != 0
    assert "Traceback" not in result.output


# --- label sheets -----------------------------------------------------------------------------------------------

def render_pages(pdf: bytes, tmp_path: Path) -> list[Image.Image]:
    pdftoppm = require_tool("pdftoppm", "poppler-utils")
    source = tmp_path / "labels.pdf"
    source.write_bytes(pdf)
    subprocess.run([pdftoppm, "-r", "300", "-png", str(source), str(tmp_path / "page")], check=True)
    return [load(path) for path in sorted(tmp_path.glob("page-*.png"))]


def load(path: Path) -> Image.Image:
    """An image read whole, its file closed."""
    with Image.open(path) as image:
        image.load()
        return image.copy()


def assert_sheet(pages: list[Image.Image], uris: list[str]) -> None:
    (page,) = pages
    assert page.size == (2481, 3508) or page.size == (2480, 3508)  # A4 at 300 dpi
    barcodes = decode(page)
    assert sorted(b.text for b in barcodes) == sorted(uris)
    assert {b.ec_level for b in barcodes} == {"M"}


def test_label_sheet_from_the_api(world: World, tmp_path: Path) -> None:
    ids = world.ids[:SHEET]
    response = world.client.get("/api/v1/labels", params={"ids": ",".join(ids)})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    pages = render_pages(response.content, tmp_path)
    pages[0].save(artifact("labels-api.png"))
    assert_sheet(pages, [world.uris[i] for i in ids])


def test_label_sheet_from_the_cli(world: World, tmp_path: Path) -> None:
    ids = world.ids[:SHEET]
    target = tmp_path / "sheet.pdf"
    printed = run_cli(world, "labels", *[f"urn:uuid:{i}" for i in ids], "--out", str(target))
    assert f"{SHEET} labels" in printed
    assert_sheet(render_pages(target.read_bytes(), tmp_path), [world.uris[i] for i in ids])


def test_a_25th_label_starts_a_second_page(tmp_path: Path) -> None:
    labels = [qr.Label(f"{BASE}/01/{GTIN}/21/N{n}", GTIN, f"N{n}", "Model") for n in range(SHEET + 1)]
    pages = render_pages(qr.label_sheet(labels), tmp_path)
    assert len(pages) == 2
    assert len(decode(pages[0])) == SHEET and [b.text for b in decode(pages[1])] == [labels[-1].uri]


def test_labels_api_refuses_bad_requests(world: World) -> None:
    assert world.client.get("/api/v1/labels", params={"ids": " , "}).status_code == 400
    assert world.client.get("/api/v1/labels", params={"ids": "not-an-id"}).status_code in (400, 404)
    assert world.client.get("/api/v1/labels", params={"ids": "01934b6e-7c1a-7d2e-9a41-000000000000"}
                            ).status_code == 404


# --- documented -------------------------------------------------------------------------------------------------

def test_error_correction_and_quiet_zone_are_documented() -> None:
    text = (ROOT / "docs" / "scanning.md").read_text(encoding="utf-8")
    assert qr.ERROR_CORRECTION == "M" and qr.QUIET_ZONE == 4
    assert "error correction level **M**" in text
    assert "quiet zone of **4 modules**" in text
    assert "24 labels" in text and "70 × 37 mm" in text
