"""Webhook endpoints: POST|GET /webhooks, GET|PATCH|DELETE /webhooks/:id, roll-secret, test,
and the deliveries (all, or one endpoint's) with resend. The signing secret is shown on
create and on a roll, never again.

The two delivery lists answer ``data: {data, total, limit, offset, has_more[, counts]}``:
the official client reads them as one object, as it does GET /customer/:id/subscriptions."""

from datetime import UTC, datetime
from typing import Annotated, Literal

from flask import g
from peewee import fn
from pydantic import AfterValidator, Field, StringConstraints

from portal.models import WebhookDelivery, WebhookEndpoint
from portal.webhooks import endpoints as hooks

from .core import ListQuery, TextFilter, api_route, one_page, owned, paginate
from .envelope import success
from .schemas import Shape
from .validation import Body

TAG = "Webhooks"
Url = Annotated[str, StringConstraints(min_length=1, max_length=2048)]
EventType = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Events = Annotated[list[EventType], Field(max_length=50)]
Description = Annotated[str, StringConstraints(max_length=500)]
DeliveryStatus = Literal["pending", "sending", "succeeded", "failed"]


# Naive UTC, as stored; a naive value is taken as UTC.
Moment = Annotated[
    datetime, AfterValidator(lambda v: v.astimezone(UTC).replace(tzinfo=None) if v.tzinfo else v)
]


class EndpointCreate(Body):
    url: Url
    events: Events | None = Field(None, description='Omitted or ["*"]: every event type.')
    description: Description | None = None


class EndpointUpdate(Body):
    url: Url | None = None
    events: Events | None = None
    description: Description | None = None
    status: Literal["enabled", "disabled"] | None = None


class DeliveryQuery(ListQuery):
    status: DeliveryStatus | None = None
    success: bool | None = Field(None, description="true: succeeded; false: failed.")
    event_type: TextFilter = Field(None, max_length=64)
    created_after: Moment | None = None
    created_before: Moment | None = None
    attempt: int | None = Field(None, ge=0, le=1000)
    attempt_number: int | None = Field(None, ge=0, le=1000)
    include_counts: bool = Field(False, description="Add counts of pending, succeeded, failed.")


class AllDeliveriesQuery(DeliveryQuery):
    endpoint_id: TextFilter = Field(None, max_length=64)


class WebhookEndpointOut(Shape):
    id: str
    url: str
    description: str | None
    status: str
    events: list[str]
    created_at: str
    updated_at: str


class WebhookEndpointWithSecret(WebhookEndpointOut):
    secret: str


class WebhookDeliveryOut(Shape):
    id: str
    endpoint_id: str
    event_id: str
    event_type: str
    status: str
    success: bool | None
    attempt: int
    attempt_number: int
    status_code: int | None
    response_body: str | None
    error: str | None
    next_attempt_at: str | None
    last_attempt_at: str | None
    delivered_at: str | None
    created_at: str


class DeliveryCounts(Shape):
    pending: int
    succeeded: int
    failed: int


class WebhookDeliveryPage(Shape):
    data: list[WebhookDeliveryOut]
    total: int
    limit: int
    offset: int
    has_more: bool
    counts: DeliveryCounts | None = None


def _filtered(select, query: DeliveryQuery, *, with_status: bool = True):
    """``select`` narrowed by the query's filters (the status ones only if ``with_status``)."""
    D = WebhookDelivery
    wanted = [
        (D.event_type, query.event_type),
        (D.attempts, query.attempt),
        (D.attempts, query.attempt_number),
        (D.endpoint, getattr(query, "endpoint_id", None)),
    ]
    if with_status:
        wanted += [(D.status, query.status)]
        if query.success is not None:
            wanted += [(D.status, "succeeded" if query.success else "failed")]
    for column, value in wanted:
        if value is not None:
            select = select.where(column == value)
    if query.created_after is not None:
        select = select.where(D.created_at > query.created_after)
    if query.created_before is not None:
        select = select.where(D.created_at < query.created_before)
    return select


def _counts(select, query: DeliveryQuery) -> dict:
    """Per status over the other filters; a delivery being sent counts as pending."""
    D = WebhookDelivery
    rows = _filtered(select, query, with_status=False).select(D.status, fn.COUNT(D.id))
    found = dict(rows.group_by(D.status).tuples())
    return {
        "pending": found.get("pending", 0) + found.get("sending", 0),
        "succeeded": found.get("succeeded", 0),
        "failed": found.get("failed", 0),
    }


def _delivery_page(select, query: DeliveryQuery):
    rows, total = one_page(_filtered(select, query), query)
    data = {
        "data": [hooks.delivery_object(d) for d in rows],
        "total": total,
        "limit": query.limit,
        "offset": query.offset,
        "has_more": query.offset + len(rows) < total,
    }
    if query.include_counts:
        data["counts"] = _counts(select, query)
    return success(data)


