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


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, summary=app.summary,
                                 description=app.description, routes=app.routes)
            schema.setdefault("components", {}).setdefault("schemas", {}).update(imported_components())
            document_problems(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def body(component: str, *media_types: str, required: bool = True) -> dict[str, Any]:
    """``openapi_extra`` documenting a request body the route reads itself."""
    content = {media: {"schema": {"$ref": f"#/components/schemas/{component}"}} for media in media_types}
    return {"requestBody": {"required": required, "content": content}}


def free_body(schema: dict[str, Any], *media_types: str) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {media: {"schema": schema} for media in media_types}}}


__all__ = ["body", "free_body", "imported_components", "install"]
