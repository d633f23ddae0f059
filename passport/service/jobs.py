"""Background jobs: the re-issue of passports after a battery model correction. A job records a per-passport
report as it goes and can be resumed: passports already on the new model version are skipped."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from passport.clock import truncate_ms
from passport.errors import PassportError, VersionConflict
from passport.service.context import ServiceContext
from passport.service.models import REISSUE, job_entry
from passport.service.passports import Passports

log = logging.getLogger("passport.jobs")
SAVE_EVERY = 50


def run_job(context: ServiceContext, job_id: str) -> None:
    job = context.store.get_job(job_id)
    if job.kind != REISSUE or job.status == "done":
        return
    model_id, _, number = job.subject.partition("@")
    model = context.store.get_model_version(model_id, int(number))
    report = list(job.report)
    job = replace(job, status="running", updated_at=truncate_ms(context.clock()))
    context.store.save_job(job)
    passports = Passports(context)
    for index, passport_id in enumerate(context.store.passports_of_model(model_id, int(number)), start=1):
        report.append(_reissue_one(passports, passport_id, model.document, int(number)))
        if index % SAVE_EVERY == 0:
            context.store.save_job(replace(job, report=tuple(report), updated_at=truncate_ms(context.clock())))
    context.store.save_job(replace(job, status="done", report=tuple(report), updated_at=truncate_ms(context.clock())))
    log.info("job %s done: %d passports", job_id, len(report))


def _reissue_one(passports: Passports, passport_id: str, document: Mapping[str, Any], number: int) -> dict[str, object]:
    for _ in range(3):  # a concurrent event on the same passport: read it again and retry
        try:
            issued = passports.reissue_with_model(passport_id, document, number)
            return job_entry(passport_id, issued.version.version)
        except VersionConflict:
            continue
        except PassportError as exc:
            return job_entry(passport_id, problem=f"{exc.slug}: {exc.detail}")
    return job_entry(passport_id, problem="version-conflict: the passport kept changing; retry the job")


def resume_unfinished(context: ServiceContext) -> None:
    for job_id in context.store.unfinished_jobs():
        run_job(context, job_id)


__all__ = ["resume_unfinished", "run_job"]
