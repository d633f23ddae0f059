"""The passport API: issue, read (the caller's view), revise with If-Match, versions, credentials, lifecycle
events, repurposing, search with keyset pagination and CSV export."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse

from passport.access import Role, View, view_contains
from passport.clock import rfc3339
from passport.errors import Forbidden, Gone, InvalidInput, PreconditionFailed, VersionConflict
from passport.service.access_control import NO_ACCESS_NOTE, AccessPolicy, Decision, log_reads
from passport.service.apikeys import Caller
from passport.service.context import ServiceContext
from passport.service.lifecycle import Lifecycle, parse_event
from passport.service.passports import Issued, Passports, full_document, parse_passport_id
from passport.service.search import all_pages, build_query, csv_lines, logged, search
from passport.storage import PassportRecord, VersionRecord
from passport.web.auth import CallerDep, require
from passport.web.bodies import MERGE_PATCH_TYPES, read_json
from passport.web.deps import Context
from passport.web.etags import etag, expected_version
from passport.web.openapi import body, free_body
from passport.web.responses import PROBLEMS, json_bytes
from passport.web.schemas import IssuedPassport, PassportEnvelope, RepurposeResult, SearchPage, VersionList

router = APIRouter(prefix="/api/v1/passports", tags=["passports"])
PassportId = Annotated[str, "the bare UUID of the passport (urn:uuid: also accepted)"]
VersionParam = Annotated[int | None, Query(ge=1, le=2**31 - 1, description="A version number (default: current)")]
VIEW_MEDIA = "application/vc"


def envelope(record: PassportRecord, version: VersionRecord, view: View) -> dict[str, Any]:
    passport = json.loads(version.credential(view.value))["credentialSubject"]["passport"]
    return {"passportId": f"urn:uuid:{record.passport_id}", "version": version.version, "view": view.value,
            "modelId": record.model_id, "passport": passport}


def _issued_response(
    context: ServiceContext, issued: Issued, status: int = 201, caller: Caller | None = None
) -> JSONResponse:
    """The new version, in the full view for its responsible operator; in ``caller``'s own view otherwise (a
    holder recording a custody event must not get authority-only data back)."""
    view = View.FULL
    if caller is not None and caller.organisation != issued.passport.organisation:
        decision = AccessPolicy.load(context, caller).decide(issued.passport)
        view = decision.view
        log_reads(context, caller, [(issued.passport, decision)], "api")
    content = {**envelope(issued.passport, issued.version, view),
               "warnings": [w.as_dict() for w in issued.warnings]}
    headers = {"ETag": etag(issued.version.version, view.value),
               "Location": context.urls.api_passport(issued.passport_id)}
    return JSONResponse(content, status_code=status, headers=headers)


def _decide(context: ServiceContext, caller: Caller, record: PassportRecord) -> Decision:
    """The caller's view of this passport (its access policy: role, responsibility, custody, grants, ownership)."""
    decision = AccessPolicy.load(context, caller).decide(record)
    if record.ceased and decision.view is View.PUBLIC:
        raise Gone(f"passport {record.passport_id} has ceased: the battery was recycled (Art. 77(8))")
    return decision


def _access_headers(caller: Caller, decision: Decision) -> dict[str, str]:
    """Say so when an organisation with a legitimate interest gets the public view for want of access."""
    if decision.limited and caller.role in (Role.LEGITIMATE_INTEREST, Role.MANUFACTURER):
        return {"Passport-Access": 'public; reason="no custody, grant or ownership"'}
    return {}


def _access_member(caller: Caller, decision: Decision) -> dict[str, Any]:
    if decision.limited and caller.role in (Role.LEGITIMATE_INTEREST, Role.MANUFACTURER):
        return {"access": {"view": "public", "note": NO_ACCESS_NOTE}}
    return {}


@router.post("", status_code=201, response_model=IssuedPassport, summary="Issue a passport",
             responses={**PROBLEMS, 201: {"description": "Issued: version 1, signed in every view",
                                          "headers": {"Location": {"schema": {"type": "string"}},
                                                      "ETag": {"schema": {"type": "string"}}}}},
             openapi_extra=body("Passport", "application/json"))
