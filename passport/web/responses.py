"""Shared response documentation: every problem status a route may answer, as RFC 9457 problem documents."""

from __future__ import annotations

import json
from typing import Any

from passport.web.schemas import ProblemDocument

PROBLEM_MEDIA = "application/problem+json"
_STATUSES = {
    400: "Malformed request (invalid JSON, bad parameter)",
    401: "Missing, unknown, expired or revoked API key",
    403: "Your role or organisation may not do this",
    404: "No such resource",
    409: "Conflict: a duplicate, a concurrent change or a forbidden lifecycle transition",
    410: "The passport has ceased (battery recycled)",
    412: "If-Match names an older version",
    413: "The body is too large",
    415: "Unsupported Content-Type",
    422: "The document or request is not valid (problems listed)",
    428: "If-Match is required",
    429: "Too many requests",
    503: "The database is unavailable; retry",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {
        status: {"description": _STATUSES[status], "model": ProblemDocument,
                 "content": {PROBLEM_MEDIA: {"schema": {"$ref": "#/components/schemas/ProblemDocument"}}}}
        for status in statuses
    }


PROBLEMS = problem_responses(400, 401, 403, 404, 409, 410, 412, 413, 415, 422, 428, 429, 503)


def json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


__all__ = ["PROBLEMS", "PROBLEM_MEDIA", "json_bytes", "problem_responses"]
