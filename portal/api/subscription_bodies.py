"""What the subscription routes accept and the proration preview's answer: the pydantic
request bodies, query strings and response shape behind /subscriptions."""

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from portal.billing import pausing
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


def _utc(value: datetime) -> datetime:
    """Naive UTC at millisecond precision, as stored; a naive value is taken as UTC."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


class PauseBody(Body):
    behavior: Literal[pausing.BEHAVIORS] = Field(
        description="What each renewal does while paused: void writes no invoice (pending "
        "items wait for the next billed one), keep_as_draft a draft invoice, "
        "mark_uncollectible an uncollectible one. Nothing is charged."
    )
    resumes_at: Annotated[datetime, AfterValidator(_utc)] | None = Field(
        None,
        description="When collection resumes by itself (ISO 8601, in the future); a renewal "
        "due at that instant is billed. Omitted or null: until resumed.",
    )


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
    effective_at: str | None = Field(
        description="When the new items take over: null for at once; the renewal for a "
        "downgrade the portal defers (nothing is charged now)."
    )
