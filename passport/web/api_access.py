"""Scoped legitimate-interest access over HTTP: purposes of organisations, grants, access requests, battery owners,
the access log and the audit log."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from passport.access import Role
from passport.clock import rfc3339
from passport.errors import Forbidden, InvalidInput
from passport.service import access_management as access
from passport.service.access_json import access_json, audit_json, grant_json, request_json
from passport.service.passports import parse_passport_id
from passport.web.api_circularity import CSV_RESPONSE, csv_response, wants_csv
from passport.web.auth import CallerDep, require
from passport.web.deps import Context
from passport.web.responses import PROBLEMS

router = APIRouter(prefix="/api/v1", tags=["access"])
Purpose = Literal["recycler", "repairer", "remanufacturer", "second-life-operator", "aggregator"]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Scope(Body):
    kind: Literal["passport", "model", "manufacturer"]
    id: str = Field(min_length=1, max_length=64, description="passport id, battery model id or organisation slug")


class PurposeIn(Body):
    purpose: Purpose


class GrantIn(Body):
    grantee: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$", description="organisation slug")
    scope: Scope
    purpose: Purpose
    expiresAt: dt.datetime  # noqa: N815 - wire name


class RequestIn(Body):
    scope: Scope
    purpose: Purpose
    justification: str = Field(min_length=1, max_length=2000)


class ApproveIn(Body):
    expiresAt: dt.datetime  # noqa: N815 - wire name


class RefuseIn(Body):
    reason: str = Field(default="", max_length=2000)


class OwnerIn(Body):
    owner: str | None = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$", description="organisation slug; null: none")


def _scope_id(scope: Scope) -> str:
    return parse_passport_id(scope.id) if scope.kind == "passport" else scope.id


# --- purposes -------------------------------------------------------------------------------------------------


@router.get("/orgs/{slug}/purposes", summary="Purposes an organisation may claim", responses=PROBLEMS)
def list_purposes(slug: str, context: Context, caller: CallerDep) -> list[dict[str, Any]]:
    if caller.organisation != slug or caller.anonymous:
        require(caller, Role.ADMIN)
    context.store.get_organisation(slug)
    return [  # camelCase on the wire, like every other member (it was the store's requested_at, decided_at)
        {
            "organisation": p["organisation"],
            "purpose": p["purpose"],
            "status": p["status"],
            "requestedAt": rfc3339(p["requested_at"]),
            "decidedAt": rfc3339(p["decided_at"]) if p["decided_at"] else None,
        }
        for p in context.store.list_purposes(slug)
    ]


@router.post("/orgs/{slug}/purposes", status_code=202, summary="Ask to be approved for a purpose", responses=PROBLEMS)
def ask_purpose(slug: str, payload: PurposeIn, context: Context, caller: CallerDep) -> dict[str, str]:
    """A legitimate-interest organisation registers a purpose it means to claim (recycler, repairer,
    remanufacturer, second-life operator, aggregator); an administrator approves it."""
    require(caller, Role.MANUFACTURER, Role.LEGITIMATE_INTEREST)  # anonymous: 401, like every route needing a key
    if caller.organisation != slug:
        raise Forbidden("an organisation asks for its own purposes")
    status = access.request_purpose(context, caller, payload.purpose)
    return {"organisation": slug, "purpose": payload.purpose, "status": status}


@router.post(
    "/orgs/{slug}/purposes/{purpose}/{decision}", summary="Approve or refuse a purpose (admin)", responses=PROBLEMS
)
def decide_purpose(
    slug: str, purpose: Purpose, decision: Literal["approve", "refuse"], context: Context, caller: CallerDep
) -> dict[str, str]:
    require(caller, Role.ADMIN)
    access.decide_purpose(context, caller, slug, purpose, decision == "approve")
    return {"organisation": slug, "purpose": purpose, "status": "approved" if decision == "approve" else "refused"}


# --- grants ----------------------------------------------------------------------------------------------------


@router.post(
    "/grants", status_code=201, summary="Grant access to a passport, a model or all your passports", responses=PROBLEMS
)
def create_grant(payload: GrantIn, context: Context, caller: CallerDep) -> dict[str, Any]:
    """By the responsible operator, for a purpose the grantee is approved for, until an expiry (at most five
    years). A battery's owner may grant its battery to an aggregator."""
    require(caller, Role.MANUFACTURER, Role.LEGITIMATE_INTEREST)
    record = access.grant(
        context,
        caller,
        payload.grantee,
        payload.scope.kind,
        _scope_id(payload.scope),
        payload.purpose,
        payload.expiresAt,
    )
    return grant_json(record, context.clock())


@router.get("/grants", summary="Grants you gave and received", responses=PROBLEMS)
def list_grants(
    context: Context,
    caller: CallerDep,
    role: Annotated[Literal["grantor", "grantee", "both"], Query(alias="as")] = "both",
) -> dict[str, Any]:
    organisation = require(caller, Role.MANUFACTURER, Role.LEGITIMATE_INTEREST)
    given = context.store.list_grants(grantor=organisation) if role in ("grantor", "both") else []
    received = context.store.list_grants(grantee=organisation) if role in ("grantee", "both") else []
    now = context.clock()
    return {"given": [grant_json(g, now) for g in given], "received": [grant_json(g, now) for g in received]}


