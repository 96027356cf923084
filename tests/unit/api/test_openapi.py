"""The OpenAPI document lists every /v1/api route, and it is structurally sound."""

import pytest

from portal.api.openapi import openapi_path
from portal.api.registry import ROUTES

from .apiworld import route_id

PREFIX = "/v1/api"
METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def doc(client):
    response = client.get(f"{PREFIX}/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def api_operations(app) -> set[tuple[str, str]]:
    """(OpenAPI path, method) of every rule the app serves under /v1/api."""
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(PREFIX + "/"):
            path = openapi_path(rule.rule[len(PREFIX) :])
            found |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    return found


def documented(doc) -> set[tuple[str, str]]:
    return {(p, m) for p, ops in doc["paths"].items() for m in ops if m in METHODS}


def resolve(doc, ref: str):
    assert ref.startswith("#/"), ref
    node = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"unresolvable $ref {ref}"
        node = node[part]
    return node


def refs_in(node):
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from refs_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs_in(value)


def operation(doc, spec):
    return doc["paths"][openapi_path(spec.rule)][spec.method.lower()]


def test_every_served_route_is_documented_and_nothing_else(app, doc):
    served = api_operations(app)
    assert ("/openapi.json", "get") in served
    assert served - documented(doc) == set(), "routes missing from the OpenAPI document"
    assert documented(doc) - served == set(), "documented operations the app does not serve"


def test_every_registered_route_is_served(app):
    # api_route registers both; a route in ROUTES the app cannot serve would be a phantom.
    served = api_operations(app)
    missing = [
        route_id(s) for s in ROUTES if (openapi_path(s.rule), s.method.lower()) not in served
    ]
    assert missing == []


def test_document_is_structurally_valid(doc):
    assert doc["openapi"] == "3.1.0"
    assert doc["info"]["title"] and doc["info"]["version"]
    assert doc["servers"] == [{"url": PREFIX}]
    for ref in set(refs_in(doc)):
        resolve(doc, ref)
    operation_ids = [op["operationId"] for _, ops in doc["paths"].items() for op in ops.values()]
    assert len(operation_ids) == len(set(operation_ids)), "operationIds must be unique"
    for path, ops in doc["paths"].items():
        assert path.startswith("/") and "<" not in path, path
        for method, op in ops.items():
            assert op["responses"], (path, method)
            assert op["summary"] and op["tags"], (path, method)
            names = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert names == set(_braces(path)), (path, method)


def _braces(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


@pytest.mark.parametrize(
    ("auth", "expected"),
    [
        ("secret", [{"ApiKey": []}]),
        ("publishable", [{"ApiKey": []}]),
        ("session", [{"PortalSession": []}]),
        ("none", []),
    ],
)
def test_security_matches_each_routes_auth(doc, auth, expected):
    for spec in [s for s in ROUTES if s.auth == auth]:
        assert operation(doc, spec)["security"] == expected, route_id(spec)


def test_security_schemes(doc):
    schemes = doc["components"]["securitySchemes"]
    assert schemes["ApiKey"] == {"type": "apiKey", "in": "header", "name": "x-easy-api-key"}
    assert schemes["PortalSession"] == {"type": "http", "scheme": "bearer"}
    assert doc["paths"]["/openapi.json"]["get"]["security"] == []


def test_request_bodies_list_the_models_fields(doc):
    for spec in [s for s in ROUTES if s.body is not None]:
        schema = operation(doc, spec)["requestBody"]["content"]["application/json"]["schema"]
        resolved = resolve(doc, schema["$ref"])
        expected = spec.body.model_json_schema()
        assert set(resolved.get("properties", {})) == set(expected.get("properties", {}))
        assert set(resolved.get("required", [])) == set(expected.get("required", []))


def test_query_models_become_query_parameters(doc):
    for spec in [s for s in ROUTES if s.query is not None]:
        params = {p["name"] for p in operation(doc, spec)["parameters"] if p["in"] == "query"}
        assert params == set(spec.query.model_json_schema()["properties"]), route_id(spec)


def test_success_responses_wrap_the_response_model(doc):
    for spec in ROUTES:
        content = operation(doc, spec)["responses"][str(spec.status)]["content"]
        envelope = content["application/json"]["schema"]
        assert envelope["properties"]["success"] == {"const": True}
        data = envelope["properties"]["data"]
        if spec.paginated:
            assert data["type"] == "array", route_id(spec)
            assert "pagination" in envelope["required"], route_id(spec)
            data = data["items"]
        if spec.response is not None:
            resolved = resolve(doc, data["$ref"])
            assert set(resolved["properties"]) == set(spec.response.model_fields), route_id(spec)


def test_error_responses_use_the_error_envelope(doc):
    envelope = doc["components"]["schemas"]["ErrorEnvelope"]
    assert envelope["required"] == ["success", "timestamp", "error"]
    for spec in ROUTES:
        responses = operation(doc, spec)["responses"]
        for status in ("400", "404", "422", "429"):
            target = resolve(doc, responses[status]["$ref"])
            assert target["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ErrorEnvelope"
            }
        if spec.auth != "none":
            assert {"401", "403"} <= set(responses), route_id(spec)
        if spec.method in ("POST", "PATCH"):
            assert {"409", "415"} <= set(responses), route_id(spec)


def test_unsafe_routes_document_the_idempotency_header(doc):
    for spec in [s for s in ROUTES if s.method in ("POST", "PATCH", "DELETE")]:
        headers = [p for p in operation(doc, spec)["parameters"] if p["in"] == "header"]
        assert [h["name"] for h in headers] == ["Idempotency-Key"], route_id(spec)
        assert headers[0]["schema"]["maxLength"] == 255


def test_document_needs_no_key_and_is_built_once(app, client):
    first = client.get(f"{PREFIX}/openapi.json")
    assert first.status_code == 200
    cached = app.extensions["openapi_document"]
    second = client.get(f"{PREFIX}/openapi.json/")
    assert second.get_json() == first.get_json()
    assert app.extensions["openapi_document"] is cached
