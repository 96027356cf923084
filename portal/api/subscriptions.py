"""Subscriptions: POST|GET /subscriptions, GET|PATCH|DELETE /subscriptions/:id, resume,
and the proration preview (which runs the same plan PATCH executes)."""

from dataclasses import asdict
from typing import Literal

from flask import g

from portal.billing import objects, pausing
from portal.billing.changes import preview_change, update_subscription
from portal.billing.lookup import get_referenced
from portal.billing.proration import ChangePlan
from portal.billing.subscription_items import STATUSES
from portal.billing.subscriptions import (
    cancel_subscription,
    create_subscription,
    resume_subscription,
)
from portal.digits import whole_number
from portal.errors import ValidationFailed
from portal.models import Coupon, Customer, PaymentMethod, Price, Subscription
from portal.timefmt import iso

from . import schemas
from .core import ListQuery, api_route, owned, paginate
from .envelope import success
from .fields import Id
from .subscription_bodies import (
    MAX_ITEMS,
    CancelQuery,
    NoBody,
    PauseBody,
    PreviewQuery,
    ProrationPreview,
    SubscriptionCreate,
    SubscriptionUpdate,
)

Status = Literal[STATUSES]


# Kept beside its route, not in subscription_bodies: customers.py has a model of the same
# name, so the OpenAPI document names this one by its module, and moving it would rename it.
class SubscriptionListQuery(ListQuery):
    status: Status | None = None
    identity_id: Id | None = None


render_many = objects.subscriptions


def render(subscription: Subscription) -> dict:
    return render_many([subscription])[0]


def render_plan(plan: ChangePlan, sub: Subscription) -> dict:
    lines = [
        {**asdict(line), "period_start": iso(line.period_start), "period_end": iso(line.period_end)}
        for line in plan.lines
    ]
    return {
        "amount_due_now": plan.amount_due_now,
        "currency": sub.currency,
        "lines": lines,
        "next_invoice": {
            "amount": plan.next_invoice.amount_due,
            "date": iso(plan.next_invoice_date),
        },
        "credit_balance_after": plan.credit_balance_after,
        "proration_behavior": plan.behavior,
        "charge_timing": plan.timing,
        "subscription_version": sub.version,
        "effective_at": iso(plan.effective_at),
    }


def _prices(pairs: list[tuple[str, int]]) -> list[tuple[Price, int]]:
    return [
        (get_referenced(Price, g.company, price_id, f"items.{index}.price_id"), quantity)
        for index, (price_id, quantity) in enumerate(pairs)
    ]


def _parse_items(text: str) -> list[tuple[str, int]]:
    """``price_id:qty,price_id`` (quantity defaults to 1) from the preview's query string."""
    pairs = []
    for index, part in enumerate(text.split(",")):
        price_id, _, quantity = part.strip().partition(":")
        if not price_id:
            raise ValidationFailed.field("items", "Write items as price_id:quantity,…")
        if quantity and whole_number(quantity, 10**9) is None:
            raise ValidationFailed.field(f"items.{index}.quantity", "Use a whole number.")
        pairs.append((price_id, int(quantity) if quantity else 1))
    if len(pairs) > MAX_ITEMS:
        raise ValidationFailed.field("items", f"Use at most {MAX_ITEMS} items.")
    return pairs


@api_route(
    "/subscriptions",
    "POST",
    summary="Create a subscription (first invoice charged at once)",
    tag="Subscriptions",
    body=SubscriptionCreate,
    response=schemas.Subscription,
    status=201,
)
def create(body: SubscriptionCreate):
    customer = get_referenced(Customer, g.company, body.identity_id, "identity_id")
    items = _prices([(item.price_id, item.quantity) for item in body.items])
    method = coupon = None
    if body.instrument_id is not None:
        method = get_referenced(PaymentMethod, g.company, body.instrument_id, "instrument_id")
    if body.coupon_id is not None:
        coupon = get_referenced(Coupon, g.company, body.coupon_id, "coupon_id")
    sub = create_subscription(
        g.company, customer, items, payment_method=method, coupon=coupon, metadata=body.metadata
    )
    message = "Subscription created"
    if sub.status == "incomplete":
        message = "Subscription created; the first payment has not gone through"
    return success(render(sub), message=message, status=201)


