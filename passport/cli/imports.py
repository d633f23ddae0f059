"""``passport import``: bulk import from a file, in-process, with a progress bar."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from passport.access import Role
from passport.cli.app import app, err, fail, friendly, out
from passport.cli.context import service_context
from passport.service.apikeys import Caller
from passport.service.imports import Importer, Splitter, finish, open_import, result_json

CHUNK = 256 * 1024


def file_key(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return f"file-sha256:{digest.hexdigest()}"


@app.command("import", epilog="Example: passport import passports.ndjson --org acme")
@friendly
def import_file(
    file: Annotated[Path, typer.Argument(help="NDJSON (.ndjson/.jsonl) or CSV (.csv) file.")],
    org: Annotated[str, typer.Option("--org", help="The organisation issuing the passports.")],
    idempotency_key: Annotated[str | None, typer.Option("--idempotency-key", help="Default: the file's SHA-256, "
                                                        "so importing the same file twice creates nothing "
                                                        "twice.")] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Write the per-line report (NDJSON) here.")] = None,
) -> None:
    """Import passports and events, validated per line and committed in batches; prints a summary and exits 1 if any
    line failed. Re-running with the same key resumes or returns the same result."""
    kind = "csv" if file.suffix.lower() == ".csv" else "ndjson"
    size = file.stat().st_size
    key = idempotency_key or file_key(file)
    with service_context() as context:
        context.store.get_organisation(org)
        session, complete = open_import(context, Caller(Role.MANUFACTURER, org), key)
        if not complete:
            importer, splitter = Importer(session), Splitter(session, kind)
            columns = (TextColumn("[bold]importing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
            # On stderr: stdout carries the summary alone (a transient bar left a blank line in front of it).
            with Progress(*columns, transient=True, console=err, disable=not err.is_terminal) as progress, \
                    file.open("rb") as handle:
                task = progress.add_task("import", total=size)
                for chunk in iter(lambda: handle.read(CHUNK), b""):
                    importer.run(splitter.feed([chunk]))
                    progress.advance(task, len(chunk))
                importer.run(splitter.feed([], final=True))
                importer.flush()
            record = finish(session)
        else:
            record = session.record
        first_problem = ""
        if record.failed:
            failed = next((r for r in map(result_json, context.store.import_results(record.import_id))
                           if "problem" in r), None)
            first_problem = _problem_text(failed) if failed else ""
        if report is not None:
            with report.open("w", encoding="utf-8") as handle:
                for result in context.store.import_results(record.import_id):
                    handle.write(json.dumps(result_json(result)) + "\n")
    out.print(f"import {record.import_id}: {record.lines} lines, {record.succeeded} succeeded, {record.failed} failed"
              + (" (already imported with this key)" if complete else ""), markup=False)
    if record.failed:
        fail(f"{file}: {record.failed} of {record.lines} lines failed; {first_problem}"
             + ("" if report else " (--report FILE lists every line)"))


def _problem_text(result: dict[str, Any]) -> str:
    """'first: line N: message' of a failed line of the report."""
    problem = result["problem"]
    detail = problem.get("detail") or problem.get("title") or "invalid"
    inner = problem.get("problems") or []
    if inner and isinstance(inner[0], dict):
        detail = f"{inner[0].get('pointer') or '/'}: {inner[0].get('message', detail)}"
    return f"first: line {result['line']}: {detail}"
