"""QR codes of passports (PNG, SVG) and printable A4 label sheets (PDF).

Every QR code encodes exactly the battery's canonical GS1 Digital Link URI, built by :mod:`passport.urls`.
Error correction level M (about 15 % of the symbol can be damaged or dirty and it still reads: a fair trade for
labels on packs), quiet zone of 4 modules (the ISO/IEC 18004 minimum). Rendering costs milliseconds, so it never
happens on the issue path: the web layer renders on first request and caches."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import qrcode
import qrcode.image.svg
from fpdf import FPDF
from qrcode.constants import ERROR_CORRECT_M

QUIET_ZONE = 4
ERROR_CORRECTION = "M"


def _code(data: str) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=QUIET_ZONE, box_size=10)
    code.add_data(data)
    code.make(fit=True)
    return code


def qr_png(data: str, box_size: int = 10) -> bytes:
    code = _code(data)
    code.box_size = box_size
    image = code.make_image(fill_color="black", back_color="white")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def qr_svg(data: str) -> bytes:
    """A vector QR code on an opaque white square: the quiet zone stays light on any background (a transparent
    one vanishes on a dark page or label stock, and the code no longer scans)."""
    image = _code(data).make_image(image_factory=qrcode.image.svg.SvgPathFillImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()


def qr_matrix(data: str) -> list[list[bool]]:
    """The modules, quiet zone included (True = dark)."""
    return [list(row) for row in _code(data).get_matrix()]


def qr_text(data: str) -> str:
    """The QR code drawn with Unicode half blocks, two modules per character row, for a terminal."""
    matrix = qr_matrix(data)
    if len(matrix) % 2:
        matrix.append([False] * len(matrix[0]))
    glyph = {(False, False): "█", (True, False): "▄", (False, True): "▀", (True, True): " "}
    return "\n".join(
        "".join(glyph[(top, bottom)] for top, bottom in zip(matrix[i], matrix[i + 1], strict=True))
        for i in range(0, len(matrix), 2)
    )


@dataclass(frozen=True)
class Label:
    uri: str  # canonical Digital Link
    gtin: str
    serial: str
    model_name: str


# A4 sheet of 3 x 8 labels of 70 x 37 mm (the common 24-up layout), margins centring the grid.
COLUMNS, ROWS = 3, 8
LABEL_W, LABEL_H = 70.0, 37.0
MARGIN_X, MARGIN_Y = (210 - COLUMNS * LABEL_W) / 2, (297 - ROWS * LABEL_H) / 2
QR_SIZE = 31.0


def _draw_qr(pdf: FPDF, uri: str, x: float, y: float, size: float) -> None:
    matrix = qr_matrix(uri)
    module = size / len(matrix)
    pdf.set_fill_color(0, 0, 0)
    for row, cells in enumerate(matrix):
        column = 0
        while column < len(cells):
            if not cells[column]:
                column += 1
                continue
            start = column
            while column < len(cells) and cells[column]:
                column += 1
            # one rectangle per horizontal run of dark modules keeps the PDF small and the edges exact
            pdf.rect(x + start * module, y + row * module, (column - start) * module + 0.001, module + 0.001, "F")


def _draw_label(pdf: FPDF, label: Label, x: float, y: float) -> None:
    _draw_qr(pdf, label.uri, x + 2, y + (LABEL_H - QR_SIZE) / 2, QR_SIZE)
    text_x, width = x + QR_SIZE + 4, LABEL_W - QR_SIZE - 6
    pdf.set_xy(text_x, y + 5)
    pdf.set_font("Helvetica", "B", 8)
    pdf.multi_cell(width, 3.6, _latin1(label.model_name)[:60], new_x="LEFT", new_y="NEXT", align="L")
    pdf.set_font("Helvetica", "", 7)
    pdf.set_x(text_x)
    pdf.multi_cell(width, 3.4, f"(01) {label.gtin}", new_x="LEFT", new_y="NEXT", align="L")
    pdf.set_x(text_x)
    pdf.multi_cell(width, 3.4, _latin1(f"(21) {label.serial}"), new_x="LEFT", new_y="NEXT", align="L")
    pdf.set_x(text_x)
    pdf.set_font("Helvetica", "", 5.5)
    pdf.multi_cell(width, 2.6, "EU battery passport - scan the code", new_x="LEFT", new_y="NEXT", align="L")


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")  # the core PDF fonts are Latin-1


def label_sheet(labels: Sequence[Label]) -> bytes:
    """A4 pages of 24 labels each: QR code, model name, GTIN and serial in human-readable form."""
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_creator("passport")
    per_page = COLUMNS * ROWS
    for index, label in enumerate(labels):
        if index % per_page == 0:
            pdf.add_page()
        slot = index % per_page
        _draw_label(pdf, label, MARGIN_X + (slot % COLUMNS) * LABEL_W, MARGIN_Y + (slot // COLUMNS) * LABEL_H)
    if not labels:
        pdf.add_page()
    return bytes(pdf.output())


__all__ = ["ERROR_CORRECTION", "QUIET_ZONE", "Label", "label_sheet", "qr_matrix", "qr_png", "qr_svg", "qr_text"]
