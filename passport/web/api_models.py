"""Battery models: registered once, referenced by passports; corrections re-issue every referencing passport."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from passport.access import Role, View, project
from passport.clock import rfc3339
from passport.errors import NotFound
from passport.service.access_control import AccessPolicy, log_model_reads
from passport.service.apikeys import Caller
from passport.service.context import ServiceContext
from passport.service.jobs import run_job
from passport.service.models import BatteryModels
from passport.storage import JobRecord, ModelRecord
from passport.web.auth import CallerDep, require
from passport.web.bodies import read_json
from passport.web.deps import Context
from passport.web.etags import etag, expected_version
from passport.web.openapi import body
from passport.web.responses import PROBLEMS
from passport.web.schemas import JobReport, ModelCorrected, ModelEnvelope, ModelList

router = APIRouter(prefix="/api/v1", tags=["battery models"])


def _model_views(context: ServiceContext, caller: Caller, records: list[ModelRecord]) -> list[View]:
    """Model data is passport data: the same audiences apply (composition is restricted, the test report is for
    authorities only, ...), and the same access policy: a legitimate-interest organisation reads a model's
    restricted data only with a grant for it or its manufacturer. Non-public reads are logged."""
    policy = AccessPolicy.load(context, caller)
    decisions = [(record, policy.decide_model(record)) for record in records]
    log_model_reads(context, caller, decisions)
    return [decision.view for _, decision in decisions]


def model_json(
    context: ServiceContext, record: ModelRecord, warnings: list[Any] | None = None, view: View = View.FULL
) -> dict[str, Any]:
    version = context.store.get_model_version(record.model_id, record.current_version)
    # Projected like a passport: returning the stored document to every caller leaked the restricted,
    # authorities-only and legitimate-interest-only model fields to the public.
    document = dict(version.document) if view is View.FULL else project(version.document, view)
    return {"modelId": record.model_id, "version": record.current_version, "organisation": record.organisation,
            "model": document, "warnings": [w.as_dict() for w in warnings or []]}


def job_json(job: JobRecord) -> dict[str, Any]:
    return {"jobId": job.job_id, "kind": job.kind, "subject": job.subject, "status": job.status,
            "createdAt": rfc3339(job.created_at), "updatedAt": rfc3339(job.updated_at), "report": list(job.report)}


@router.post("/models", response_model=ModelEnvelope, status_code=201, summary="Register a battery model",
             responses=PROBLEMS, openapi_extra=body("BatteryModel", "application/json"))
async def register(request: Request, context: Context, caller: CallerDep) -> JSONResponse:
    """Model-level data (schema ``battery-model``), validated with every business rule that concerns it."""
    organisation = require(caller, Role.MANUFACTURER)
    document = await read_json(request)
    record, warnings = await run_in_threadpool(BatteryModels(context).register, organisation, document)
    return JSONResponse(model_json(context, record, warnings), status_code=201,
                        headers={"Location": f"/api/v1/models/{record.model_id}", "ETag": etag(1, "model")})


@router.get("/models", response_model=ModelList, summary="Battery models", responses=PROBLEMS)
def list_models(context: Context, caller: CallerDep) -> dict[str, Any]:
    """The caller's organisation's models (a manufacturer), or every model (other roles), each in the caller's
    view as for a passport."""
    only = caller.organisation if caller.role is Role.MANUFACTURER else None
    records = context.store.list_models(only)
    views = _model_views(context, caller, records)
    return {"items": [model_json(context, record, view=view) for record, view in zip(records, views, strict=True)]}


@router.get("/models/{model_id}", response_model=ModelEnvelope, summary="A battery model", responses=PROBLEMS)
def read_model(model_id: str, context: Context, caller: CallerDep) -> JSONResponse:
    """The model data in the caller's view (the responsible manufacturer: all of it)."""
    record = context.store.get_model(model_id)
    [view] = _model_views(context, caller, [record])
    return JSONResponse(model_json(context, record, view=view),
                        headers={"ETag": etag(record.current_version, "model"), "Vary": "Authorization"})


@router.put("/models/{model_id}", response_model=ModelCorrected, status_code=202, summary="Correct a battery model",
            responses=PROBLEMS, openapi_extra=body("BatteryModel", "application/json"))
async def correct(
    model_id: str, request: Request, background: BackgroundTasks, context: Context, caller: CallerDep,
    if_match: Annotated[str | None, Header(description="ETag of the model version being corrected")] = None,
) -> JSONResponse:
    """A new model version, and a re-issue job giving every passport referencing the model a new signed version;
    follow the job at ``/api/v1/jobs/{jobId}`` for its per-passport report."""
    organisation = require(caller, Role.MANUFACTURER)
    document = await read_json(request)
    current = await run_in_threadpool(context.store.get_model, model_id)
    base = expected_version(if_match, current.current_version)
    record, job = await run_in_threadpool(BatteryModels(context).correct, model_id, organisation, document, base)
    background.add_task(run_job, context, job.job_id)
    return JSONResponse({"model": model_json(context, record), "job": job_json(job)}, status_code=202,
                        headers={"Location": f"/api/v1/jobs/{job.job_id}",
                                 "ETag": etag(record.current_version, "model")})


@router.get("/jobs/{job_id}", response_model=JobReport, summary="A background job and its report",
            responses=PROBLEMS)
def read_job(job_id: str, context: Context, caller: CallerDep) -> dict[str, Any]:
    organisation = require(caller, Role.MANUFACTURER, Role.ADMIN)
    job = context.store.get_job(job_id)
    if caller.role is not Role.ADMIN and job.organisation != organisation:
        raise NotFound(f"no job {job_id}")
    return job_json(job)
