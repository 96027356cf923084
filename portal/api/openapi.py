"""GET /openapi.json: the OpenAPI 3.1 document, built from the route registry.

Every route declared with ``api_route`` lands in ``ROUTES``, so the document cannot miss one;
it is built on first request (all modules are imported by then) and cached per app.
"""

import re

from flask import current_app, jsonify
from pydantic.json_schema import models_json_schema

from .core import UNSAFE, bp
from .idempotency import HEADER as IDEMPOTENCY_HEADER
from .idempotency import MAX_KEY_LENGTH
from .registry import ROUTES, RouteSpec

PREFIX = "/v1/api"
REF = "#/components/schemas/{model}"
DOC_PATH = "/openapi.json"
_PARAM = re.compile(r"<(?:(?P<converter>[a-z]+):)?(?P<name>\w+)>")
_CONVERTER_TYPES = {"int": "integer", "float": "number"}
ERROR_STATUSES = {
    400: "Malformed request (bad JSON, bad header)",
    401: "Missing or invalid credentials",
    403: "The credentials lack the scope, or the feature is disabled",
    404: "Unknown route or id (ids of another company included)",
    409: "Conflict (stale version, idempotency key reused with another body)",
    415: "The body is not application/json",
    422: "Validation failed; details.fields names each field",
    429: "Rate limited; retry after Retry-After seconds",
}
_TIMESTAMP = {"type": "string", "format": "date-time"}
_COUNT = {"type": "integer", "minimum": 0}
ERROR_ENVELOPE = {
    "type": "object",
    "required": ["success", "timestamp", "error"],
    "properties": {
        "success": {"const": False},
        "timestamp": _TIMESTAMP,
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string", "pattern": "^[A-Z][A-Z0-9_]*$"},
                "message": {"type": "string"},
                "details": {"type": ["object", "null"]},
            },
        },
    },
}
PAGINATION = {
    "type": "object",
    "required": ["total", "limit", "offset", "has_more"],
    "properties": {
        "total": _COUNT,
        "limit": _COUNT,
        "offset": _COUNT,
        "has_more": {"type": "boolean"},
    },
}
SECURITY = {
    "secret": [{"ApiKey": []}],
    "publishable": [{"ApiKey": []}],
    "session": [{"PortalSession": []}],
    "none": [],
}


def openapi_path(rule: str) -> str:
    """Flask ``/customer/<customer_id>`` → OpenAPI ``/customer/{customer_id}``."""
    return _PARAM.sub(lambda m: "{" + m["name"] + "}", rule)


def _path_parameters(rule: str) -> list[dict]:
    return [
        {
            "name": m["name"],
            "in": "path",
            "required": True,
            "schema": {"type": _CONVERTER_TYPES.get(m["converter"], "string")},
        }
        for m in _PARAM.finditer(rule)
    ]


def _query_parameters(schema: dict) -> list[dict]:
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop}
        for name, prop in schema.get("properties", {}).items()
    ]


def _idempotency_parameter() -> dict:
    return {
        "name": IDEMPOTENCY_HEADER,
        "in": "header",
        "required": False,
        "description": "Replays the first response for the same key and body (24 h or more).",
        "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
    }


def _success_schema(spec: RouteSpec, data: dict) -> dict:
    if spec.paginated:
        data = {"type": "array", "items": data}
    properties = {
        "success": {"const": True},
        "timestamp": _TIMESTAMP,
        "data": data,
        "message": {"type": "string"},
    }
    required = ["success", "timestamp", "data", "message"]
    if spec.paginated:
        properties["pagination"] = {"$ref": REF.format(model="Pagination")}
        required.append("pagination")
    return {"type": "object", "required": required, "properties": properties}


def _error_statuses(spec: RouteSpec) -> list[int]:
    statuses = [400, 404, 422, 429]
    if spec.auth != "none":
        statuses += [401, 403]
    if spec.method in UNSAFE:
        statuses.append(409)
    if spec.method in ("POST", "PATCH", "PUT"):
        statuses.append(415)
    return sorted(statuses)


def _responses(spec: RouteSpec, data: dict) -> dict:
    responses = {
        str(spec.status): {
            "description": spec.summary,
            "content": {"application/json": {"schema": _success_schema(spec, data)}},
        }
    }
    for status in _error_statuses(spec):
        responses[str(status)] = {"$ref": f"#/components/responses/Error{status}"}
    return responses


