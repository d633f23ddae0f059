"""The OpenAPI 3.1 document: FastAPI's, plus the published passport schemas as components (request bodies are
validated by the service, strictly, so FastAPI does not see their models) and every problem response."""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from passport.schema import schema_document

# component name prefix -> published schema
IMPORTED = {"Passport": "passport", "BatteryModel": "battery-model"}


def _rewrite_refs(node: Any, prefix: str) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/$defs/"):
                out[key] = f"#/components/schemas/{prefix}.{value.removeprefix('#/$defs/')}"
            else:
                out[key] = _rewrite_refs(value, prefix)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(item, prefix) for item in node]
    return node


REPURPOSE_REQUEST: dict[str, Any] = {
    "type": "object",
    "description": "The successor passport of a battery given a second life (Art. 77(7)).",
    "required": ["status", "passport"],
    "additionalProperties": False,
    "properties": {
        "status": {"enum": ["repurposed", "re-used", "remanufactured"]},
        "passport": {"type": "object", "description": "The successor's passport document (complete, or item data "
                                                      "with modelId); status and predecessor link are set for you"},
        "modelId": {"type": "string", "description": "A battery model of yours for the successor"},
    },
}


def _event_components() -> dict[str, Any]:
    from pydantic import TypeAdapter

    from passport.service.lifecycle import Event

    document = TypeAdapter(Event).json_schema(by_alias=True, mode="validation")
    definitions = document.pop("$defs", {})
    components = {"Event": _rewrite_refs(document, "Event")}
    components.update({f"Event.{key}": _rewrite_refs(body, "Event") for key, body in definitions.items()})
    return components


def imported_components() -> dict[str, Any]:
    components: dict[str, Any] = {"RepurposeRequest": REPURPOSE_REQUEST, **_event_components()}
    for prefix, name in IMPORTED.items():
        document = copy.deepcopy(schema_document(name))
        definitions = document.pop("$defs", {})
        document.pop("$schema", None)
        components[prefix] = _rewrite_refs(document, prefix)
        for key, body in definitions.items():
            components[f"{prefix}.{key}"] = _rewrite_refs(body, prefix)
    return components


PROBLEM = {"schema": {"$ref": "#/components/schemas/ProblemDocument"}}
PROBLEM_MEDIA = "application/problem+json"


def document_problems(schema: dict[str, Any]) -> None:
    """Every error response is what the one exception handler sends: ``application/problem+json`` (RFC 9457), plus
    the friendly HTML page on routes that also answer HTML. FastAPI documented its own 422 shape
    (``HTTPValidationError`` as ``application/json``) on routes without explicit problem responses, and the error
    responses of the routes with them also as ``application/json``: neither is ever sent."""
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            html = "text/html" in responses.get("200", {}).get("content", {})
            for status, response in responses.items():
                if status.isdigit() and int(status) >= 400:
                    response["content"] = {PROBLEM_MEDIA: PROBLEM} | ({"text/html": {}} if html else {})
    components = schema.get("components", {}).get("schemas", {})
    text = repr(schema.get("paths"))
    for name in ("HTTPValidationError", "ValidationError"):
        if name in components and f"#/components/schemas/{name}" not in text:
            del components[name]


# OpenAPI links (3.1 §4.8.20): how a response's values feed the next operation, so that clients and stateful
# testing (schemathesis) can follow a passport's life: issue -> read -> revise with If-Match -> events -> versions ->
# credential; a model -> its correction -> the re-issue job; an import -> its report; grants and access requests ->
# their revocation and decision; an organisation -> its keys. (source method, path, status) -> {link name: (target
# method, target path, {parameter: runtime expression})}. No link leads to issuing a passport: an operation with an
# incoming link is no longer a starting point of schemathesis' state machine, and every chain starts there.
Link = tuple[str, str, dict[str, str]]
PASSPORT = "/api/v1/passports/{passport_id}"
_ID = "$response.body#/passportId"
_ETAG = "$response.header.ETag"
_REQUEST = "$response.body#/id"


