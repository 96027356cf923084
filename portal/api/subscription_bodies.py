"""What the subscription routes accept and the proration preview's answer: the pydantic
request bodies, query strings and response shape behind /subscriptions."""

from typing import Annotated, Literal

from pydantic import Field

from portal.billing.proration import BEHAVIORS, TIMINGS
from portal.billing.subscription_items import MAX_QUANTITY

from . import schemas
from .fields import Id, Metadata
from .validation import Body, Query

Behavior = Literal[BEHAVIORS]
Timing = Literal[TIMINGS]
Quantity = Annotated[int, Field(ge=1, le=MAX_QUANTITY)]
MAX_ITEMS = 20


class ItemIn(Body):
    price_id: Id
    quantity: Quantity = 1


class SubscriptionCreate(Body):
    identity_id: Id
    items: Annotated[list[ItemIn], Field(min_length=1, max_length=MAX_ITEMS)]
    instrument_id: Id | None = None
    coupon_id: Id | None = None
    metadata: Metadata | None = None


class SubscriptionUpdate(Body):
    # instrument_id and items may be left out, but not sent as null.
    metadata: Metadata | None = None
    instrument_id: Id = None
    items: Annotated[list[ItemIn], Field(min_length=1, max_length=MAX_ITEMS)] = None
    proration_behavior: Behavior = "prorate"
    charge_timing: Timing = "immediately"
    expected_version: Annotated[int, Field(ge=1)] | None = None


class NoBody(Body):
    """Action routes take no fields; anything sent is refused as unknown."""


class CancelQuery(Query):
    at_period_end: bool = False
    prorate: bool = False


class PreviewQuery(Query):
    items: str | None = Field(None, max_length=2000)
    proration_behavior: Behavior = "prorate"
    charge_timing: Timing = "immediately"


class PreviewLine(schemas.Shape):
    description: str
    amount: int
    quantity: int
    unit_amount: int
    proration: bool
    period_start: str | None
    period_end: str | None
    price_id: str | None


class NextInvoice(schemas.Shape):
    amount: int
    date: str


class ProrationPreview(schemas.Shape):
    amount_due_now: int
    currency: str
    lines: list[PreviewLine]
    next_invoice: NextInvoice
    credit_balance_after: int
    proration_behavior: str
    charge_timing: str
    subscription_version: int
