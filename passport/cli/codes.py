"""``passport qr`` and ``passport labels``: QR codes and printable label sheets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from passport.access import View
from passport.cli.app import app, fail, friendly, out
from passport.cli.context import service_context
from passport.digitallink import parse_path
from passport.service.context import ServiceContext
from passport.service.passports import parse_passport_id
from passport.storage import PassportRecord


def _find(context: ServiceContext, reference: str) -> PassportRecord:
    """A passport by id (urn:uuid:… or bare) or by any Digital Link URI of the battery."""
    if "/01/" in reference:
        parsed = parse_path("/01/" + reference.split("/01/", 1)[1].split("?")[0])
        if parsed.serial is None:
            fail(f"{reference}: the Digital Link has no serial (AI 21)")
        return context.store.find_passport(parsed.gtin, parsed.serial)
    return context.store.get_passport(parse_passport_id(reference))


@app.command(epilog="Example: passport qr urn:uuid:0193… --out label.svg")
@friendly
def qr(
    reference: Annotated[str, typer.Argument(help="Passport id, or a Digital Link URI of the battery.")],
    target: Annotated[Path, typer.Option("--out", help="FILE.png or FILE.svg")],
) -> None:
    """Write the QR code of the battery's canonical GS1 Digital Link URI (error correction M, 4-module quiet zone).
    Prints the encoded URI."""
    if target.suffix.lower() not in (".png", ".svg"):
        fail("--out must end in .png or .svg", code=2)
    with service_context() as context:
        record = _find(context, reference)
        uri = context.urls.digital_link(record.gtin, record.serial)
    # imported here, not at the top: the QR and PDF libraries would slow every command's start-up
    from passport.qr import qr_png, qr_svg

    target.write_bytes(qr_png(uri) if target.suffix.lower() == ".png" else qr_svg(uri))
    out.print(uri, markup=False)


@app.command(epilog="Example: passport labels urn:uuid:0193… urn:uuid:0194… --out labels.pdf")
@friendly
def labels(
    references: Annotated[list[str], typer.Argument(help="Passport ids or Digital Link URIs.")],
    target: Annotated[Path, typer.Option("--out", help="The PDF to write.")],
) -> None:
    """Write a printable A4 PDF, 24 labels a page: QR code, model name, GTIN and serial."""
    # imported here, not at the top: the QR and PDF libraries would slow every command's start-up
    from passport.qr import Label, label_sheet

    with service_context() as context:
        sheet = []
        for reference in references:
            record = _find(context, reference)
            general = context.store.get_version(record.passport_id).credential_json(View.PUBLIC.value)[
                "credentialSubject"]["passport"]["general"]
            sheet.append(Label(context.urls.digital_link(record.gtin, record.serial), record.gtin, record.serial,
                               general.get("modelName") or general["modelIdentifier"]))
    target.write_bytes(label_sheet(sheet))
    out.print(f"{len(sheet)} labels written to {target}", markup=False)
