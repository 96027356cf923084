"""Request parsing: JSON bodies and query strings validated with pydantic models."""

import json

from flask import request
from pydantic import BaseModel, ConfigDict, ValidationError

from .envelope import ApiError


class Body(BaseModel):
    """Base for request bodies: unknown fields are refused, types are strict."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Query(BaseModel):
    """Base for query strings: values arrive as text, so types are coerced."""

    model_config = ConfigDict(extra="ignore")


def _loc(error: dict) -> str:
    return ".".join(str(part) for part in error["loc"]) or "body"


def _message(error: dict) -> str:
    if error["type"] == "extra_forbidden":
        return "Unknown field."
    if error["type"] == "missing":
        return "This field is required."
    return error["msg"]


def validation_error(exc: ValidationError) -> ApiError:
    fields = {}
    for item in exc.errors():
        fields.setdefault(_loc(item), _message(item))
    unknown = sorted(_loc(e) for e in exc.errors() if e["type"] == "extra_forbidden")
    summary = f"Unknown fields: {', '.join(unknown)}." if unknown else "Some fields are not valid."
    return ApiError(422, "VALIDATION_ERROR", summary, {"fields": fields})


def _refuse_constant(name: str):
    # NaN and Infinity are not JSON; Python's parser would accept them otherwise.
    raise ValueError(f"{name} is not valid JSON")


def read_json() -> dict:
    """The request's JSON object; an empty body counts as ``{}``."""
    raw = request.get_data(cache=True)
    if request.method in ("POST", "PATCH", "PUT") and raw.strip():
        mimetype = request.mimetype or ""
        if mimetype != "application/json" and not mimetype.endswith("+json"):
            raise ApiError(415, "UNSUPPORTED_MEDIA_TYPE", "Send the body as application/json.")
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ApiError(400, "INVALID_JSON", "The request body is not valid JSON.") from exc
    if not isinstance(value, dict):
        raise ApiError(400, "INVALID_JSON", "The request body must be a JSON object.")
    if _contains_nul(value):
        raise ApiError(400, "INVALID_JSON", "Text in the body cannot contain NUL (\\u0000).")
    return value


def _contains_nul(value) -> bool:
    """Whether any key or string holds U+0000, which PostgreSQL text cannot store.
    Iterative, so a deeply nested body cannot exhaust the stack."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str) and "\x00" in item:
            return True
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def parse_body(model: type[Body]):
    """Validate the body in JSON mode, so strict types still accept ISO date strings."""
    value = read_json()
    try:
        return model.model_validate_json(json.dumps(value))
    except ValidationError as exc:
        raise validation_error(exc) from exc


def parse_query(model: type[Query]):
    nul = sorted(name for name, value in request.args.items(multi=True) if "\x00" in name + value)
    if nul:
        fields = dict.fromkeys(nul, "Cannot contain NUL characters.")
        raise ApiError(422, "VALIDATION_ERROR", "Some fields are not valid.", {"fields": fields})
    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError as exc:
        raise validation_error(exc) from exc