async def issue(
    request: Request, context: Context, caller: CallerDep,
    model_id: Annotated[str | None, Query(alias="modelId", max_length=36,
                                          description="A battery model of yours: the body then holds item "
                                                      "data")] = None,
) -> JSONResponse:
    """Validate, sign and store version 1 of a passport for the caller's organisation (role manufacturer)."""
    organisation = require(caller, Role.MANUFACTURER)
    document = await read_json(request)
    if not isinstance(document, dict):
        raise InvalidInput("the body is a passport document: a JSON object")
    issued = await run_in_threadpool(Passports(context).issue, organisation, document, model_id)
    return _issued_response(context, issued)


@router.get("/{passport_id}", response_model=PassportEnvelope, summary="Read a passport in your view",
            responses={**PROBLEMS, 200: {"headers": {"ETag": {"schema": {"type": "string"}}}}})
def read(passport_id: PassportId, context: Context, caller: CallerDep, version: VersionParam = None) -> JSONResponse:
    """The passport as the caller's role may see it (DESIGN §3): anonymous and admins the public view, persons with a
    legitimate interest and authorities theirs, the responsible manufacturer the full view."""
    record = context.store.get_passport(parse_passport_id(passport_id))
    decision = _decide(context, caller, record)
    view = decision.view
    stored = context.store.get_version(record.passport_id, version)
    log_reads(context, caller, [(record, decision)], "api")
    return JSONResponse({**envelope(record, stored, view), **_access_member(caller, decision)},
                        headers={"ETag": etag(stored.version, view.value), "Vary": "Authorization",
                                 **_access_headers(caller, decision)})


@router.patch("/{passport_id}", response_model=IssuedPassport, summary="Revise a passport (JSON Merge Patch)",
              responses={**PROBLEMS, 200: {"headers": {"ETag": {"schema": {"type": "string"}}}}},
              openapi_extra=free_body({"type": "object"}, "application/merge-patch+json", "application/json"))
async def revise(
    passport_id: PassportId, request: Request, context: Context, caller: CallerDep,
    if_match: Annotated[str | None, Header(description="ETag of the version the change is based on")] = None,
) -> JSONResponse:
    """A new signed version from a JSON Merge Patch (RFC 7396) of the current one. If-Match is required (428);
    a stale one gets 412. Status and second-life links change only through events and repurposing (409)."""
    organisation = require(caller, Role.MANUFACTURER)
    patch = await read_json(request, MERGE_PATCH_TYPES)
    if not isinstance(patch, dict):
        raise InvalidInput("a merge patch of a passport is a JSON object")
    record = await run_in_threadpool(context.store.get_passport, parse_passport_id(passport_id))
    if record.organisation != organisation:
        raise Forbidden(f"passport {record.passport_id} is the responsibility of another organisation")
    base = expected_version(if_match, record.current_version)
    try:
        issued = await run_in_threadpool(Passports(context).revise, record.passport_id, organisation, patch, base)
    except VersionConflict:
        # Another writer committed version base+1 between the If-Match check and this write (the store's
        # optimistic UPDATE ... WHERE current_version = base refused it): for the client that is the same stale
        # precondition as when the check itself had failed, so 412, not a 409.
        raise PreconditionFailed(_stale(base)) from None
    return _issued_response(context, issued, 200)


def _stale(base: int) -> str:
    return (f"the passport changed after version {base}, which If-Match names: read it again and re-apply your "
            "change")


@router.get("/{passport_id}/versions", response_model=VersionList, summary="Version history",
            responses=PROBLEMS)
def versions(passport_id: PassportId, context: Context, caller: CallerDep) -> dict[str, Any]:
    """Every version's number, time and issuer; the full view also gets each version's hash and warnings."""
    record = context.store.get_passport(parse_passport_id(passport_id))
    decision = _decide(context, caller, record)
    view = decision.view
    log_reads(context, caller, [(record, decision)], "versions")
    listed = []
    for stored in context.store.list_versions(record.passport_id):
        item: dict[str, Any] = {"version": stored.version, "createdAt": rfc3339(stored.created_at),
                                "issuer": stored.signed_by}
        if view is View.FULL:
            item |= {"fullViewHash": stored.full_hash, "warnings": list(stored.warnings)}
        listed.append(item)
    return {"passportId": f"urn:uuid:{record.passport_id}", "ceased": record.ceased, "versions": listed}


