"""``passport init``, ``passport orgs`` and ``passport keys``: the database, organisations and signing keys."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from passport.cli.app import app, fail, friendly, out
from passport.cli.context import known, service_context
from passport.clock import rfc3339
from passport.config import Environment
from passport.models.base import parse_datetime
from passport.service import organisations as orgs
from passport.service.context import ServiceContext

orgs_app = typer.Typer(help="Organisations: economic operators, recyclers, authorities.", no_args_is_help=True)
keys_app = typer.Typer(help="Signing keys of organisations: list, rotate, revoke.", no_args_is_help=True)
app.add_typer(orgs_app, name="orgs")
app.add_typer(keys_app, name="keys")

DEV_ORGANISATION = ("dev", "Development organisation")
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
# Every print passes emoji=False and table cells are Text: rich otherwise turns ":key:" into an emoji, which
# mangled DIDs (did:key:z6Mk... was printed as "did🔑z6Mk...") in output that users copy and scripts parse.


@app.command(epilog="Example: passport init")
@friendly
def init() -> None:
    """Create or upgrade the database and the keystore directory; in development, also a first organisation
    ('dev') with its signing key. Safe to run again."""
    with service_context() as context:
        context.settings.keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if context.settings.env is Environment.DEVELOPMENT and not context.store.list_organisations():
            orgs.create_organisation(context, *DEV_ORGANISATION)
        names = ", ".join(o.slug for o in context.store.list_organisations()) or "none yet"
        out.print(
            f"database ready; keys in {context.settings.keys_dir}; organisations: {names}", markup=False, emoji=False
        )


@orgs_app.command("create", epilog='Example: passport orgs create acme --name "ACME Batteries GmbH"')
@friendly
def create(
    slug: Annotated[str, typer.Argument(help="Short name: lower-case letters, digits, hyphens.")],
    name: Annotated[str, typer.Option("--name", help="Legal name of the organisation.")],
) -> None:
    """Register an organisation and create its first signing key; prints its DID."""
    with service_context() as context:
        orgs.create_organisation(context, slug, name)
        out.print(context.urls.did(slug), markup=False, emoji=False)


@orgs_app.command("list", epilog="Example: passport orgs list --json")
@friendly
def list_orgs(as_json: JsonOption = False) -> None:
    """List the organisations."""
    with service_context() as context:
        rows = [
            {"slug": o.slug, "name": o.name, "did": context.urls.did(o.slug), "createdAt": rfc3339(o.created_at)}
            for o in context.store.list_organisations()
        ]
    if as_json:
        out.print(json.dumps(rows, indent=2), markup=False, emoji=False)
        return
    table = Table("slug", "name", "DID")
    for row in rows:
        table.add_row(*(Text(str(row[column])) for column in ("slug", "name", "did")))
    out.print(table)


@keys_app.command("list", epilog="Example: passport keys list --org acme")
@friendly
def list_keys(
    org: Annotated[str | None, typer.Option("--org", help="Only this organisation's keys.")] = None,
    as_json: JsonOption = False,
) -> None:
    """List signing keys with their state (active, retired, revoked). Private keys are never shown."""
    with service_context() as context:
        if org:
            context.store.get_organisation(org)
        keys = context.store.list_keys(org)
    rows = [
        {
            "organisation": k.organisation,
            "keyId": k.key_id,
            "publicKeyMultibase": k.public_key_multibase,
            "state": "revoked" if k.revoked_at else "retired" if k.retired_at else "active",
            "createdAt": rfc3339(k.created_at),
            "retiredAt": rfc3339(k.retired_at) if k.retired_at else None,
            "revokedAt": rfc3339(k.revoked_at) if k.revoked_at else None,
        }
        for k in keys
    ]
    if as_json:
        out.print(json.dumps(rows, indent=2), markup=False, emoji=False)
        return
    table = Table("organisation", "key", "state", "created", "public key")
    for row in rows:
        table.add_row(
            *(
                Text(str(row[column]))
                for column in ("organisation", "keyId", "state", "createdAt", "publicKeyMultibase")
            )
        )
    out.print(table)


@keys_app.command("rotate", epilog="Example: passport keys rotate --org acme")
@friendly
def rotate(org: Annotated[str, typer.Option("--org", help="Organisation whose key to rotate.")]) -> None:
    """Create a new active key and retire the current one (it still verifies what it signed)."""
    with service_context() as context:
        known(context, org)
        _passphrase_opens_active_key(context, org)
        key = orgs.rotate_key(context, org)
    out.print(f"{org}: new active key {key.key_id} ({key.public_key_multibase})", markup=False, emoji=False)


@keys_app.command("revoke", epilog="Example: passport keys revoke --org acme key-1 --at 2026-11-20T00:00:00Z")
@friendly
def revoke(
    key_id: Annotated[str, typer.Argument(help="The key to revoke, e.g. key-1.")],
    org: Annotated[str, typer.Option("--org", help="Organisation owning the key.")],
    at: Annotated[str | None, typer.Option("--at", help="Revoked from this RFC 3339 time on (default: now).")] = None,
) -> None:
    """Revoke a key from a time on: its signatures made from then on fail verification with 'key revoked'.
    Revoking the active key first rotates to a new one."""
    moment: dt.datetime | None = None
    if at is not None:
        try:
            moment = parse_datetime(at)
        except ValueError:
            fail(f"--at {at!r}: expected an RFC 3339 time such as 2026-11-20T00:00:00Z", code=2)
    with service_context() as context:
        known(context, org)
        _passphrase_opens_active_key(context, org)  # revoking the active key rotates
        key = orgs.revoke_key(context, org, key_id, moment)
    assert key.revoked_at is not None
    out.print(f"{org}: key {key_id} revoked from {rfc3339(key.revoked_at)}", markup=False, emoji=False)


def _passphrase_opens_active_key(context: ServiceContext, org: str) -> None:
    """Refuse (one line, nothing written) when PASSPORT_KEY_PASSPHRASE does not open the active key: a key made now
    would be encrypted with a different passphrase than the others. A lost private key is no reason to refuse:
    rotating is the way out then."""
    for key in context.store.list_keys(org):
        if key.active and context.keystore.has(org, key.key_id):
            context.keystore.signer(org, key.key_id, context.urls.did(org))  # ConfigurationError when it cannot