def _passport_links(etag: bool) -> dict[str, Link]:
    links: dict[str, Link] = {
        "ReadPassport": ("get", PASSPORT, {"passport_id": _ID}),
        "PassportVersions": ("get", f"{PASSPORT}/versions", {"passport_id": _ID}),
        "PassportCredential": ("get", f"{PASSPORT}/credential", {"passport_id": _ID}),
        "RecordEvent": ("post", f"{PASSPORT}/events", {"passport_id": _ID}),
        "SetOwner": ("put", f"{PASSPORT}/owner", {"passport_id": _ID}),
    }
    if etag:
        links["RevisePassport"] = ("patch", PASSPORT, {"passport_id": _ID, "header.if-match": _ETAG})
        links["RecordEventIfMatch"] = ("post", f"{PASSPORT}/events", {"passport_id": _ID, "header.if-match": _ETAG})
    return links


LINKS: dict[tuple[str, str, str], dict[str, Link]] = {
    ("post", "/api/v1/passports", "201"): _passport_links(etag=True),
    ("get", PASSPORT, "200"): _passport_links(etag=True),
    ("patch", PASSPORT, "200"): _passport_links(etag=True),
    ("post", f"{PASSPORT}/events", "201"): _passport_links(etag=False),
    ("get", f"{PASSPORT}/versions", "200"): {
        "VersionCredential": ("get", f"{PASSPORT}/credential",
                              {"passport_id": _ID, "version": "$response.body#/versions/0/version"}),
        "ReadVersion": ("get", PASSPORT, {"passport_id": _ID, "version": "$response.body#/versions/0/version"}),
    },
    ("post", f"{PASSPORT}/repurpose", "201"): {
        "ReadSuccessor": ("get", PASSPORT, {"passport_id": "$response.body#/successor/passportId"}),
        "ReadPredecessor": ("get", PASSPORT, {"passport_id": "$response.body#/predecessor/passportId"}),
    },
    ("post", "/api/v1/models", "201"): {
        "ReadModel": ("get", "/api/v1/models/{model_id}", {"model_id": "$response.body#/modelId"}),
        "CorrectModel": ("put", "/api/v1/models/{model_id}",
                         {"model_id": "$response.body#/modelId", "header.if-match": _ETAG}),
    },
    ("get", "/api/v1/models/{model_id}", "200"): {
        "CorrectModel": ("put", "/api/v1/models/{model_id}",
                         {"model_id": "$response.body#/modelId", "header.if-match": _ETAG}),
    },
    ("put", "/api/v1/models/{model_id}", "202"): {
        "ReadJob": ("get", "/api/v1/jobs/{job_id}", {"job_id": "$response.body#/job/jobId"}),
    },
    ("post", "/api/v1/imports", "200"): {
        "ReadImport": ("get", "/api/v1/imports/{import_id}", {"import_id": "$response.body#/importId"}),
    },
    ("post", "/api/v1/grants", "201"): {
        "RevokeGrant": ("delete", "/api/v1/grants/{grant_id}", {"grant_id": "$response.body#/id"}),
    },
    ("post", "/api/v1/access-requests", "201"): {
        "ApproveRequest": ("post", "/api/v1/access-requests/{request_id}/approve", {"request_id": _REQUEST}),
        "RefuseRequest": ("post", "/api/v1/access-requests/{request_id}/refuse", {"request_id": _REQUEST}),
    },
    ("post", "/api/v1/access-requests/{request_id}/approve", "200"): {
        "RevokeGrant": ("delete", "/api/v1/grants/{grant_id}", {"grant_id": "$response.body#/grantId"}),
    },
    ("post", "/api/v1/orgs", "201"): {
        "ReadOrganisation": ("get", "/api/v1/orgs/{slug}", {"slug": "$response.body#/slug"}),
        "OrganisationDid": ("get", "/orgs/{slug}/did.json", {"slug": "$response.body#/slug"}),
        "CreateApiKey": ("post", "/api/v1/orgs/{slug}/apikeys", {"slug": "$response.body#/slug"}),
        "ListApiKeys": ("get", "/api/v1/orgs/{slug}/apikeys", {"slug": "$response.body#/slug"}),
        "SigningKeys": ("get", "/api/v1/orgs/{slug}/keys", {"slug": "$response.body#/slug"}),
        "RotateKey": ("post", "/api/v1/orgs/{slug}/keys/rotate", {"slug": "$response.body#/slug"}),
        "Purposes": ("get", "/api/v1/orgs/{slug}/purposes", {"slug": "$response.body#/slug"}),
    },
    ("post", "/api/v1/orgs/{slug}/apikeys", "201"): {
        "RevokeApiKey": ("delete", "/api/v1/apikeys/{key_id}", {"key_id": "$response.body#/id"}),
    },
}


