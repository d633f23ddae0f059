"""``passport issue``, ``export``, ``restore`` and ``verify``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from passport.cli.app import app, fail, friendly, out
from passport.cli.context import service_context
from passport.errors import InvalidInput, VerificationError
from passport.service import dump
from passport.service.passports import Passports
from passport.service.resolvers import chain, http_resolver, pinned_resolver
from passport.service.verification import verify_bytes
from passport.signing import KeyResolver, did_key_resolver

MAX_FETCH = 100 * 1024 * 1024
# emoji=False on every print: rich turned "did:key:z6Mk…" into "did🔑z6Mk…" in `passport verify` output.


@app.command(epilog="Example: passport issue docs/examples/passport-ev.json --org dev")
@friendly
def issue(
    file: Annotated[Path, typer.Argument(help="A passport document (JSON).", show_default=False)],
    org: Annotated[str, typer.Option("--org", help="The responsible economic operator (organisation slug).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Validate, sign and store version 1 of a passport. Prints its id (urn:uuid:…) and its public URL."""
    data = file.read_bytes()
    with service_context() as context:
        issued = Passports(context).issue(org, data)
        url = context.urls.digital_link(issued.passport.gtin, issued.passport.serial)
    passport_id = f"urn:uuid:{issued.passport_id}"
    if as_json:
        out.print(
            json.dumps(
                {
                    "passportId": passport_id,
                    "url": url,
                    "version": 1,
                    "warnings": [w.as_dict() for w in issued.warnings],
                }
            ),
            markup=False,
            emoji=False,
        )
        return
    out.print(passport_id, markup=False, emoji=False)
    out.print(url, markup=False, emoji=False)
    for warning in issued.warnings:
        out.print(f"warning: {warning.pointer}: {warning.message}", markup=False, emoji=False)


@app.command(epilog="Example: passport export --out backup.ndjson")
@friendly
def export(
    target: Annotated[Path, typer.Option("--out", help="Where to write the NDJSON export ('-': stdout).")],
    passport: Annotated[str | None, typer.Option("--passport", help="Only this passport (id).")] = None,
) -> None:
    """Export every version's credentials with the organisations, their DID documents and key history, so the dump
    verifies offline. Private keys and API keys are never exported."""
    from passport.service.passports import parse_passport_id

    with service_context() as context:
        passport_id = parse_passport_id(passport) if passport else None
        if str(target) == "-":
            counts = dump.export(context, sys.stdout.buffer, passport_id)
        else:
            with target.open("wb") as handle:
                counts = dump.export(context, handle, passport_id)
    if str(target) != "-":
        out.print(f"exported {counts[0]} passports, {counts[1]} versions to {target}", markup=False, emoji=False)


@app.command(epilog="Example: PASSPORT_DATABASE_URL=sqlite:///restored.db passport restore backup.ndjson")
@friendly
def restore(file: Annotated[Path, typer.Argument(help="An export made by 'passport export'.")]) -> None:
    """Restore an export into an empty database. Every signature and chain is verified first; if anything fails,
    nothing is written."""
    with service_context() as context:
        report = dump.restore(context, file)
    out.print(
        f"restored {report.organisations} organisations, {report.passports} passports, {report.versions} versions",
        markup=False,
        emoji=False,
    )


def _fetch(url: str) -> bytes:
    import httpx  # here, not at the top: only a URL to verify needs an HTTP client

    try:
        response = httpx.get(url, headers={"Accept": "application/json"}, timeout=30, follow_redirects=True)
    except httpx.HTTPError as exc:
        fail(f"cannot fetch {url}: {exc.__class__.__name__}")
    if response.status_code != 200:
        fail(f"cannot fetch {url}: HTTP {response.status_code}")
    if len(response.content) > MAX_FETCH:
        fail(f"{url}: response too large")
    return response.content


@app.command(epilog="Example: passport verify backup.ndjson   |   passport verify credential.json --key z6Mk…")
@friendly
def verify(
    source: Annotated[str, typer.Argument(help="A credential (JSON), an export (NDJSON), a file or an http(s) URL.")],
    key: Annotated[str | None, typer.Option("--key", help="Trust only this Ed25519 Multikey (z6Mk…).")] = None,
    offline: Annotated[bool, typer.Option("--offline", help="Never resolve did:web over the network.")] = False,
) -> None:
    """Verify signatures and hash chains. Prints 'OK …' (exit 0) or 'INVALID <reason>: detail' (exit 1).

    Exports carry their organisations' DID documents and verify fully offline."""
    data = _fetch(source) if source.startswith(("http://", "https://")) else Path(source).read_bytes()
    resolver: KeyResolver
    if key:
        resolver = pinned_resolver(key)
    elif offline:
        resolver = did_key_resolver
    else:
        resolver = chain(did_key_resolver, http_resolver())
    try:
        verified = verify_bytes(data, resolver)
    except VerificationError as exc:
        out.print(f"INVALID {exc.reason}: {exc.detail}", markup=False, emoji=False)
        raise typer.Exit(1) from None
    except InvalidInput as exc:
        out.print(f"INVALID malformed: {exc.detail}", markup=False, emoji=False)
        raise typer.Exit(1) from None
    out.print(f"OK {verified.summary}", markup=False, emoji=False)
