"""``passport apikeys``: API keys of organisations (shown once, stored hashed)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from passport.cli.app import app, friendly, moment, out
from passport.cli.context import known, service_context
from passport.clock import rfc3339
from passport.service.apikeys import KEY_SCOPES, create_api_key, revoke_api_key

apikeys_app = typer.Typer(help="API keys: create (shown once), list, revoke.", no_args_is_help=True)
app.add_typer(apikeys_app, name="apikeys")


@apikeys_app.command("create", epilog="Example: passport apikeys create --org acme --role manufacturer --quiet")
@friendly
def create(
    org: Annotated[str, typer.Option("--org", help="Organisation the key acts for.")],
    role: Annotated[str, typer.Option("--role", help="manufacturer, legitimate_interest, authority or admin.")],
    label: Annotated[str, typer.Option("--label", help="A name to recognise the key by.")] = "",
    scope: Annotated[
        list[str] | None, typer.Option("--scope", help="read (GET only) or write; repeat for both (the default).")
    ] = None,
    expires: Annotated[
        str | None, typer.Option("--expires", help="When the key stops working: a date or an RFC 3339 time.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="Print only the key.")] = False,
) -> None:
    """Create an API key. The key is printed once and cannot be shown again (only its SHA-256 is stored)."""
    until = moment(expires, "--expires") if expires else None
    with service_context() as context:
        record, token = create_api_key(context, org, role, label, until, scope or KEY_SCOPES)
    if quiet:
        out.print(token, markup=False)
        return
    out.print(f"API key for {org} ({record.role}), id {record.key_id}:", markup=False)
    out.print(token, markup=False)
    out.print("Store it now: it will not be shown again.", markup=False)


@apikeys_app.command("list", epilog="Example: passport apikeys list --org acme")
@friendly
def list_keys(
    org: Annotated[str | None, typer.Option("--org", help="Only this organisation's keys.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List API keys (their id, role, prefix and times; never the key)."""
    with service_context() as context:
        known(context, org)
        records = context.store.list_api_keys(org)
    rows: list[dict[str, str | None]] = [
        {"id": r.key_id, "organisation": r.organisation, "role": r.role, "label": r.label, "prefix": r.prefix,
         "createdAt": rfc3339(r.created_at), "revokedAt": rfc3339(r.revoked_at) if r.revoked_at else None,
         "lastUsedAt": rfc3339(r.last_used_at) if r.last_used_at else None,
         "expiresAt": rfc3339(r.expires_at) if r.expires_at else None,
         "scopes": " ".join(r.scopes or KEY_SCOPES)} for r in records]
    if as_json:
        out.print(json.dumps(rows, indent=2), markup=False)
        return
    table = Table("id", "organisation", "role", "scopes", "label", "prefix", "last used", "expires", "revoked")
    for row in rows:
        table.add_row(row["id"], row["organisation"], row["role"], row["scopes"], row["label"], f"{row['prefix']}…",
                      row["lastUsedAt"] or "-", row["expiresAt"] or "-", row["revokedAt"] or "-")
    out.print(table)


@apikeys_app.command("revoke", epilog="Example: passport apikeys revoke 0193…")
@friendly
def revoke(key_id: Annotated[str, typer.Argument(help="The key's id (from 'apikeys list').")]) -> None:
    """Revoke an API key: it stops working at once."""
    with service_context() as context:
        revoke_api_key(context, key_id)
    out.print(f"revoked {key_id}", markup=False)
