"""Portal-session JSON: pausing one of the customer's subscriptions for a few billing
periods, and resuming it early (``self_service.pausing`` holds the rules)."""

from typing import Annotated

from pydantic import Field

from portal.models import Subscription, utcnow
from portal.portal_settings.config import MAX_PAUSE_PERIODS
from portal.self_service import pausing as rules
from portal.timefmt import iso

from . import schemas
from .core import api_route
from .envelope import success
from .portal_scope import event, own, require, settings
from .subscriptions import render
from .validation import Body


class PauseBody(Body):
    periods: Annotated[int, Field(ge=1, le=MAX_PAUSE_PERIODS)] = Field(
        description="How many billing periods to skip (up to the portal's pause_max_periods): "
        "no invoice for them; collection resumes on the renewal after them."
    )


class PauseOption(schemas.Shape):
    periods: int
    resumes_at: str = Field(description="When collection resumes: the next charge.")


class PauseOptions(schemas.Shape):
    options: list[PauseOption] = Field(description="Empty when pausing is not offered.")


def _sub(subscription_id: str) -> Subscription:
    require("subscriptions_enabled", "Subscriptions")
    return own(Subscription, subscription_id, "subscription")


@api_route(
    "/customer-portal/subscriptions/<subscription_id>/pause-options",
    "GET",
    auth="session",
    tag="Customer portal",
    summary="The pauses on offer, each with the day collection resumes",
    response=PauseOptions,
)
def portal_pause_options(subscription_id: str):
    options = rules.pause_options(_sub(subscription_id), settings(), utcnow())
    data = [{"periods": o.periods, "resumes_at": iso(o.resumes_at)} for o in options]
    return success({"options": data})


@api_route(
    "/customer-portal/subscriptions/<subscription_id>/pause",
    "POST",
    auth="session",
    tag="Customer portal",
    summary="Pause for 1 to pause_max_periods billing periods (pausing again replaces it)",
    body=PauseBody,
    response=schemas.Subscription,
)
def portal_pause(subscription_id: str, body: PauseBody):
    sub = rules.pause_for_periods(_sub(subscription_id), body.periods, settings())
    details = {"periods": body.periods, "resumes_at": iso(sub.pause_resumes_at)}
    event("subscription.paused", details, sub.id)
    return success(render(sub), message="Subscription paused")


@api_route(
    "/customer-portal/subscriptions/<subscription_id>/resume",
    "POST",
    auth="session",
    tag="Customer portal",
    summary="Resume a paused subscription now",
    response=schemas.Subscription,
)
def portal_resume(subscription_id: str):
    sub = rules.resume_for_customer(_sub(subscription_id), settings())
    event("subscription.resumed", None, sub.id)
    return success(render(sub), message="Subscription resumed")