def _operation(spec: RouteSpec, endpoint: str, refs: dict, defs: dict) -> dict:
    parameters = _path_parameters(spec.rule)
    if spec.query is not None:
        name = refs[(spec.query, "validation")]["$ref"].rsplit("/", 1)[-1]
        parameters += _query_parameters(defs[name])
    if spec.method in UNSAFE:
        parameters.append(_idempotency_parameter())
    data = refs[(spec.response, "serialization")] if spec.response else {}
    operation = {
        "operationId": endpoint,
        "summary": spec.summary,
        "tags": [spec.tag],
        "security": SECURITY[spec.auth],
        "parameters": parameters,
        "responses": _responses(spec, data),
    }
    if spec.body is not None:
        operation["requestBody"] = {
            "required": False,
            "content": {"application/json": {"schema": refs[(spec.body, "validation")]}},
        }
    return operation


def _model_schemas() -> tuple[dict, dict]:
    """One pass over every model, so two models with the same name get distinct entries."""
    models = set()
    for spec in ROUTES:
        models.update((m, "validation") for m in (spec.body, spec.query) if m is not None)
        if spec.response is not None:
            models.add((spec.response, "serialization"))
    ordered = sorted(models, key=lambda pair: (pair[0].__module__, pair[0].__qualname__, pair[1]))
    refs, top = models_json_schema(ordered, ref_template=REF)
    return refs, top.get("$defs", {})


def _endpoints() -> dict[tuple[str, str], str]:
    """(rule, method) → the Flask endpoint name, used as a readable, unique operationId."""
    found = {}
    for rule in current_app.url_map.iter_rules():
        if rule.rule.startswith(PREFIX + "/") and rule.endpoint.startswith("api."):
            for method in rule.methods:
                found[(rule.rule[len(PREFIX) :], method)] = rule.endpoint.split(".", 1)[1]
    return found


def _components(defs: dict) -> dict:
    error = {"$ref": REF.format(model="ErrorEnvelope")}
    responses = {
        f"Error{status}": {
            "description": text,
            "content": {"application/json": {"schema": error}},
        }
        for status, text in ERROR_STATUSES.items()
    }
    responses["Error429"]["headers"] = {
        "Retry-After": {"schema": {"type": "integer", "minimum": 1}},
    }
    return {
        "schemas": {**defs, "ErrorEnvelope": ERROR_ENVELOPE, "Pagination": PAGINATION},
        "responses": responses,
        "securitySchemes": {
            "ApiKey": {"type": "apiKey", "in": "header", "name": "x-easy-api-key"},
            "PortalSession": {"type": "http", "scheme": "bearer"},
        },
    }


def _self_operation() -> dict:
    return {
        "operationId": "openapi_document",
        "summary": "This OpenAPI document",
        "tags": ["Meta"],
        "security": [],
        "responses": {
            "200": {
                "description": "The OpenAPI 3.1 document",
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
            "429": {"$ref": "#/components/responses/Error429"},
        },
    }


def build_document() -> dict:
    refs, defs = _model_schemas()
    endpoints = _endpoints()
    paths: dict[str, dict] = {DOC_PATH: {"get": _self_operation()}}
    for spec in ROUTES:
        fallback = re.sub(r"\W+", "_", f"{spec.method.lower()}{spec.rule}").strip("_")
        endpoint = endpoints.get((spec.rule, spec.method), fallback)
        operations = paths.setdefault(openapi_path(spec.rule), {})
        operations[spec.method.lower()] = _operation(spec, endpoint, refs, defs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Billing portal API",
            "version": "1",
            "description": "Merchant and portal-session JSON API (wire format of api-conventions).",
        },
        "servers": [{"url": PREFIX}],
        "tags": [{"name": tag} for tag in sorted({s.tag for s in ROUTES} | {"Meta"})],
        "paths": dict(sorted(paths.items())),
        "components": _components(defs),
    }


def document() -> dict:
    """The app's document, built once (building twice in a race is harmless)."""
    cached = current_app.extensions.get("openapi_document")
    if cached is None:
        cached = current_app.extensions["openapi_document"] = build_document()
    return cached


@bp.get(DOC_PATH)
def openapi_document():
    return jsonify(document())
