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


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, summary=app.summary,
                                 description=app.description, routes=app.routes)
            schema.setdefault("components", {}).setdefault("schemas", {}).update(imported_components())
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