def _endpoint(endpoint_id: str) -> WebhookEndpoint:
    return owned(WebhookEndpoint, endpoint_id, "webhook endpoint")


@api_route(
    "/webhooks",
    "POST",
    summary="Register a webhook endpoint (the response carries its signing secret, once)",
    tag=TAG,
    body=EndpointCreate,
    response=WebhookEndpointWithSecret,
    status=201,
)
def create_webhook(body: EndpointCreate):
    endpoint, secret = hooks.create_endpoint(g.company, **body.model_dump())
    data = hooks.endpoint_object(endpoint, secret=secret)
    return success(data, message="Webhook endpoint created", status=201)


@api_route(
    "/webhooks",
    "GET",
    summary="List webhook endpoints",
    tag=TAG,
    query=ListQuery,
    response=WebhookEndpointOut,
    paginated=True,
)
def list_webhooks(query: ListQuery):
    select = WebhookEndpoint.select().where(WebhookEndpoint.company == g.company)
    return paginate(select, query, lambda rows: [hooks.endpoint_object(e) for e in rows])


@api_route(
    "/webhooks/deliveries",
    "GET",
    summary="List webhook deliveries",
    tag=TAG,
    query=AllDeliveriesQuery,
    response=WebhookDeliveryPage,
)
def list_webhook_deliveries(query: AllDeliveriesQuery):
    return _delivery_page(
        WebhookDelivery.select().where(WebhookDelivery.company == g.company), query
    )


@api_route(
    "/webhooks/deliveries/<delivery_id>/resend",
    "POST",
    summary="Deliver a delivery's event to its endpoint again",
    tag=TAG,
    response=WebhookDeliveryOut,
    status=202,
)
def resend_webhook_delivery(delivery_id: str):
    delivery = hooks.resend(owned(WebhookDelivery, delivery_id, "webhook delivery"))
    return success(hooks.delivery_object(delivery), message="Delivery queued", status=202)


@api_route(
    "/webhooks/<endpoint_id>",
    "GET",
    summary="Retrieve a webhook endpoint",
    tag=TAG,
    response=WebhookEndpointOut,
)
def get_webhook(endpoint_id: str):
    return success(hooks.endpoint_object(_endpoint(endpoint_id)))


@api_route(
    "/webhooks/<endpoint_id>",
    "PATCH",
    summary="Update a webhook endpoint (partial)",
    tag=TAG,
    body=EndpointUpdate,
    response=WebhookEndpointOut,
)
def patch_webhook(endpoint_id: str, body: EndpointUpdate):
    endpoint = hooks.update_endpoint(_endpoint(endpoint_id), body.model_dump(exclude_unset=True))
    return success(hooks.endpoint_object(endpoint), message="Webhook endpoint updated")


@api_route(
    "/webhooks/<endpoint_id>",
    "DELETE",
    summary="Delete a webhook endpoint and its deliveries",
    tag=TAG,
    response=WebhookEndpointOut,
)
def delete_webhook(endpoint_id: str):
    endpoint = _endpoint(endpoint_id)
    snapshot = hooks.endpoint_object(endpoint)
    hooks.delete_endpoint(endpoint)
    return success(snapshot, message="Webhook endpoint deleted")


@api_route(
    "/webhooks/<endpoint_id>/roll-secret",
    "POST",
    summary="Replace the signing secret (the old one stops at once)",
    tag=TAG,
    response=WebhookEndpointWithSecret,
)
def roll_webhook_secret(endpoint_id: str):
    endpoint = _endpoint(endpoint_id)
    secret = hooks.roll_secret(endpoint)
    data = hooks.endpoint_object(endpoint, secret=secret)
    return success(data, message="Signing secret rolled")


@api_route(
    "/webhooks/<endpoint_id>/test",
    "POST",
    summary="Send a test.webhook event to the endpoint",
    tag=TAG,
    response=WebhookDeliveryOut,
    status=202,
)
def send_test_webhook(endpoint_id: str):
    delivery = hooks.send_test(_endpoint(endpoint_id))
    return success(hooks.delivery_object(delivery), message="Test event queued", status=202)


@api_route(
    "/webhooks/<endpoint_id>/deliveries",
    "GET",
    summary="List a webhook endpoint's deliveries",
    tag=TAG,
    query=DeliveryQuery,
    response=WebhookDeliveryPage,
)
def list_endpoint_deliveries(endpoint_id: str, query: DeliveryQuery):
    select = WebhookDelivery.select().where(WebhookDelivery.endpoint == _endpoint(endpoint_id))
    return _delivery_page(select, query)