@router.get("/{passport_id}/credential", summary="The signed credential of a version and view",
            response_class=Response,
            responses={**PROBLEMS, 200: {"content": {VIEW_MEDIA: {}, "application/vc+jwt": {}}}})
def credential(
    passport_id: PassportId, context: Context, caller: CallerDep, version: VersionParam = None,
    view: Annotated[View | None, Query(description="public, legitimate_interest, authority or full; never above "
                                                   "your role's view (default: your view)")] = None,
    format: Annotated[str, Query(pattern="^(di|jwt)$", description="di: Data Integrity proof (as stored); "
                                                                    "jwt: VC-JOSE compact JWS")] = "di",
) -> Response:
    """The W3C VC 2.0 credential exactly as signed and stored (``eddsa-jcs-2022``), or enveloped as a JWS."""
    record = context.store.get_passport(parse_passport_id(passport_id))
    decision = _decide(context, caller, record)
    allowed = decision.view
    chosen = view or allowed
    if not view_contains(allowed, chosen):
        raise Forbidden(f"your view of this passport is {allowed.value}; the {chosen.value} view is not yours to read")
    stored = context.store.get_version(record.passport_id, version)
    if chosen is not View.PUBLIC:
        log_reads(context, caller, [(record, Decision(chosen, decision.basis, decision.grant_id))], "credential")
    if format == "jwt":
        from passport.jose import MEDIA_TYPE
        from passport.jose import envelope as jws
        from passport.service.organisations import signer_for

        signer = signer_for(context, record.organisation)
        return Response(jws(json.loads(stored.credential(chosen.value)), signer), media_type=MEDIA_TYPE)
    return Response(stored.credential(chosen.value), media_type=VIEW_MEDIA,
                    headers={"ETag": etag(stored.version, chosen.value), "Vary": "Authorization"})


@router.post("/{passport_id}/events", response_model=IssuedPassport, status_code=201,
             summary="Record a lifecycle event", responses=PROBLEMS,
             openapi_extra=free_body({"$ref": "#/components/schemas/Event"}, "application/json"))
async def events(
    passport_id: PassportId, request: Request, context: Context, caller: CallerDep,
    if_match: Annotated[str | None, Header(description="Optional: refuse (412) unless this is still current")] = None,
) -> JSONResponse:
    """``state-of-health`` readings, a ``negative-event``, a ``status-change`` to waste (by the responsible operator
    or the holder); custody and end-of-life events ``transfer``, ``delegation``, ``collected``,
    ``received-for-treatment``, ``dismantled`` and ``recycled`` with the recovered masses (a waste battery only: the
    passport then ceases, Art. 77(8)). Each is a new signed version; a forbidden transition is 409, an event by the
    wrong organisation 403."""
    organisation = require(caller, Role.MANUFACTURER, Role.LEGITIMATE_INTEREST)
    raw = await read_json(request)
    event = parse_event(json_bytes(raw))
    record = await run_in_threadpool(context.store.get_passport, parse_passport_id(passport_id))
    base = expected_version(if_match, record.current_version, required=False)
    try:
        issued = await run_in_threadpool(Lifecycle(Passports(context)).apply, record.passport_id, organisation,
                                         event, base if if_match else None)
    except VersionConflict:
        if if_match:  # as for PATCH: the precondition the client set no longer holds
            raise PreconditionFailed(_stale(base)) from None
        raise
    return await run_in_threadpool(_issued_response, context, issued, 201, caller)


@router.post("/{passport_id}/repurpose", response_model=RepurposeResult, status_code=201,
             summary="Give the battery a second life (new linked passport)", responses=PROBLEMS,
             openapi_extra=free_body({"$ref": "#/components/schemas/RepurposeRequest"}, "application/json"))