@router.delete("/grants/{grant_id}", status_code=204, summary="Revoke a grant", responses=PROBLEMS)
def delete_grant(grant_id: str, context: Context, caller: CallerDep) -> None:
    require(caller, Role.MANUFACTURER, Role.LEGITIMATE_INTEREST, Role.ADMIN)
    access.revoke_grant(context, caller, grant_id)


# --- access requests -------------------------------------------------------------------------------------------


@router.post("/access-requests", status_code=201, summary="Ask a responsible operator for access", responses=PROBLEMS)
def create_request(payload: RequestIn, context: Context, caller: CallerDep) -> dict[str, Any]:
    require(caller, Role.MANUFACTURER, Role.LEGITIMATE_INTEREST)
    record = access.request_access(
        context, caller, payload.scope.kind, _scope_id(payload.scope), payload.purpose, payload.justification
    )
    return request_json(record)


@router.get("/access-requests", summary="Access requests you made or must decide", responses=PROBLEMS)
def list_requests(
    context: Context,
    caller: CallerDep,
    status: Annotated[Literal["pending", "approved", "refused"] | None, Query()] = None,
) -> dict[str, Any]:
    organisation = require(caller, Role.MANUFACTURER, Role.LEGITIMATE_INTEREST)
    made = context.store.list_requests(requester=organisation, status=status)
    to_decide = context.store.list_requests(approver=organisation, status=status)
    return {"made": [request_json(r) for r in made], "toDecide": [request_json(r) for r in to_decide]}


@router.post(
    "/access-requests/{request_id}/approve", summary="Approve a request: creates the grant", responses=PROBLEMS
)
def approve(request_id: str, payload: ApproveIn, context: Context, caller: CallerDep) -> dict[str, Any]:
    require(caller, Role.MANUFACTURER, Role.LEGITIMATE_INTEREST)
    return request_json(access.decide_request(context, caller, request_id, True, payload.expiresAt))


@router.post("/access-requests/{request_id}/refuse", summary="Refuse a request", responses=PROBLEMS)
def refuse(request_id: str, payload: RefuseIn, context: Context, caller: CallerDep) -> dict[str, Any]:
    require(caller, Role.MANUFACTURER, Role.LEGITIMATE_INTEREST)
    return request_json(access.decide_request(context, caller, request_id, False, reason=payload.reason or None))


# --- owners ----------------------------------------------------------------------------------------------------


@router.put(
    "/passports/{passport_id}/owner", summary="Register the battery's owner", responses=PROBLEMS, tags=["passports"]
)
def put_owner(passport_id: str, payload: OwnerIn, context: Context, caller: CallerDep) -> dict[str, Any]:
    """The responsible operator or the holder names the organisation that owns the battery (``null``: none). The
    owner reads the battery's individual data and may delegate it to an aggregator with a grant."""
    require(caller, Role.MANUFACTURER, Role.LEGITIMATE_INTEREST)
    access.set_owner(context, caller, parse_passport_id(passport_id), payload.owner)
    return {"passportId": f"urn:uuid:{parse_passport_id(passport_id)}", "owner": payload.owner}


# --- logs ------------------------------------------------------------------------------------------------------


@router.get(
    "/access-log", summary="Who read non-public passport data", responses={**PROBLEMS, **CSV_RESPONSE}
)
async def access_log(
    request: Request,
    context: Context,
    caller: CallerDep,
    passport: Annotated[str | None, Query(max_length=45)] = None,
    reader: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[dt.datetime | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=10000)] = 1000,
    format_: Annotated[str | None, Query(alias="format", pattern="^(json|csv)$")] = None,
) -> Response:
    """A responsible operator reads the reads of its own passports (and aggregates over them); authorities read
    everything. Newest first."""
    manufacturer = None if caller.role is Role.AUTHORITY else require(caller, Role.MANUFACTURER)
    if since is not None and since.tzinfo is None:
        raise InvalidInput("since needs a time zone")
    entries = await run_in_threadpool(
        lambda: context.store.list_access(
            manufacturer=manufacturer,
            passport_id=parse_passport_id(passport) if passport else None,
            reader=reader,
            since=since,
            limit=limit,
        )
    )
    rows = [access_json(entry) for entry in entries]
    if wants_csv(request, format_):
        return csv_response(rows, "access-log.csv")
    from fastapi.responses import JSONResponse

    return JSONResponse({"entries": rows}, headers={"Cache-Control": "no-store"})


@router.get(
    "/audit-log", summary="Audit log of writes, access decisions and authentication failures", responses=PROBLEMS
)
def audit_log(
    context: Context,
    caller: CallerDep,
    subject: Annotated[str | None, Query(max_length=200)] = None,
    actor: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=10000)] = 1000,
) -> dict[str, Any]:
    require(caller, Role.AUTHORITY, Role.ADMIN)
    return {"entries": [audit_json(e) for e in context.store.list_audit(subject=subject, actor=actor, limit=limit)]}
