"""The OpenAPI document states the portal config's defaults and allowed values, and explains
``destination_context`` on the access routes ("Documented defaults")."""

import json

import pytest

from portal.portal_settings.config import CHOICES, DEFAULTS, PAYMENT_KINDS

PREFIX = "/v1/api"
CONFIG = "/customer-portal-config"
ACCESS_ROUTES = ("/customer-portal/access/request-link", "/customer-portal/access/handoff")


@pytest.fixture
def doc(client):
    response = client.get(f"{PREFIX}/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def resolve(doc, node: dict) -> dict:
    """Follow ``$ref`` (into components) until a schema without one."""
    while "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), ref
        target = doc
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def response_schema(doc, method: str) -> dict:
    operation = doc["paths"][CONFIG][method]
    envelope = operation["responses"]["200"]["content"]["application/json"]["schema"]
    return resolve(doc, resolve(doc, envelope)["properties"]["data"])


def response_properties(doc, method: str) -> dict:
    return response_schema(doc, method)["properties"]


def body_properties(doc, path: str, method: str = "post") -> dict:
    body = doc["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    return resolve(doc, body)["properties"]


def enum_of(doc, schema: dict) -> list | None:
    """The allowed values of a schema, looking through ``$ref`` and a nullable ``anyOf``."""
    schema = resolve(doc, schema)
    if "enum" in schema:
        return schema["enum"]
    for option in schema.get("anyOf", []):
        found = enum_of(doc, option)
        if found is not None:
            return found
    return None


@pytest.mark.parametrize("method", ["get", "patch"])
@pytest.mark.parametrize("name", list(DEFAULTS))
def test_config_response_documents_each_default(doc, method, name):
    properties = response_properties(doc, method)
    assert name in properties, f"{name} missing from the {method.upper()} response schema"
    field = properties[name]
    assert "default" in field, f"{name} documents no default"
    assert field["default"] == DEFAULTS[name]
    assert isinstance(field.get("description"), str) and field["description"].strip()
    assert "\n" not in field["description"], "descriptions are one line"


@pytest.mark.parametrize("method", ["get", "patch"])
def test_config_response_keeps_every_field_required(doc, method):
    # The default is documentation: every response carries every field.
    assert set(DEFAULTS) <= set(response_schema(doc, method)["required"])


def test_documented_defaults_are_what_a_new_company_reads(doc, merchant):
    properties = response_properties(doc, "get")
    data = merchant.ok("GET", CONFIG)
    assert {name: properties[name]["default"] for name in DEFAULTS} == {
        name: data[name] for name in DEFAULTS
    }


@pytest.mark.parametrize("name", list(CHOICES))
def test_choice_fields_list_exactly_their_choices(doc, name):
    response = response_properties(doc, "get")
    body = body_properties(doc, CONFIG, "patch")
    assert enum_of(doc, response[name]) == list(CHOICES[name])
    assert enum_of(doc, body[name]) == list(CHOICES[name])


def test_accepted_payment_methods_items_list_the_payment_kinds(doc):
    for properties in (response_properties(doc, "get"), body_properties(doc, CONFIG, "patch")):
        field = resolve(doc, properties["accepted_payment_methods"])
        assert field["type"] == "array"
        assert enum_of(doc, field["items"]) == list(PAYMENT_KINDS)


@pytest.mark.parametrize("name", list(DEFAULTS))
def test_patch_body_documents_the_default_without_claiming_one(doc, name):
    # Omitted fields stay unchanged, so the body states the starting value in words
    # rather than as a JSON-schema default that a client would fill in.
    field = body_properties(doc, CONFIG, "patch")[name]
    description = field.get("description", "")
    assert json.dumps(DEFAULTS[name]) in description, description
    assert "unchanged" in description.lower() or "keep" in description.lower(), description
    assert "default" not in field


@pytest.mark.parametrize("path", ACCESS_ROUTES)
def test_destination_context_has_a_description_and_an_example(doc, path):
    field = body_properties(doc, path)["destination_context"]
    description = field.get("description", "")
    assert "invoice" in description.lower(), description
    assert "422" in description, description
    examples = field.get("examples")
    assert isinstance(examples, list) and examples, field
    assert all(isinstance(e, str) and 1 <= len(e) <= 64 for e in examples), examples