async def repurpose(passport_id: PassportId, request: Request, context: Context, caller: CallerDep) -> JSONResponse:
    """Art. 77(7): creates the successor passport (status repurposed, re-used or remanufactured) linked to this
    one, which is frozen with the same status. Body: ``{"status", "passport": {…}, "modelId"?}``."""
    organisation = require(caller, Role.MANUFACTURER)
    raw = await read_json(request)
    if not isinstance(raw, dict) or not isinstance(raw.get("passport"), dict) or not isinstance(raw.get("status"), str):
        raise InvalidInput('the body is {"status": "repurposed|re-used|remanufactured", "passport": {…}}')
    extra = set(raw) - {"status", "passport", "modelId"}
    if extra:
        raise InvalidInput(f"unknown member(s): {', '.join(sorted(extra))}")
    model_id = raw.get("modelId")
    if model_id is not None and not isinstance(model_id, str):
        raise InvalidInput("modelId: a string")
    new, old = await run_in_threadpool(Lifecycle(Passports(context)).repurpose, parse_passport_id(passport_id),
                                       organisation, raw["status"], raw["passport"], model_id)
    content = {"successor": {**envelope(new.passport, new.version, View.FULL),
                             "warnings": [w.as_dict() for w in new.warnings]},
               "predecessor": envelope(old.passport, old.version, View.FULL)}
    return JSONResponse(content, status_code=201, headers={"Location": context.urls.api_passport(new.passport_id)})


@router.get("", response_model=SearchPage, summary="Search passports",
            responses={**PROBLEMS, 200: {"content": {"text/csv": {}},
                                         "headers": {"Link": {"schema": {"type": "string"}}}}})
def search_passports(
    request: Request, context: Context, caller: CallerDep,
    gtin: Annotated[str | None, Query(pattern=r"^[0-9]{14}$")] = None,
    serial: Annotated[str | None, Query(max_length=20)] = None,
    manufacturer: Annotated[str | None, Query(max_length=64, description="Organisation slug")] = None,
    model: Annotated[str | None, Query(max_length=36, description="Battery model id")] = None,
    category: Annotated[str | None, Query(pattern="^(ev|lmt|industrial|stationary)$")] = None,
    chemistry: Annotated[str | None, Query(max_length=20)] = None,
    status: Annotated[str | None, Query(pattern="^(original|repurposed|re-used|remanufactured|waste)$",
                                        description="Needs a view containing the status")] = None,
    updated_since: Annotated[dt.datetime | None, Query(alias="updatedSince")] = None,
    updated_before: Annotated[dt.datetime | None, Query(alias="updatedBefore")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    """Passports matching every filter given, each in the caller's view, ordered by issue time (by update time with
    updatedSince or updatedBefore). A role may filter only by fields its view contains (403 otherwise).
    ``Accept: text/csv`` streams every page as CSV."""
    filters = {"gtin": gtin, "serial": serial, "manufacturer": manufacturer, "model": model, "category": category,
               "chemistry": chemistry, "status": status}
    since, before = _aware(updated_since), _aware(updated_before)
    policy = AccessPolicy.load(context, caller)
    query = build_query(policy, filters, updated_since=since, updated_before=before, cursor=cursor, limit=limit)
    if "text/csv" in request.headers.get("accept", ""):
        first = search(context, policy, query)
        return StreamingResponse(csv_lines(all_pages(context, policy, query, first, "csv"), first.view),
                                 media_type="text/csv",
                                 headers={"Content-Disposition": 'attachment; filename="passports.csv"'})
    page = logged(context, search(context, policy, query), caller, "search")
    headers = {"Vary": "Authorization, Accept"}
    if page.next_cursor:
        params = dict(request.query_params) | {"cursor": page.next_cursor}
        headers["Link"] = f'<{request.url.path}?{_encode(params)}>; rel="next"'
    return JSONResponse({"items": [row.as_json() for row in page.rows], "next_cursor": page.next_cursor},
                        headers=headers)


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is not None and moment.tzinfo is None:
        raise InvalidInput("updatedSince/updatedBefore need a time zone, e.g. 2026-11-25T10:00:00Z")
    return moment


def _encode(params: dict[str, str]) -> str:
    from urllib.parse import urlencode

    return urlencode(params)


__all__ = ["envelope", "full_document", "router"]