def document_links(schema: dict[str, Any]) -> None:
    """Add :data:`LINKS` to the responses they start from, naming their targets by operationId. A link whose source
    or target operation does not exist is an error here, not a silent gap in the document."""
    paths = schema.get("paths", {})

    def operation(method: str, path: str) -> dict[str, Any]:
        found = paths.get(path, {}).get(method)
        if not isinstance(found, dict):
            raise LookupError(f"OpenAPI link: no operation {method.upper()} {path}")
        return found

    for (method, path, status), links in LINKS.items():
        responses = operation(method, path)["responses"]
        if status not in responses:
            raise LookupError(f"OpenAPI link: {method.upper()} {path} documents no {status} response")
        documented = responses[status].setdefault("links", {})
        for name, (target_method, target_path, parameters) in links.items():
            target = operation(target_method, target_path)
            known = {(p["in"], p["name"]) for p in target.get("parameters", [])}
            for qualified in parameters:
                where, _, parameter = qualified.rpartition(".")
                if not any(p == parameter and (not where or where == place) for place, p in known):
                    raise LookupError(f"OpenAPI link {name}: {target_method.upper()} {target_path} has no "
                                      f"parameter {qualified}")
            documented[name] = {"operationId": target["operationId"], "parameters": dict(parameters)}


# Headers a route cannot do without, though its handler takes them as optional: so that a missing one is answered
# with the route's own problem (428 Precondition Required, 400) rather than a generic validation error. The document
# says what clients must send.
REQUIRED_HEADERS = (("patch", PASSPORT, "if-match"), ("put", "/api/v1/models/{model_id}", "if-match"),
                    ("post", "/api/v1/imports", "idempotency-key"))


def document_required_headers(schema: dict[str, Any]) -> None:
    paths = schema.get("paths", {})
    for method, path, header in REQUIRED_HEADERS:
        parameters = paths.get(path, {}).get(method, {}).get("parameters", [])
        found = [p for p in parameters if p["in"] == "header" and p["name"].lower() == header]
        if not found:
            raise LookupError(f"OpenAPI: {method.upper()} {path} has no header {header}")
        found[0]["required"] = True
        found[0]["schema"] = {key: value for key, value in found[0]["schema"].items() if key != "default"}
        if "anyOf" in found[0]["schema"]:  # Optional[str] in the handler: the document says a string
            found[0]["schema"] = next(s for s in found[0]["schema"]["anyOf"] if s.get("type") == "string")


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, summary=app.summary,
                                 description=app.description, routes=app.routes)
            schema.setdefault("components", {}).setdefault("schemas", {}).update(imported_components())
            document_problems(schema)
            document_links(schema)
            document_required_headers(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def body(component: str, *media_types: str, required: bool = True) -> dict[str, Any]:
    """``openapi_extra`` documenting a request body the route reads itself."""
    content = {media: {"schema": {"$ref": f"#/components/schemas/{component}"}} for media in media_types}
    return {"requestBody": {"required": required, "content": content}}


def free_body(schema: dict[str, Any], *media_types: str) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {media: {"schema": schema} for media in media_types}}}


__all__ = ["LINKS", "body", "document_links", "free_body", "imported_components", "install"]
