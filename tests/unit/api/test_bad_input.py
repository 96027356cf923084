"""Every write route refuses bad input with a 4xx error envelope and changes nothing.

For each unsafe route in the registry, against real ids of a small world: malformed JSON,
non-object JSON, unknown fields, a wrong type for every field, negative and overflowing
numbers, over-long and 1 MB strings, form encoding, and bad query values.
"""

import copy
import json

import pytest

from portal.api.registry import ROUTES

from .apiworld import UNSAFE, World, assert_error_envelope, path_for, route_id, snapshot, valid_body

UNSAFE_ROUTES = [spec for spec in ROUTES if spec.method in UNSAFE]
HUGE = "x" * (1 << 20)
LONG = "x" * 10_000
OVERFLOW = 10**30
# One value of each JSON type; a field gets every value whose type it does not accept.
PALETTE = {
    "string": "wrong",
    "integer": 7,
    "number": 7.5,
    "boolean": True,
    "array": ["wrong"],
    "object": {"wrong": 1},
}


def json_types(schema: dict, defs: dict) -> set[str] | None:
    """The JSON types a property schema accepts; None when it accepts anything."""
    if "$ref" in schema:
        return json_types(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            parts = [json_types(part, defs) for part in schema[key]]
            return None if None in parts else set().union(*parts)
    if "const" in schema or "enum" in schema:
        values = [schema["const"]] if "const" in schema else schema["enum"]
        return {_type_of(v) for v in values}
    kind = schema.get("type")
    if kind is None:
        return {"object"} if "properties" in schema else None
    kinds = {kind} if isinstance(kind, str) else set(kind)
    return kinds | {"integer"} if "number" in kinds else kinds


def _type_of(value) -> str:
    for name, sample in (("boolean", True), ("string", ""), ("array", []), ("object", {})):
        if isinstance(value, type(sample)):
            return name
    return "null" if value is None else "number"


def body_properties(spec) -> tuple[dict, dict]:
    if spec.body is None:
        return {}, {}
    schema = spec.body.model_json_schema()
    return schema.get("properties", {}), schema.get("$defs", {})


def leaves(value, path=()):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, (*path, index))
    else:
        yield path, value


def replaced(body: dict, path: tuple, new) -> dict:
    result = copy.deepcopy(body)
    target = result
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = new
    return result


def leaf_variants(value) -> list:
    """Wrong values for one leaf of a valid body, by the type the valid value has."""
    if isinstance(value, bool):
        return ["true", 1]
    if isinstance(value, int | float):
        return [str(value), -1, OVERFLOW, -OVERFLOW]
    if isinstance(value, str):
        return [7, LONG]
    return []


def raw(data, content_type="application/json") -> dict:
    return {"data": data, "content_type": content_type}


def envelope_cases(base: dict) -> list[tuple[str, dict]]:
    cases = [
        ("malformed JSON", raw('{"name": ')),
        ("JSON array", raw(json.dumps([base]))),
        ("JSON string", raw('"hello"')),
        ("JSON null", raw("null")),
        ("invalid UTF-8", raw(b'{"name": "\xff\xfe"}')),
        ("unknown field", {"json": {**base, "zz_unknown_field": 1}}),
    ]
    if base:
        cases.append(("form encoded", raw("a=1&b=2", "application/x-www-form-urlencoded")))
    return cases


def field_cases(spec, base: dict) -> list[tuple[str, dict]]:
    cases = []
    properties, defs = body_properties(spec)
    for name, schema in properties.items():
        accepted = json_types(schema, defs)
        if accepted is not None:
            for kind, value in PALETTE.items():
                if kind not in accepted:
                    cases.append((f"{name} as {kind}", {"json": {**base, name: value}}))
        if accepted is not None and accepted & {"integer", "number"} and name not in base:
            for value in (-1, OVERFLOW):
                cases.append((f"{name}={value}", {"json": {**base, name: value}}))
        if accepted is None or "string" in accepted:
            cases.append((f"{name} of 1 MB", {"json": {**base, name: HUGE}}))
    for path, value in leaves(base):
        label = ".".join(map(str, path))
        for variant in leaf_variants(value):
            shown = repr(variant)[:20]
            cases.append((f"{label}={shown}", {"json": replaced(base, path, variant)}))
    return cases


def query_cases(spec, path: str) -> list[tuple[str, dict]]:
    if spec.query is None:
        return []
    cases = []
    schema = spec.query.model_json_schema()
    for name, prop in schema.get("properties", {}).items():
        accepted = json_types(prop, schema.get("$defs", {})) or {"string"}
        if "string" not in accepted:
            for value in ("wrong", str(OVERFLOW)):
                cases.append((f"?{name}={value[:10]}", {"query_string": {name: value}}))
    return cases


def bad_requests(spec, path: str, base: dict) -> list[tuple[str, dict]]:
    return envelope_cases(base) + field_cases(spec, base) + query_cases(spec, path)


@pytest.mark.parametrize("spec", UNSAFE_ROUTES, ids=route_id)
def test_bad_input_is_refused_and_changes_nothing(merchant, spec):
    world = World(merchant)
    path = path_for(spec, world.ids)
    base = valid_body(spec, world.ids)
    world.headers(spec)  # opens the portal session now, not inside a compared request
    problems = []
    for label, kwargs in bad_requests(spec, path, base):
        before = snapshot()
        response = world.open(spec, path, **kwargs)
        status = response.status_code
        if not 400 <= status < 500:
            problems.append(f"{label}: {status} {response.get_data(as_text=True)[:200]}")
            continue
        try:
            assert_error_envelope(response)
        except AssertionError as exc:
            problems.append(f"{label}: not the error envelope: {exc}")
        if snapshot() != before:
            problems.append(f"{label}: {status} but the database changed")
    assert problems == [], f"{route_id(spec)}:\n" + "\n".join(problems)


@pytest.mark.parametrize("spec", UNSAFE_ROUTES, ids=route_id)
def test_unknown_fields_are_named(merchant, spec):
    world = World(merchant)
    body = {**valid_body(spec, world.ids), "zz_unknown_field": 1}
    response = world.open(spec, path_for(spec, world.ids), json=body)
    error = assert_error_envelope(response, 422, "VALIDATION_ERROR")
    assert "zz_unknown_field" in error["details"]["fields"]


def test_the_world_has_an_object_for_every_route(merchant):
    # A route whose fixtures cannot be built fails here by name instead of being skipped.
    world = World(merchant)
    for spec in ROUTES:
        assert path_for(spec, world.ids).count("<") == 0, route_id(spec)
