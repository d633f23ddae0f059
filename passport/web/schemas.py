"""Response shapes of the JSON API, for the OpenAPI document (responses are built from stored bytes and records;
these models say what they look like)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ApiModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProblemDocument(ApiModel):
    """RFC 9457 problem details; ``type`` is a stable relative URI, e.g. ``/problems/version-conflict``."""

    model_config = ConfigDict(extra="allow")
    type: str
    title: str
    status: int
    detail: str
    instance: str


class PassportEnvelope(ApiModel):
    passportId: str = Field(description="urn:uuid:… of the passport")
    version: int
    view: str = Field(description="public, legitimate_interest, authority or full")
    modelId: str | None = Field(description="Battery model the passport references, if any")
    passport: dict[str, Any] = Field(description="The passport document, restricted to the view")
    access: dict[str, Any] | None = Field(
        default=None, description="Present when an organisation with a legitimate interest gets the public view for "
        "want of custody, a grant or ownership: how to ask for access")


class IssuedPassport(PassportEnvelope):
    warnings: list[dict[str, Any]] = Field(default_factory=list)


class SearchPage(ApiModel):
    items: list[PassportEnvelope]
    next_cursor: str | None


class VersionInfo(ApiModel):
    version: int
    createdAt: str
    issuer: str
    fullViewHash: str | None = Field(default=None, description="Identifies the version (full view only)")
    warnings: list[dict[str, Any]] | None = Field(default=None, description="Full view only")


class VersionList(ApiModel):
    passportId: str
    ceased: bool
    versions: list[VersionInfo]


class RepurposeResult(ApiModel):
    successor: IssuedPassport
    predecessor: PassportEnvelope


class VerifyResult(ApiModel):
    verified: bool
    verificationMethod: str
    issuer: str


class ModelEnvelope(ApiModel):
    modelId: str
    version: int
    organisation: str
    model: dict[str, Any]
    warnings: list[dict[str, Any]] = Field(default_factory=list)


class ModelList(ApiModel):
    items: list[ModelEnvelope]


class JobReport(ApiModel):
    jobId: str
    kind: str
    subject: str
    status: str
    createdAt: str
    updatedAt: str
    report: list[dict[str, Any]]


class ModelCorrected(ApiModel):
    model: ModelEnvelope
    job: JobReport


class ImportResultLine(ApiModel):
    line: int
    passportId: str | None = None
    version: int | None = None
    problem: dict[str, Any] | None = None


class ImportReport(ApiModel):
    importId: str
    idempotencyKey: str
    status: str
    lines: int
    succeeded: int
    failed: int
    results: list[ImportResultLine]


class OrganisationOut(ApiModel):
    slug: str
    name: str
    did: str
    createdAt: str


class OrganisationIn(ApiModel):
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")
    name: str = Field(min_length=1, max_length=200)


class ApiKeyIn(ApiModel):
    role: str = Field(description="manufacturer, legitimate_interest, authority or admin")
    label: str = Field(default="", max_length=200)
    scopes: list[Literal["read", "write"]] = Field(
        default=["read", "write"], min_length=1, max_length=2,
        description="read: GET only; write: also POST, PUT, PATCH, DELETE (within what the role may do)")
    expiresAt: dt.datetime | None = Field(
        default=None, description="When the key stops working (RFC 3339); none: never")


class ApiKeyOut(ApiModel):
    id: str
    organisation: str
    role: str
    label: str
    prefix: str
    createdAt: str
    revokedAt: str | None
    lastUsedAt: str | None
    expiresAt: str | None
    scopes: list[str]


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The API key itself: shown once, never again")


class SigningKeyOut(ApiModel):
    keyId: str
    publicKeyMultibase: str
    state: str
    createdAt: str
    retiredAt: str | None
    revokedAt: str | None