@api_route(
    "/subscriptions",
    "GET",
    summary="List subscriptions",
    tag="Subscriptions",
    query=SubscriptionListQuery,
    response=schemas.Subscription,
    paginated=True,
)
def list_subscriptions(query: SubscriptionListQuery):
    select = Subscription.select().where(Subscription.company == g.company)
    filters = ((Subscription.status, query.status), (Subscription.customer, query.identity_id))
    return paginate(select, query, render_many, filters=filters)


@api_route(
    "/subscriptions/<subscription_id>",
    "GET",
    summary="Retrieve a subscription",
    tag="Subscriptions",
    response=schemas.Subscription,
)
def get_subscription(subscription_id: str):
    return success(render(owned(Subscription, subscription_id, "subscription")))


@api_route(
    "/subscriptions/<subscription_id>",
    "PATCH",
    summary="Update a subscription: metadata, payment method, items (prorated)",
    tag="Subscriptions",
    body=SubscriptionUpdate,
    response=schemas.Subscription,
)
def patch_subscription(subscription_id: str, body: SubscriptionUpdate):
    sub = owned(Subscription, subscription_id, "subscription")
    metadata = (body.metadata or {}) if "metadata" in body.model_fields_set else None
    method = None
    if body.instrument_id is not None:
        method = get_referenced(PaymentMethod, g.company, body.instrument_id, "instrument_id")
    items = None
    if body.items is not None:
        items = _prices([(item.price_id, item.quantity) for item in body.items])
    sub = update_subscription(
        sub,
        metadata=metadata,
        payment_method=method,
        items=items,
        behavior=body.proration_behavior,
        timing=body.charge_timing,
        expected_version=body.expected_version,
    )
    return success(render(sub), message="Subscription updated")


@api_route(
    "/subscriptions/<subscription_id>",
    "DELETE",
    summary="Cancel a subscription now or at the end of its period",
    tag="Subscriptions",
    body=NoBody,
    query=CancelQuery,
    response=schemas.Subscription,
)
def cancel(subscription_id: str, body: NoBody, query: CancelQuery):
    sub = owned(Subscription, subscription_id, "subscription")
    sub = cancel_subscription(sub, at_period_end=query.at_period_end, prorate=query.prorate)
    message = "Subscription will cancel at period end" if query.at_period_end else "Canceled"
    return success(render(sub), message=message)


@api_route(
    "/subscriptions/<subscription_id>/pause",
    "POST",
    summary="Pause collection (renewals go on uncharged) until resumed or resumes_at",
    tag="Subscriptions",
    body=PauseBody,
    response=schemas.Subscription,
)
def pause(subscription_id: str, body: PauseBody):
    sub = owned(Subscription, subscription_id, "subscription")
    sub = pausing.pause_subscription(sub, body.behavior, body.resumes_at)
    return success(render(sub), message="Subscription paused")


@api_route(
    "/subscriptions/<subscription_id>/resume",
    "POST",
    summary="Resume a paused collection now, or else undo a scheduled cancellation",
    tag="Subscriptions",
    body=NoBody,
    response=schemas.Subscription,
)
def resume(subscription_id: str, body: NoBody):
    sub = resume_subscription(owned(Subscription, subscription_id, "subscription"))
    return success(render(sub), message="Subscription resumed")


@api_route(
    "/subscriptions/<subscription_id>/proration-preview",
    "GET",
    summary="Preview what changing the items would bill (same numbers as PATCH)",
    tag="Subscriptions",
    query=PreviewQuery,
    response=ProrationPreview,
)
def proration_preview(subscription_id: str, query: PreviewQuery):
    sub = owned(Subscription, subscription_id, "subscription")
    items = _prices(_parse_items(query.items)) if query.items else None
    plan = preview_change(sub, items, behavior=query.proration_behavior, timing=query.charge_timing)
    return success(render_plan(plan, sub))
