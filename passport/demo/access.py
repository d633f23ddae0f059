"""The demo's access records (Art. 77(2)): approved purposes, grants, a revoked grant, owners and access requests,
made through the access-control service as the access API would make them."""

from __future__ import annotations

import datetime as dt

from passport.demo.data import ORGANISATIONS
from passport.service.context import ServiceContext


def _access(context: ServiceContext, issued: dict[str, list[str]], models: dict[str, str]) -> None:
    """Who else may read what (Art. 77(2)): approved purposes, grants by manufacturer, model and passport, a revoked
    grant, an owner, and access requests approved, refused and pending, as the access API would record them."""
    from passport.access import Role
    from passport.service import access_management as access
    from passport.service.apikeys import Caller

    def caller(slug: str) -> Caller:
        role = {s: r for s, _, r in ORGANISATIONS}[slug]
        return Caller(Role(role), None if role == "admin" else slug)

    admin = Caller(Role.ADMIN, "operations")
    for slug, purpose in (
        ("recyclex", "recycler"),
        ("collectco", "recycler"),
        ("fixit", "repairer"),
        ("fleetco", "aggregator"),
    ):
        access.request_purpose(context, caller(slug), purpose)
        access.decide_purpose(context, admin, slug, purpose, approve=True)
    later = context.clock() + dt.timedelta(days=730)
    access.grant(context, caller("voltdrive"), "recyclex", "manufacturer", "voltdrive", "recycler", later)
    access.grant(context, caller("pedalvolt"), "fixit", "model", models["PV-625-NCA"], "repairer", later)
    revoked = access.grant(context, caller("gridstore"), "recyclex", "model", models["SEC100-LFP"], "recycler", later)
    access.revoke_grant(context, caller("gridstore"), revoked.grant_id)
    fleet = [p for p in issued["VD-75-NMC811"] if not context.store.get_passport(p).ceased][-5:]
    for passport_id in fleet:
        access.set_owner(context, caller("voltdrive"), passport_id, "fleetco")
    lfp = issued["SEC100-LFP"][-1]
    approved = access.request_access(
        context,
        caller("fixit"),
        "passport",
        lfp,
        "repairer",
        "Inverter fault on site; we need the dismantling and safety data.",
    )
    access.decide_request(context, caller("gridstore"), approved.request_id, True, later, None)
    refused = access.request_access(
        context, caller("fixit"), "model", models["LT-48-625"], "repairer", "Routine maintenance contract negotiation."
    )
    access.decide_request(
        context,
        caller("leadtrac"),
        refused.request_id,
        False,
        None,
        "No maintenance contract with FixIt; ask the fleet operator.",
    )
    access.request_access(
        context,
        caller("fixit"),
        "manufacturer",
        "voltdrive",
        "repairer",
        "Independent repair of VoltDrive packs (Art. 77(2)(b)).",
    )
