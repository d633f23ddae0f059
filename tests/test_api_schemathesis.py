"""Must show 5 of the API issue: schemathesis against the app's own OpenAPI document, in-process (ASGI), bounded,
finds no 500 and no response that breaks the documented schema: status code, content type, headers, body.

One run as an anonymous caller, one with a manufacturer's API key; each operation gets valid (positive) and
invalid (negative) requests; path parameters name real passports, models, jobs and imports half of the time so
that the documented 200 responses are exercised too."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import Case
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Ok
from schemathesis.generation.modes import GenerationMode

from passport.access import Role
from passport.service.apikeys import Caller
from passport.service.context import ServiceContext
from passport.service.imports import Importer, Splitter, finish, open_import
from passport.service.jobs import run_job
from passport.service.models import BatteryModels, item_part, model_part
from passport.service.passports import Passports
from passport.web.app import create_app
from tests.api_fixtures import OWNER, OWNER_ORG, seed_roles

EXAMPLES_PER_OPERATION = 8
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
# Found by this test in modules of another owner, reported to it (web/identity.py documents application/json for
# responses it sends as application/jwk-set+json and application/ld+json: a `responses={200: {"content": {...}}}`
# on each route fixes it). Only that one check is skipped there; delete the entry once fixed.
KNOWN_ELSEWHERE: dict[str, object] = {}


@dataclass
class Seeded:
    app: Any
    key: str
    ids: dict[str, list[str]]  # path parameter name -> real values


def seed(context: ServiceContext, example: Callable[[str], dict[str, Any]]) -> Seeded:
    """One organisation's passports (three categories, one ceased, one from a model), a corrected model with its
    job, and an import."""
    keys = seed_roles(context)
    passports = Passports(context)
    ids = [passports.issue(OWNER_ORG, example(name)).passport_id
           for name in ("passport-ev", "passport-lmt", "passport-industrial")]
    lmt = example("passport-lmt")
    models = BatteryModels(context)
    model, _ = models.register(OWNER_ORG, model_part(lmt))
    item = item_part(lmt)
    item.pop("passportId")
    item["general"]["serialNumber"] = "SCHEMA-1"
    ids.append(passports.issue(OWNER_ORG, item, model.model_id).passport_id)
    _, job = models.correct(model.model_id, OWNER_ORG, model_part(lmt), 1)
    run_job(context, job.job_id)
    session, _ = open_import(context, Caller(Role.MANUFACTURER, OWNER_ORG), "seed")
    importer = Importer(session)
    line = json.dumps({"passportId": ids[2], "event": {"type": "status-change", "status": "waste"}}).encode()
    importer.run(Splitter(session, "ndjson").feed([line], final=True))
    importer.flush()
    record = finish(session)
    from passport.service.lifecycle import Lifecycle, Recycled

    Lifecycle(passports).apply(ids[2], OWNER_ORG, Recycled(type="recycled"))
    app = create_app(context.settings, context)
    return Seeded(app, keys[OWNER], {
        "passport_id": ids, "model_id": [model.model_id], "job_id": [job.job_id], "import_id": [record.import_id],
        "slug": [OWNER_ORG], "key_id": [], "name": ["passport", "battery-model"]})


@pytest.fixture
def seeded(context_factory: Callable[..., ServiceContext], example: Callable[[str], dict[str, Any]]) -> Seeded:
    return seed(context_factory(), example)


def operations(app: Any) -> Iterator[Any]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # the document itself is valid
        yield result.ok()


def exercise(seeded: Seeded, authorization: dict[str, str]) -> dict[str, str]:
    """Run every operation in both generation modes; the failures found, by operation."""
    failures: dict[str, str] = {}
    for operation in operations(seeded.app):
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                run(seeded, operation, mode, authorization)
            except Unsatisfiable:
                continue  # nothing invalid to send (no parameters, no body)
            except (Exception, BaseExceptionGroup) as exc:  # what schemathesis found, and how to reproduce it
                failures[f"{operation.label} ({mode.value})"] = str(exc)
    return failures


def run(seeded: Seeded, operation: Any, mode: GenerationMode, authorization: dict[str, str]) -> None:
    checks = [check for check in CHECKS if KNOWN_ELSEWHERE.get(operation.label) is not check]

    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode), real=st.integers(0, 7))
    def check(case: Case[Any], real: int) -> None:
        for name, values in seeded.ids.items():
            if name in (case.path_parameters or {}) and values and real % 2 == 0:
                case.path_parameters[name] = values[real // 2 % len(values)]
        case.call_and_validate(headers=authorization, checks=checks)

    check()


def test_anonymous_callers(seeded: Seeded) -> None:
    failures = exercise(seeded, {})
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())


def test_a_manufacturer(seeded: Seeded) -> None:
    failures = exercise(seeded, {"Authorization": f"Bearer {seeded.key}"})
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
