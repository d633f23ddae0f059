"""Commands that read passport documents from files: ``validate`` and ``convert``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from passport import jsonio
from passport.cli.app import app, err, fail, friendly, out
from passport.errors import InvalidInput, Problem
from passport.validation import full_check

LINE_FORMATS = (".ndjson", ".jsonl")


def read_documents(path: Path) -> Iterator[tuple[int | None, Any]]:
    """The documents of a JSON file (one, line None) or an NDJSON file (one per non-empty line)."""
    raw = path.read_bytes()
    if path.suffix.lower() not in LINE_FORMATS:
        yield None, jsonio.loads(raw)
        return
    for number, line in enumerate(raw.splitlines(), start=1):
        if line.strip():
            yield number, jsonio.loads(line)


def _problems_of(path: Path) -> Iterator[tuple[int | None, Problem]]:
    try:
        for line, document in read_documents(path):
            for problem in full_check(document):
                yield line, problem
    except InvalidInput as exc:
        yield None, Problem("", exc.detail)


@app.command(epilog="Example: passport validate docs/examples/*.json")
@friendly
def validate(
    files: Annotated[list[Path], typer.Argument(help="JSON or NDJSON (.ndjson, .jsonl) files.", show_default=False)],
) -> None:
    """Check passport documents against the JSON Schema and the business rules.

    Prints one line per problem: FILE: /json/pointer: message (warnings start with 'warning:').
    Exits 0 when every document is valid, 1 otherwise."""
    invalid = False
    for path in files:
        if not path.is_file():
            fail(f"{path}: no such file", code=2)
        for line, problem in _problems_of(path):
            where = f"{path}:{line}" if line is not None else str(path)
            text = f"{where}: {problem.pointer or '/'}: {problem.message}"
            if problem.severity == "warning":
                out.print(f"warning: {text}", markup=False)
            else:
                invalid = True
                out.print(text, markup=False)
    raise typer.Exit(1 if invalid else 0)


@app.command(epilog="Example: passport convert --to batterypass docs/examples/passport-ev.json > bp.json")
@friendly
def convert(
    file: Annotated[Path, typer.Argument(help="The document to convert.", show_default=False)],
    to: Annotated[str | None, typer.Option("--to", help="Target format: batterypass.")] = None,
    from_: Annotated[str | None, typer.Option("--from", help="Source format: batterypass.")] = None,
) -> None:
    """Convert a passport (full view) to the seven Battery Pass v1.2 aspect documents, or back.

    --to batterypass prints one JSON object keyed by aspect name; --from batterypass reads that object and prints
    the passport document. Anything the other model cannot carry exactly is reported on stderr."""
    if (to is None) == (from_ is None) or (to or from_) != "batterypass":
        fail("give exactly one of --to batterypass or --from batterypass", code=2)
    from passport.batterypass import from_batterypass, to_batterypass

    document = jsonio.loads(file.read_bytes())
    if not isinstance(document, dict):
        fail(f"{file}: expected a JSON object")
    result = to_batterypass(document) if to else from_batterypass(document)
    for warning in result.warnings:
        err.print(f"warning: {warning}", markup=False)
    out.print(json.dumps(result.document, indent=2, ensure_ascii=False), markup=False)
