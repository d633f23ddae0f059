"""``passport demo``: load the demo data set and say how to look at it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn

from passport.cli.app import app, err, fail, friendly, out
from passport.cli.context import service_context
from passport.config import Environment


@app.command(epilog="Example: passport demo --keys-file .demo-keys.json")
@friendly
def demo(
    count: Annotated[
        int | None,
        typer.Option("--count", min=7, max=100_000, help="About this many passports (default: 310 plus second lives)."),
    ] = None,
    keys_file: Annotated[
        Path, typer.Option("--keys-file", help="Where the demo API keys are kept (mode 0600).")
    ] = Path(".demo-keys.json"),
    qr: Annotated[bool, typer.Option("--qr/--no-qr", help="Print a QR code of one passport.")] = True,
) -> None:
    """Load a realistic demo once (manufacturers, recyclers, an authority; passports in every status, second lives,
    recycled batteries), then print where to look and the demo API keys. Development only; running it again is
    fast and changes nothing."""
    from passport.demo import load

    _check_keys_file(keys_file)
    with service_context() as context:
        if context.settings.env is not Environment.DEVELOPMENT:
            fail("the demo is for development (PASSPORT_ENV=development) only")
        columns = (SpinnerColumn(), TextColumn("{task.description}"))
        # on stderr, and only on a terminal: stdout carries what to open and the keys, and nothing else
        with Progress(*columns, transient=True, console=err, disable=not err.is_terminal) as progress:
            progress.add_task("loading the demo (about 10 s the first time)…", total=None)
            result = load(context, keys_file, count)
        base = context.urls.base
    out.print(f"demo {'loaded' if result.created else 'already loaded'}: {result.passports} passports", markup=False)
    out.print("\nPublic passport pages (what a phone shows after scanning the pack):", markup=False)
    for label, url in result.samples:
        out.print(f"  {label}: {url}", markup=False)
    if qr and result.samples:
        out.print(
            f"\nQR code of {result.samples[0][1]}\n(a phone reaches it when PASSPORT_PUBLIC_BASE_URL and "
            "HOST name an address it can reach)",
            markup=False,
        )
        # imported here, not at the top: the QR and PDF libraries would slow every command's start-up
        from passport.qr import qr_text

        out.print(qr_text(result.samples[0][1]), markup=False)
    if result.keys:
        out.print(
            f"\nDemo API keys (kept in {keys_file}, mode 0600; use as 'Authorization: Bearer <key>'):", markup=False
        )
        for name, key in result.keys.items():
            out.print(f"  {name:32} {key}", markup=False)
    out.print(f"\nAPI documentation: {base}/docs    console: {base}/console    health: {base}/healthz", markup=False)


def _check_keys_file(path: Path) -> None:
    """Refuse before loading anything: a demo whose keys cannot be written would be half made (its organisations
    exist, so it counts as loaded) and its keys lost."""
    if path.is_dir():
        fail(f"--keys-file {path}: is a directory")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        fail(f"--keys-file {path}: no directory {parent}")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        fail(f"--keys-file {path}: not writable")
    if path.is_file():
        try:
            keys = json.loads(path.read_bytes())
        except ValueError:  # malformed JSON or not UTF-8
            keys = None
        if not isinstance(keys, dict) or not all(isinstance(v, str) for v in keys.values()):
            fail(f"--keys-file {path}: not a demo keys file (a JSON object of API keys); move it away or name "
                 "another file")
