"""Portal-session JSON: starting an ended (or set-to-end) subscription again on an allowed
plan (``self_service.resubscribe`` holds the rules)."""

from dataclasses import asdict
from typing import Annotated

from flask import current_app
from pydantic import Field, StringConstraints

from portal.models import Subscription, utcnow
from portal.self_service import preview_tokens
from portal.self_service import resubscribe as rules
from portal.self_service.resubscribe import ResubscribePlan
from portal.timefmt import iso

from . import schemas
from .core import api_route
from .envelope import success
from .fields import Id
from .portal_scope import event, own, require, settings
from .portal_subscriptions import Quantity
from .subscription_bodies import PreviewLine
from .subscriptions import render
from .validation import Body, Query


class ResubscribeOption(schemas.Shape):
    price_id: str
    product_id: str
    product_name: str
    unit_amount: int
    currency: str
    interval: str | None
    interval_count: int | None
    current: bool = Field(description="The subscription's own plan.")


class ResubscribeOptions(schemas.Shape):
    options: list[ResubscribeOption] = Field(
        description="Empty when this subscription cannot be started again here."
    )


class ResubscribeQuery(Query):
    price_id: Id | None = Field(None, description="Default: the subscription's own plan.")
    quantity: Quantity | None = Field(None, description="Default: the old quantity.")


class ResubscribePreview(schemas.Shape):
    mode: str = Field(
        description="keep: the scheduled cancellation is undone, nothing charged now; change: "
        "undone and the plan change billed like any portal change; new: a new subscription "
        "whose first period is charged now."
    )
    amount_due_now: int
    currency: str
    next_charge_at: str
    price_id: str
    quantity: int
    lines: list[PreviewLine]
    effective_at: str | None
    subscription_version: int
    preview_token: str


class ResubscribeBody(Body):
    price_id: Id | None = None
    quantity: Quantity | None = None
    expected_version: int = Field(description="subscription_version from the preview")
    preview_token: Annotated[str, StringConstraints(max_length=500)] | None = Field(
        None, description="From the preview: a plan change is billed at the preview's instant."
    )


def _sub(subscription_id: str) -> Subscription:
    require("subscriptions_enabled", "Subscriptions")
    return own(Subscription, subscription_id, "subscription")


def _option(price, current_price_id: str) -> dict:
    return {
        "price_id": price.id,
        "product_id": price.product_id,
        "product_name": price.product.name,
        "unit_amount": price.unit_amount,
        "currency": price.currency,
        "interval": price.interval,
        "interval_count": price.interval_count,
        "current": price.id == current_price_id,
    }


def _render_preview(plan: ResubscribePlan, sub: Subscription, token: str) -> dict:
    lines = [
        {**asdict(line), "period_start": iso(line.period_start), "period_end": iso(line.period_end)}
        for line in plan.lines
    ]
    return {
        "mode": plan.mode,
        "amount_due_now": plan.amount_due_now,
        "currency": plan.currency,
        "next_charge_at": iso(plan.next_charge_at),
        "price_id": plan.price_id,
        "quantity": plan.quantity,
        "lines": lines,
        "effective_at": iso(plan.effective_at),
        "subscription_version": sub.version,
        "preview_token": token,
    }


@api_route(
    "/customer-portal/subscriptions/<subscription_id>/resubscribe-options",
    "GET",
    auth="session",
    tag="Customer portal",
    summary="The plans an ended or set-to-end subscription can be started again on",
    response=ResubscribeOptions,
)
def portal_resubscribe_options(subscription_id: str):
    sub = _sub(subscription_id)
    options = rules.resubscribe_options(sub, settings())
    current = rules.current_price_id(sub)
    return success({"options": [_option(price, current) for price in options]})


@api_route(
    "/customer-portal/subscriptions/<subscription_id>/resubscribe/preview",
    "GET",
    auth="session",
    tag="Customer portal",
    summary="Preview starting the subscription again: what is charged now and next",
    query=ResubscribeQuery,
    response=ResubscribePreview,
)
def portal_resubscribe_preview(subscription_id: str, query: ResubscribeQuery):
    sub, now = _sub(subscription_id), utcnow()
    plan = rules.preview_resubscribe(sub, settings(), query.price_id, query.quantity, now=now)
    token = preview_tokens.preview_token(current_app.config["SECRET_KEY"], sub, now)
    return success(_render_preview(plan, sub, token))


@api_route(
    "/customer-portal/subscriptions/<subscription_id>/resubscribe",
    "POST",
    auth="session",
    tag="Customer portal",
    summary="Confirm a previewed restart: the kept or the new subscription (declined: 402)",
    body=ResubscribeBody,
    response=schemas.Subscription,
)
def portal_resubscribe(subscription_id: str, body: ResubscribeBody):
    sub = _sub(subscription_id)
    at = preview_tokens.preview_instant(
        current_app.config["SECRET_KEY"], body.preview_token, sub, body.expected_version
    )
    started = rules.resubscribe(
        sub, settings(), body.price_id, body.quantity, body.expected_version, at=at
    )
    what = {"price_id": body.price_id, "quantity": body.quantity, "resubscribed_from": sub.id}
    event("subscription.resubscribed", what, started.id)
    return success(render(started), message="Subscription started again")
