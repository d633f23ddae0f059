"""``passport schema export|check``: the published JSON Schemas."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from passport import schema
from passport.cli.app import app, fail, friendly, out

schema_app = typer.Typer(help="Export or check the published JSON Schemas.", no_args_is_help=True)
app.add_typer(schema_app, name="schema")

DirOption = Annotated[Path, typer.Option("--dir", help="Directory of the schema files.")]


@schema_app.command("export", epilog="Example: passport schema export --dir schemas")
@friendly
def export(directory: DirOption = Path("schemas")) -> None:
    """Write every schema (full passport, each view, battery model) as JSON Schema 2020-12."""
    for path in schema.export(directory):
        out.print(str(path), markup=False)


@schema_app.command("check", epilog="Example: passport schema check --dir schemas")
@friendly
def check(directory: DirOption = Path("schemas")) -> None:
    """Exit 1 when a schema file is missing or differs from what the models generate."""
    if not directory.is_dir():
        fail(f"{directory}: no such directory (write the schemas with: passport schema export --dir {directory})")
    stale = schema.drift(directory)
    if stale:
        fail(f"schemas out of date in {directory}: {', '.join(stale)} (run: passport schema export)")
    out.print(f"{len(schema.SCHEMA_NAMES)} schemas up to date in {directory}", markup=False)


@schema_app.command("docs", epilog="Example: passport schema docs --out docs/data-model.md")
@friendly
def docs(
    target: Annotated[Path, typer.Option("--out", help="Where to write the reference.")] = Path("docs/data-model.md"),
) -> None:
    """Regenerate the data-model reference (fields, audiences, units, rules, Battery Pass mapping) and, beside it,
    the API reference (api-reference.md, from the OpenAPI document)."""
    from passport.docgen import data_model_markdown
    from passport.web.apidoc import api_reference_markdown

    target.write_text(data_model_markdown(), encoding="utf-8")
    api = target.parent / "api-reference.md"
    api.write_text(api_reference_markdown(), encoding="utf-8")
    out.print(str(target), markup=False)
    out.print(str(api), markup=False)
