"""``passport report``: recycled content and recovery efficiency, as tables, JSON or CSV."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

import typer
from rich.table import Table

from passport.access import Role
from passport.circularity import flatten_rows, recovery_report, recycled_content_report
from passport.cli.app import app, fail, friendly, out
from passport.cli.context import known, service_context
from passport.service.apikeys import Caller

report_app = typer.Typer(help="Circularity reports: recycled content, recovery efficiency.", no_args_is_help=True)
app.add_typer(report_app, name="report")
FormatOption = Annotated[str, typer.Option("--format", help="table, json or csv.")]


def _emit(rows: Sequence[Mapping[str, Any]], output: str, columns: Sequence[str]) -> None:
    if output == "json":
        out.print(json.dumps(list(rows), indent=2), markup=False)
    elif output == "csv":
        flat = flatten_rows(rows)
        writer = csv.DictWriter(sys.stdout, fieldnames=list(dict.fromkeys(k for r in flat for k in r)))
        writer.writeheader()
        writer.writerows(flat)
    elif output == "table":
        table = Table(*columns)
        for row in flatten_rows(rows):
            table.add_row(*(_cell(row.get(column)) for column in columns))
        out.print(table)
    else:
        fail("--format: table, json or csv", code=2)


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    return f"{value:.1f}" if isinstance(value, float) else str(value)


@report_app.command("recycled-content", epilog="Example: passport report recycled-content --by manufacturer")
@friendly
def recycled(
    by: Annotated[str, typer.Option("--by", help="model or manufacturer.")] = "model",
    org: Annotated[str | None, typer.Option(
        "--org", help="As this manufacturer sees them: its own passports, those it holds or was granted.")] = None,
    output: FormatOption = "table",
) -> None:
    """Declared recycled shares of Co, Li, Ni, Pb against the Art. 8 minimums for 2031 and 2036."""
    caller = Caller(Role.MANUFACTURER, org) if org else Caller(Role.AUTHORITY, None)
    with service_context() as context:
        known(context, org)
        rows = recycled_content_report(context, caller, by)
    columns = [by] + [f"metals.{m}.{f}" for m in ("Co", "Li", "Ni", "Pb") for f in ("total", "verdict2031")]
    _emit(rows, output, columns)


@report_app.command("recovery", epilog="Example: passport report recovery --recycler recyclex")
@friendly
def recovery(
    recycler: Annotated[str | None, typer.Option("--recycler", help="Only this recycler.")] = None,
    output: FormatOption = "table",
) -> None:
    """Recovery efficiency per recycler and material against the Annex XII Part C targets (2027, 2031)."""
    with service_context() as context:
        known(context, recycler)
        rows = recovery_report(context, Caller(Role.AUTHORITY, None), recycler)
    _emit(rows, output, ["recycler", "material", "inputKg", "recoveredKg", "efficiency", "verdict2027", "verdict2031"])
