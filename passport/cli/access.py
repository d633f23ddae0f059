"""``passport accesslog``, ``passport purposes`` and ``passport grants``: the operator's side of scoped access, on
the server. Decisions made here are audited like the API's (actor: the command line)."""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
from typing import Annotated, Any

import typer
from rich.table import Table

from passport.access import Role
from passport.cli.app import app, fail, friendly, moment, out
from passport.cli.context import known, service_context
from passport.service import access_management as access
from passport.service.access_control import audit
from passport.service.access_json import access_json, grant_json
from passport.service.apikeys import Caller
from passport.service.passports import parse_passport_id

accesslog_app = typer.Typer(help="The access log: list, prune.", no_args_is_help=True)
purposes_app = typer.Typer(help="Purposes organisations may claim: list, approve, refuse.", no_args_is_help=True)
grants_app = typer.Typer(help="Grants of access: list, revoke.", no_args_is_help=True)
app.add_typer(accesslog_app, name="accesslog")
app.add_typer(purposes_app, name="purposes")
app.add_typer(grants_app, name="grants")
OPERATOR = Caller(Role.ADMIN, None)  # the command line acts as the installation's administrator


def _print_rows(rows: list[dict[str, Any]], output: str, columns: list[str]) -> None:
    if output == "json":
        out.print(json.dumps(rows, indent=2), markup=False)
    elif output == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    elif output == "table":
        table = Table(*columns)
        for row in rows:
            table.add_row(*(str(row.get(c)) if row.get(c) is not None else "–" for c in columns))
        out.print(table)
    else:
        fail("--format: table, json or csv", code=2)


@accesslog_app.command("list", epilog="Example: passport accesslog list --manufacturer voltdrive --since 2026-11-01")
@friendly
def list_log(
    manufacturer: Annotated[str | None, typer.Option("--manufacturer", help="Reads of this maker's passports.")] = None,
    passport: Annotated[str | None, typer.Option("--passport", help="Reads of this passport.")] = None,
    reader: Annotated[str | None, typer.Option("--reader", help="Reads by this organisation.")] = None,
    since: Annotated[str | None, typer.Option("--since", help="From this date or time.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1_000_000, help="At most this many, newest first.")] = 100,
    output: Annotated[str, typer.Option("--format", help="table, json or csv.")] = "table",
) -> None:
    """Who read non-public passport data: reader, passport, view, basis (purpose), channel and time."""
    start = moment(since, "--since") if since else None
    with service_context() as context:
        known(context, manufacturer, reader)
        if passport:
            context.store.get_passport(parse_passport_id(passport))
        entries = context.store.list_access(
            manufacturer=manufacturer, passport_id=parse_passport_id(passport) if passport else None, reader=reader,
            since=start, limit=limit)
    _print_rows([access_json(e) for e in entries], output,
                ["at", "reader", "role", "passportId", "manufacturer", "view", "basis", "channel", "passports"])


@accesslog_app.command("prune", epilog="Example: passport accesslog prune --before 2016-12-31")
@friendly
def prune(
    before: Annotated[str, typer.Option("--before", help="Remove entries older than this date or time.")],
) -> None:
    """Remove access-log entries older than ``--before`` (the retention period is ten years: docs/security.md)."""
    cutoff = moment(before, "--before")
    with service_context() as context:
        if cutoff > context.clock():
            fail("--before is in the future: that would remove the whole log", code=2)
        removed = context.store.prune_access(cutoff)
        audit(context, OPERATOR, "accesslog.pruned", "accesslog", before=cutoff.isoformat(), removed=removed)
    out.print(f"removed {removed} access-log entries older than {cutoff.isoformat()}", markup=False)


@purposes_app.command("list", epilog="Example: passport purposes list --org recyclex")
@friendly
def list_purposes(
    org: Annotated[str | None, typer.Option("--org", help="Only this organisation.")] = None,
    output: Annotated[str, typer.Option("--format", help="table, json or csv.")] = "table",
) -> None:
    """Purposes organisations asked for, with their status (requested, approved, refused)."""
    with service_context() as context:
        known(context, org)
        rows = context.store.list_purposes(org)
    _print_rows([{k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in r.items()} for r in rows],
                output, ["organisation", "purpose", "status", "requested_at", "decided_at"])


def _decide(org: str, purpose: str, approve: bool) -> None:
    with service_context() as context:
        access.decide_purpose(context, OPERATOR, org, purpose, approve)
    out.print(f"{org}: {purpose} {'approved' if approve else 'refused'}", markup=False)


@purposes_app.command("approve", epilog="Example: passport purposes approve recyclex recycler")
@friendly
def approve(
    org: Annotated[str, typer.Argument(help="The organisation's slug.")],
    purpose: Annotated[str, typer.Argument(help=", ".join(access.PURPOSES))],
) -> None:
    """Let an organisation claim a purpose (Art. 77(2)): grants for it can then be given."""
    _decide(org, purpose, True)


@purposes_app.command("refuse", epilog="Example: passport purposes refuse fixit aggregator")
@friendly
def refuse(
    org: Annotated[str, typer.Argument(help="The organisation's slug.")],
    purpose: Annotated[str, typer.Argument(help=", ".join(access.PURPOSES))],
) -> None:
    """Refuse (or withdraw) a purpose."""
    _decide(org, purpose, False)


@grants_app.command("list", epilog="Example: passport grants list --grantee recyclex --format json")
@friendly
def list_grants(
    grantee: Annotated[str | None, typer.Option("--grantee", help="Grants this organisation holds.")] = None,
    grantor: Annotated[str | None, typer.Option("--grantor", help="Grants this organisation gave.")] = None,
    output: Annotated[str, typer.Option("--format", help="table, json or csv.")] = "table",
) -> None:
    """Grants with their scope (passport, model, manufacturer), purpose, expiry and state."""
    with service_context() as context:
        known(context, grantee, grantor)
        now = context.clock()
        rows = [grant_json(g, now) for g in context.store.list_grants(grantee=grantee, grantor=grantor)]
    for row in rows:
        row["scope"] = f"{row['scope']['kind']}:{row['scope']['id']}" if output != "json" else row["scope"]
    _print_rows(rows, output, ["id", "grantee", "grantor", "scope", "purpose", "expiresAt", "revokedAt", "active"])


@grants_app.command("revoke", epilog="Example: passport grants revoke 0193…")
@friendly
def revoke(grant_id: Annotated[str, typer.Argument(help="The grant's id (from 'grants list').")]) -> None:
    """Revoke a grant at once (as an administrator)."""
    with service_context() as context:
        access.revoke_grant(context, OPERATOR, grant_id)
    out.print(f"revoked {grant_id}", markup=False)
