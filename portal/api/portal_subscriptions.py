"""Portal-session JSON: the customer's subscriptions under the merchant's portal rules."""

from typing import Annotated

from flask import current_app, g
from pydantic import Field, StringConstraints

from portal.billing.coupons import describe
from portal.models import Subscription, utcnow
from portal.self_service import preview_tokens
from portal.self_service import subscriptions as rules

from . import schemas
from .core import api_route, single_page
from .envelope import success
from .fields import Id
from .portal_scope import event, own, require, settings
from .subscription_bodies import ProrationPreview
from .subscriptions import render, render_many, render_plan
from .validation import Body, Query

Quantity = Annotated[int, Field(ge=1, le=rules.MAX_PORTAL_QUANTITY)]
# The portal shows at most this many of a customer's subscriptions, newest first, in one
# page (no paging).
PORTAL_LIST_LIMIT = 100


class ChangeQuery(Query):
    price_id: Id | None = None
    quantity: Quantity | None = None


class ChangeBody(Body):
    price_id: Id | None = None
    quantity: Quantity | None = None
    expected_version: int = Field(description="subscription_version from the preview")
    preview_token: Annotated[str, StringConstraints(max_length=500)] | None = Field(
        None, description="From the preview: the change is billed at the preview's instant."
    )
    payment_method_id: Id | None = Field(
        None,
        description="One of the customer's payment methods to pay the change (and the "
        "subscription from then on); default: the subscription's method. A declined charge "
        "is a 402 and changes nothing.",
    )


class PortalPreview(ProrationPreview):
    preview_token: str


class CancelBody(Body):
    reason: Annotated[str, StringConstraints(max_length=100)] | None = None
    comment: Annotated[str, StringConstraints(max_length=1000)] | None = None


class Offer(schemas.Shape):
    coupon_id: str | None
    description: str | None


def _sub(subscription_id: str) -> Subscription:
    require("subscriptions_enabled", "Subscriptions")
    return own(Subscription, subscription_id, "subscription")


@api_route(
    "/customer-portal/subscriptions",
    "GET",
    auth="session",
    tag="Customer portal",
    summary="The signed-in customer's subscriptions",
    response=schemas.Subscription,
    paginated=True,
)
def portal_list_subscriptions():
    require("subscriptions_enabled", "Subscriptions")
    rows = list(
        Subscription.select()
        .where(Subscription.customer == g.portal_session.customer_id)
        .order_by(Subscription.created_at.desc())
        .limit(PORTAL_LIST_LIMIT)
    )
    return single_page(render_many(rows), limit=PORTAL_LIST_LIMIT)


@api_route(
    "/customer-portal/subscriptions/<subscription_id>/preview",
    "GET",
    auth="session",
    tag="Customer portal",
    summary="Preview a plan or quantity change under the portal rules",
    query=ChangeQuery,
    response=PortalPreview,
)
def portal_preview_change(subscription_id: str, query: ChangeQuery):
    sub = _sub(subscription_id)
    now = utcnow()
    plan = rules.preview(sub, settings(), query.price_id, query.quantity, now=now)
    token = preview_tokens.preview_token(current_app.config["SECRET_KEY"], sub, now)
    return success({**render_plan(plan, sub), "preview_token": token})


@api_route(
    "/customer-portal/subscriptions/<subscription_id>/change",
    "POST",
    auth="session",
    tag="Customer portal",
    summary="Confirm a previewed plan or quantity change",
    body=ChangeBody,
    response=schemas.Subscription,
)
def portal_change(subscription_id: str, body: ChangeBody):
    sub = _sub(subscription_id)
    at = preview_tokens.preview_instant(
        current_app.config["SECRET_KEY"], body.preview_token, sub, body.expected_version
    )
    changed = rules.change(
        sub,
        settings(),
        body.price_id,
        body.quantity,
        body.expected_version,
        now=at,
        method_id=body.payment_method_id,
    )
    what = {"price_id": body.price_id, "quantity": body.quantity}
    if changed.scheduled_change:  # a downgrade the config defers to the renewal
        event("subscription.change_scheduled", what, sub.id)
        return success(render(changed), message="Change scheduled for the renewal")
    event("subscription.changed", what, sub.id)
    return success(render(changed), message="Subscription changed")


@api_route(
    "/customer-portal/subscriptions/<subscription_id>/scheduled-change",
    "DELETE",
    auth="session",
    tag="Customer portal",
    summary="Cancel the change waiting for the renewal: the current plan renews",
    response=schemas.Subscription,
)
def portal_cancel_scheduled_change(subscription_id: str):
    sub = rules.cancel_scheduled(_sub(subscription_id), settings())
    event("subscription.scheduled_change_canceled", None, sub.id)
    return success(render(sub), message="Scheduled change canceled")


@api_route(
    "/customer-portal/subscriptions/<subscription_id>/retention-offer",
    "GET",
    auth="session",
    tag="Customer portal",
    summary="The retention offer, if any",
    response=Offer,
)
def portal_offer(subscription_id: str):
    sub = _sub(subscription_id)
    rules.require_changeable(sub, settings())
    coupon = rules.retention_offer(sub, settings())
    return success(
        {
            "coupon_id": coupon.id if coupon else None,
            "description": describe(coupon, sub.currency) if coupon else None,
        }
    )


@api_route(
    "/customer-portal/subscriptions/<subscription_id>/retention-offer",
    "POST",
    auth="session",
    tag="Customer portal",
    summary="Accept the retention offer",
    response=schemas.Subscription,
)
def portal_accept_offer(subscription_id: str):
    sub = rules.accept_retention(_sub(subscription_id), settings())
    event(
        "subscription.retention_accepted", {"coupon_id": settings()["retention_coupon_id"]}, sub.id
    )
    return success(render(sub), message="Offer applied")


@api_route(
    "/customer-portal/subscriptions/<subscription_id>/cancel",
    "POST",
    auth="session",
    tag="Customer portal",
    summary="Cancel as the portal config says (mode, proration)",
    body=CancelBody,
    response=schemas.Subscription,
)
def portal_cancel(subscription_id: str, body: CancelBody):
    sub, changed = rules.cancel(_sub(subscription_id), settings(), body.reason, body.comment)
    if changed:
        action = (
            "subscription.canceled" if sub.status == "canceled" else "subscription.cancel_scheduled"
        )
        # What was stored (nothing when reasons are off), not what was sent.
        stored = {"reason": sub.cancellation_reason, "comment": sub.cancellation_comment}
        event(action, stored, sub.id)
    return success(render(sub), message="Subscription canceled" if changed else "No change")


@api_route(
    "/customer-portal/subscriptions/<subscription_id>/keep",
    "POST",
    auth="session",
    tag="Customer portal",
    summary="Undo a scheduled cancellation",
    response=schemas.Subscription,
)
def portal_keep(subscription_id: str):
    sub = rules.keep(_sub(subscription_id), settings())
    event("subscription.kept", None, sub.id)
    return success(render(sub), message="Subscription kept")
