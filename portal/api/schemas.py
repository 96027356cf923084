"""Response shapes, for the OpenAPI document and for tests that hold responses to it."""

from pydantic import BaseModel, ConfigDict, Field


class Shape(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Stamped(Shape):
    created_at: str
    updated_at: str


class Address(Shape):
    line1: str | None
    line2: str | None
    city: str | None
    region: str | None
    postal_code: str | None
    country: str | None


class Entity(Shape):
    first_name: str
    last_name: str
    company_name: str | None
    email: str | None
    phone: str | None
    personal_address: Address


class Customer(Stamped):
    id: str
    company_id: str
    email: str | None
    entity: Entity
    tags: dict
    tax_id: str | None
    default_payment_instrument_id: str | None


class Product(Stamped):
    id: str
    company_id: str
    name: str
    description: str | None
    active: bool
    default_price_id: str | None
    price_ids: list[str]
    metadata: dict


class Price(Stamped):
    id: str
    product_id: str
    active: bool
    type: str
    recurring: bool
    currency: str
    unit_amount: int
    interval: str | None
    interval_count: int | None
    description: str | None
    metadata: dict


class ProductWithPrices(Product):
    prices: list[Price]


class Coupon(Stamped):
    id: str
    name: str | None
    duration: str
    duration_in_months: int | None
    percent_off: float | None
    amount_off: int | None
    currency: str | None
    max_redemptions: int | None
    times_redeemed: int
    redeem_by: str | None
    valid: bool
    metadata: dict


class PaymentInstrument(Stamped):
    id: str
    identity_id: str
    type: str
    instrument_type: str
    enabled: bool
    brand: str | None
    last_four: str
    expiration_month: int | None
    expiration_year: int | None
    bank_name: str | None
    masked_account_number: str | None
    account_type: str | None
    name: str | None
    fingerprint: str
    is_default: bool


class SubscriptionItem(Stamped):
    id: str
    subscription_id: str
    price_id: str
    quantity: int


class CancellationDetails(Shape):
    reason: str | None
    comment: str | None


class PauseCollection(Shape):
    """Set while collection is paused on purpose (null when not, and when dunning paused it)."""

    behavior: str = Field(
        description="What each renewal does while paused: void (no invoice), keep_as_draft "
        "(a draft invoice) or mark_uncollectible (an uncollectible invoice); none is charged."
    )
    resumes_at: str | None = Field(
        description="When collection resumes by itself (run-billing, before a renewal due "
        "then); null: until resumed."
    )


class ScheduledItem(Shape):
    price_id: str
    quantity: int


class ScheduledChange(Shape):
    items: list[ScheduledItem] = Field(description="The items from the renewal on.")
    effective_at: str = Field(description="The renewal (the current period's end).")


class Discount(Stamped):
    id: str
    subscription_id: str
    coupon_id: str
    start: str
    end: str | None


class Subscription(Stamped):
    id: str
    identity_id: str
    instrument_id: str | None
    status: str
    currency: str
    items: list[SubscriptionItem]
    current_period_start: str
    current_period_end: str
    billing_cycle_anchor: str
    cancel_at_period_end: bool
    canceled_at: str | None
    ended_at: str | None
    cancellation_details: CancellationDetails
    pause_collection: PauseCollection | None
    scheduled_change: ScheduledChange | None = Field(
        description="A change that waits for the renewal (a downgrade the portal deferred); "
        "null when none. Any change of the items made before then replaces it."
    )
    latest_invoice_id: str | None
    credit_balance: int
    discount: Discount | None
    metadata: dict
    version: int


class SubscriptionPage(Shape):
    data: list[Subscription]
    total: int
    limit: int
    offset: int


class InvoiceLine(Shape):
    id: str
    description: str
    quantity: int
    unit_amount: int
    amount: int
    proration: bool
    period_start: str | None
    period_end: str | None
    price_id: str | None


class InvoiceSeller(Shape):
    """The merchant as named on the invoice when it was issued."""

    name: str
    address_lines: list[str]
    support_email: str | None


class InvoiceBuyer(Shape):
    """The customer's billing details as they were when the invoice was issued."""

    id: str
    name: str
    # Absent from invoices issued before company names existed.
    company_name: str | None = None
    email: str | None
    phone: str | None
    address: Address
    tax_id: str | None


class Invoice(Stamped):
    id: str
    number: str
    status: str
    customer_id: str
    subscription_id: str | None
    payment_instrument_id: str | None
    currency: str
    subtotal: int
    discount_amount: int
    credit_applied: int
    total: int
    amount_due: int
    amount_paid: int
    amount_remaining: int
    items: list[InvoiceLine]
    due_date: str | None
    period_start: str | None
    period_end: str | None
    paid_at: str | None
    hosted_invoice_url: str
    invoice_pdf_url: str
    seller: InvoiceSeller
    buyer: InvoiceBuyer
