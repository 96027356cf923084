"""The one decorator every API route uses (auth, parsing, transaction, idempotency, OpenAPI),
and what the routes share past it: the company-scoped lookup and the list envelope."""

import math
import time
from functools import wraps
from typing import Annotated

from flask import Blueprint, Response, current_app, g
from pydantic import AfterValidator, Field

from portal.billing.lookup import get_owned
from portal.db import db, write_transaction
from portal.errors import DomainError
from portal.extensions import api_key_identity, limiter

from .auth import authenticate_key
from .envelope import ApiError, error, success
from .idempotency import run_once
from .registry import ROUTES, RouteSpec
from .validation import Body, Query, parse_body, parse_query

bp = Blueprint("api", __name__, url_prefix="/v1/api")
SESSION_AUTHENTICATORS = {}
UNSAFE = {"POST", "PATCH", "PUT", "DELETE"}


class _NoFields(Body):
    """The body of a write route that takes none: empty or ``{}``, anything else is refused."""


def _rate_limit() -> str:
    return current_app.config["PORTAL_API_RATE_LIMIT"]


# One budget per key across the whole API (a plain blueprint limit counts each route apart).
limiter.shared_limit(_rate_limit, scope="api", key_func=api_key_identity)(bp)


def _authenticate(auth: str) -> None:
    if auth in ("secret", "publishable"):
        authenticate_key(auth)
    elif auth == "session":
        SESSION_AUTHENTICATORS["session"]()


def _execute(work) -> Response:
    try:
        # A savepoint, so a refusal undoes the view's partial writes while the request's
        # transaction still commits the idempotency record of the error response.
        with db.atomic():
            return work()
    except DomainError as exc:
        details = {"fields": exc.fields} if exc.fields else exc.details
        return error(exc.status, exc.code, exc.message, details)


def api_route(
    rule: str,
    method: str,
    *,
    summary: str,
    tag: str,
    auth: str = "secret",
    body=None,
    query=None,
    response=None,
    status: int = 200,
    paginated: bool = False,
    limits=(),
):
    """Register ``fn`` as ``method rule``; ``fn`` gets path params plus ``body``/``query``."""

    def decorate(fn):
        params = [part[1:-1].split(":")[-1] for part in rule.split("/") if part.startswith("<")]
        ROUTES.append(
            RouteSpec(
                rule, method, summary, tag, auth, body, query, response, status, paginated, params
            )
        )

        @wraps(fn)
        def view(**kwargs):
            _authenticate(auth)
            if body is not None:
                kwargs["body"] = parse_body(body)
            elif method in UNSAFE:
                parse_body(_NoFields)
            if query is not None:
                kwargs["query"] = parse_query(query)
            if method not in UNSAFE:
                return _execute(lambda: fn(**kwargs))
            with write_transaction():
                return run_once(lambda: fn(**kwargs), _execute)

        for limit in limits:
            view = limit(view)
        bp.add_url_rule(rule, endpoint=f"{fn.__name__}", view_func=view, methods=[method])
        return fn

    return decorate


def owned(model, object_id: str, label: str):
    """The ``model`` row of the calling company; another company's id is NOT_FOUND."""
    return get_owned(model, g.company, object_id, label)


class ListQuery(Query):
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0, le=10_000_000)
    ids: str | None = Field(None, max_length=4000)

    def id_list(self) -> list[str] | None:
        return [i.strip() for i in self.ids.split(",") if i.strip()] if self.ids else None


# A text filter sent empty (``?customer_id=``) filters nothing, as if it were left out.
TextFilter = Annotated[str | None, AfterValidator(lambda value: value or None)]


def newest_first(model) -> tuple:
    """The usual order of a list: newest first, the id breaking ties so pages never overlap."""
    return (model.created_at.desc(), model.id)


def one_page(select, params: ListQuery, *, filters=(), order=None) -> tuple[list, int]:
    """The rows of one page of ``select`` and the total. ``filters`` pairs a column with the
    value the query asks for; a value of None filters nothing."""
    for column, value in filters:
        if value is not None:
            select = select.where(column == value)
    ids = params.id_list()
    if ids is not None:
        select = select.where(select.model.id.in_(ids))
    total = select.count()
    order = order or newest_first(select.model)
    rows = list(select.order_by(*order).limit(params.limit).offset(params.offset))
    return rows, total


def paginate(select, params: ListQuery, render_many, *, filters=(), order=None) -> Response:
    """One page of ``select`` in the list envelope; ``render_many`` turns rows into dicts
    in one go, so a page costs a fixed number of queries whatever its size."""
    rows, total = one_page(select, params, filters=filters, order=order)
    return success(
        render_many(rows),
        pagination={
            "total": total,
            "limit": params.limit,
            "offset": params.offset,
            "has_more": params.offset + len(rows) < total,
        },
    )


def single_page(data: list, *, limit: int | None = None) -> Response:
    """A list answered whole, in the list envelope: one page and nothing after it."""
    limit = len(data) if limit is None else limit
    return success(
        data, pagination={"total": len(data), "limit": limit, "offset": 0, "has_more": False}
    )


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    return exc.response()


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError):
    return error(exc.status, exc.code, exc.message, {"fields": exc.fields} if exc.fields else None)


@bp.after_request
def _rate_limit_headers(response: Response) -> Response:
    current = limiter.current_limit
    if current is not None:
        reset_in = max(0, math.ceil(current.reset_at - time.time()))
        response.headers["RateLimit-Limit"] = str(current.limit.amount)
        response.headers["RateLimit-Remaining"] = str(current.remaining)
        response.headers["RateLimit-Reset"] = str(reset_in)
        if response.status_code == 429:
            response.headers["Retry-After"] = str(max(1, reset_in))
    return response
