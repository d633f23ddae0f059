"""The PassportError tree. Each class carries its HTTP status and a stable problem-type slug; the web layer maps
the tree once to RFC 9457 problem+json and the CLI to one clear line and a non-zero exit.

    PassportError (500, internal-error)
    ├── InvalidInput (400, invalid-input)
    │   ├── DocumentInvalid (422, document-invalid)        carries the list of problems
    │   ├── IdempotencyKeyReused (422, idempotency-key-reused)
    │   ├── UnsupportedMediaType (415, unsupported-media-type)
    │   └── PayloadTooLarge (413, payload-too-large)
    ├── Unauthorized (401, unauthorized)
    ├── Forbidden (403, forbidden)
    ├── NotFound (404, not-found)
    ├── Gone (410, gone)
    ├── PreconditionRequired (428, precondition-required)
    ├── PreconditionFailed (412, precondition-failed)
    ├── Conflict (409, conflict)
    │   ├── VersionConflict (409, version-conflict)
    │   └── TransitionNotAllowed (409, transition-not-allowed)
    ├── ConversionError (422, conversion-error)
    ├── VerificationError (422, verification-failed)     carries a reason slug, e.g. key-revoked
    └── ConfigurationError (500, configuration-error)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One finding about a document: where (JSON pointer), what (plain language), how bad, which rule."""

    pointer: str
    message: str
    severity: Severity = "error"
    code: str = "schema"

    def as_dict(self) -> dict[str, Any]:
        return {"pointer": self.pointer, "message": self.message, "severity": self.severity, "code": self.code}


class PassportError(Exception):
    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def extensions(self) -> dict[str, Any]:
        """Extra members of the problem document."""
        return {}

    def headers(self) -> dict[str, str]:
        """Extra HTTP headers of the error response."""
        return {}


class InvalidInput(PassportError):
    status = 400
    slug = "invalid-input"
    title = "Invalid input"


class DocumentInvalid(InvalidInput):
    status = 422
    slug = "document-invalid"
    title = "The document is not a valid battery passport"

    def __init__(self, problems: list[Problem], detail: str | None = None) -> None:
        errors = [p for p in problems if p.severity == "error"]
        summary = (
            f"{len(errors)} problem(s) found; the first: {errors[0].pointer or '/'}: {errors[0].message}"
            if errors
            else "invalid document"
        )
        super().__init__(detail or summary)
        self.problems = problems

    def extensions(self) -> dict[str, Any]:
        return {"problems": [p.as_dict() for p in self.problems]}


class IdempotencyKeyReused(InvalidInput):
    status = 422
    slug = "idempotency-key-reused"
    title = "The Idempotency-Key was used for another request"


class UnsupportedMediaType(InvalidInput):
    status = 415
    slug = "unsupported-media-type"
    title = "Unsupported media type"


class Unauthorized(PassportError):
    status = 401
    slug = "unauthorized"
    title = "Authentication required"

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Bearer realm="passport"'}


class Forbidden(PassportError):
    status = 403
    slug = "forbidden"
    title = "Not allowed"


class NotFound(PassportError):
    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(PassportError):
    status = 409
    slug = "conflict"
    title = "Conflict"


class PreconditionRequired(PassportError):
    status = 428
    slug = "precondition-required"
    title = "If-Match is required"


class PreconditionFailed(PassportError):
    status = 412
    slug = "precondition-failed"
    title = "The passport has changed since the version you read"


class Gone(PassportError):
    status = 410
    slug = "gone"
    title = "This passport has ceased"


class PayloadTooLarge(InvalidInput):
    status = 413
    slug = "payload-too-large"
    title = "The request body is too large"


class VersionConflict(Conflict):
    slug = "version-conflict"
    title = "The passport has changed since the version you based your change on"


class TransitionNotAllowed(Conflict):
    slug = "transition-not-allowed"
    title = "This lifecycle transition is not allowed"


class ConversionError(PassportError):
    status = 422
    slug = "conversion-error"
    title = "The document cannot be converted"


class VerificationError(PassportError):
    """A signature, key or hash chain did not verify. ``reason`` is a stable slug (see docs/signing.md)."""

    status = 422
    slug = "verification-failed"
    title = "Verification failed"

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason

    def extensions(self) -> dict[str, Any]:
        return {"reason": self.reason}


class ConfigurationError(PassportError):
    status = 500
    slug = "configuration-error"
    title = "The service is not configured correctly"


__all__ = [
    "ConfigurationError",
    "Conflict",
    "ConversionError",
    "DocumentInvalid",
    "Forbidden",
    "Gone",
    "IdempotencyKeyReused",
    "InvalidInput",
    "NotFound",
    "PassportError",
    "PayloadTooLarge",
    "PreconditionFailed",
    "PreconditionRequired",
    "Problem",
    "Severity",
    "TransitionNotAllowed",
    "Unauthorized",
    "UnsupportedMediaType",
    "VerificationError",
    "VersionConflict",
]
