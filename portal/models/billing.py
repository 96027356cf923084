"""Billing records the merchant API and the portal both act on. Money is integer cents."""

from peewee import (
    BigIntegerField,
    BooleanField,
    CharField,
    DateTimeField,
    DecimalField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from .base import BaseModel, JSONField
from .merchant import Company


class Customer(BaseModel):
    company = ForeignKeyField(Company, backref="customers", on_delete="CASCADE")
    first_name = CharField(max_length=100)
    last_name = CharField(max_length=100)
    company_name = CharField(max_length=200, null=True)
    email = CharField(max_length=254, null=True)
    phone = CharField(max_length=40, null=True)
    address_line1 = CharField(max_length=200, null=True)
    address_line2 = CharField(max_length=200, null=True)
    city = CharField(max_length=100, null=True)
    region = CharField(max_length=100, null=True)
    postal_code = CharField(max_length=20, null=True)
    country = CharField(max_length=2, null=True)
    tax_id = CharField(max_length=40, null=True)
    tags = JSONField(null=True)
    locale = CharField(max_length=8, null=True)  # the portal language the customer chose
    version = IntegerField(default=1)

    class Meta:
        indexes = ((("company", "email"), False), (("company", "created_at"), False))


class PaymentMethod(BaseModel):
    company = ForeignKeyField(Company, on_delete="CASCADE")
    customer = ForeignKeyField(Customer, backref="payment_methods", on_delete="CASCADE")
    type = CharField(max_length=16)  # PAYMENT_CARD | BANK_ACCOUNT
    gateway_ref = CharField(max_length=64, index=True)  # a token attaches once, in any worker
    name = CharField(max_length=120, null=True)
    brand = CharField(max_length=20, null=True)
    last_four = CharField(max_length=4)
    expiration_month = IntegerField(null=True)
    expiration_year = IntegerField(null=True)
    bank_name = CharField(max_length=100, null=True)
    account_type = CharField(max_length=20, null=True)
    masked_account_number = CharField(max_length=20, null=True)
    fingerprint = CharField(max_length=64)
    enabled = BooleanField(default=True)
    is_default = BooleanField(default=False)

    class Meta:
        indexes = ((("customer", "enabled"), False),)


class Product(BaseModel):
    company = ForeignKeyField(Company, backref="products", on_delete="CASCADE")
    name = CharField(max_length=200)
    description = TextField(null=True)
    active = BooleanField(default=True)
    default_price_id = CharField(max_length=36, null=True)
    metadata = JSONField(null=True)


class Price(BaseModel):
    company = ForeignKeyField(Company, on_delete="CASCADE")
    product = ForeignKeyField(Product, backref="prices", on_delete="CASCADE")
    active = BooleanField(default=True)
    type = CharField(max_length=16)  # recurring | one_time
    currency = CharField(max_length=3)
    unit_amount = BigIntegerField()
    interval = CharField(max_length=8, null=True)  # day | week | month | year
    interval_count = IntegerField(null=True)
    description = CharField(max_length=500, null=True)
    metadata = JSONField(null=True)


class Coupon(BaseModel):
    company = ForeignKeyField(Company, on_delete="CASCADE")
    name = CharField(max_length=200, null=True)
    duration = CharField(max_length=16)  # once | repeating | forever
    duration_in_months = IntegerField(null=True)
    percent_off = DecimalField(max_digits=5, decimal_places=2, null=True)
    amount_off = BigIntegerField(null=True)
    currency = CharField(max_length=3, null=True)
    max_redemptions = IntegerField(null=True)
    times_redeemed = IntegerField(default=0)
    redeem_by = DateTimeField(null=True)
    metadata = JSONField(null=True)
    deleted_at = DateTimeField(null=True)


class Subscription(BaseModel):
    company = ForeignKeyField(Company, on_delete="CASCADE")
    customer = ForeignKeyField(Customer, backref="subscriptions", on_delete="CASCADE")
    payment_method = ForeignKeyField(PaymentMethod, null=True, on_delete="SET NULL")
    status = CharField(max_length=20, index=True)
    currency = CharField(max_length=3)
    current_period_start = DateTimeField()
    current_period_end = DateTimeField(index=True)
    billing_cycle_anchor = DateTimeField()
    cancel_at_period_end = BooleanField(default=False)
    canceled_at = DateTimeField(null=True)
    ended_at = DateTimeField(null=True)
    cancellation_reason = CharField(max_length=100, null=True)
    cancellation_comment = TextField(null=True)
    latest_invoice_id = CharField(max_length=36, null=True)
    credit_balance = BigIntegerField(default=0)
    metadata = JSONField(null=True)
    version = IntegerField(default=1)
    # Collection paused by the merchant or the customer (None: not paused): what renewals
    # do meanwhile (void | keep_as_draft | mark_uncollectible) and when it resumes by itself.
    pause_behavior = CharField(max_length=20, null=True)
    pause_resumes_at = DateTimeField(null=True, index=True)  # run-billing resumes it then
    pause_source = CharField(max_length=10, null=True)  # merchant | customer: who may end it
    # Renewals charged nothing while paused (whoever paused) since the last billed one: a
    # customer's pause may skip pause_max_periods minus these more.
    pause_skipped = IntegerField(default=0)
    # [{price_id, quantity}] that replace the items at the renewal (scheduled_changes.py).
    scheduled_change = JSONField(null=True)
    # The subscription a customer started again from this ended one in the portal.
    resubscribed_to_id = CharField(max_length=36, null=True)

    class Meta:
        indexes = ((("company", "status"), False),)


class SubscriptionItem(BaseModel):
    company = ForeignKeyField(Company, on_delete="CASCADE")
    subscription = ForeignKeyField(Subscription, backref="items", on_delete="CASCADE")
    price = ForeignKeyField(Price, on_delete="RESTRICT")
    quantity = IntegerField(default=1)


class Discount(BaseModel):
    company = ForeignKeyField(Company, on_delete="CASCADE")
    subscription = ForeignKeyField(Subscription, backref="discounts", on_delete="CASCADE")
    coupon = ForeignKeyField(Coupon, on_delete="RESTRICT")
    start = DateTimeField()
    end = DateTimeField(null=True)
    ended_at = DateTimeField(null=True)


class Invoice(BaseModel):
    company = ForeignKeyField(Company, on_delete="CASCADE")
    customer = ForeignKeyField(Customer, backref="invoices", on_delete="CASCADE")
    subscription = ForeignKeyField(
        Subscription, null=True, backref="invoices", on_delete="SET NULL"
    )
    payment_method = ForeignKeyField(PaymentMethod, null=True, on_delete="SET NULL")
    number = CharField(max_length=32)
    status = CharField(max_length=16)  # DRAFT | OPEN | PAID | VOID | UNCOLLECTIBLE
    payment_failed = BooleanField(default=False)
    currency = CharField(max_length=3)
    subtotal = BigIntegerField(default=0)
    discount_amount = BigIntegerField(default=0)
    credit_applied = BigIntegerField(default=0)
    total = BigIntegerField(default=0)
    amount_due = BigIntegerField(default=0)
    amount_paid = BigIntegerField(default=0)
    due_date = DateTimeField(null=True)
    period_start = DateTimeField(null=True)
    period_end = DateTimeField(null=True)
    paid_at = DateTimeField(null=True)
    version = IntegerField(default=1)
    # Who sold and who bought, as they were when the invoice was issued: an issued invoice
    # never changes when either edits their details later.
    seller = JSONField(null=True)
    buyer = JSONField(null=True)

    class Meta:
        indexes = (
            (("company", "number"), True),
            (
                ("customer", "created_at", "number"),
                False,
            ),  # the portal list order (numbers are unique)
            (("company", "status"), False),
            # A customer's open invoices (the banner, "Invoices to pay"), oldest or newest
            # first, without reading the paid ones.
            (("customer", "status", "created_at"), False),
        )


class InvoiceLine(BaseModel):
    company = ForeignKeyField(Company, on_delete="CASCADE")
    invoice = ForeignKeyField(Invoice, backref="lines", on_delete="CASCADE")
    description = CharField(max_length=500)
    quantity = IntegerField(default=1)
    unit_amount = BigIntegerField()
    amount = BigIntegerField()
    proration = BooleanField(default=False)
    period_start = DateTimeField(null=True)
    period_end = DateTimeField(null=True)
    price = ForeignKeyField(Price, null=True, on_delete="SET NULL")


class PendingInvoiceItem(BaseModel):
    """A proration line waiting for the subscription's next renewal invoice (invoice set
    once it is billed)."""

    company = ForeignKeyField(Company, on_delete="CASCADE")
    subscription = ForeignKeyField(Subscription, backref="pending_items", on_delete="CASCADE")
    description = CharField(max_length=500)
    quantity = IntegerField(default=1)
    unit_amount = BigIntegerField()
    amount = BigIntegerField()
    proration = BooleanField(default=True)
    period_start = DateTimeField(null=True)
    period_end = DateTimeField(null=True)
    price = ForeignKeyField(Price, null=True, on_delete="SET NULL")
    invoice = ForeignKeyField(Invoice, null=True, on_delete="SET NULL")


class Charge(BaseModel):
    """One attempt to collect an invoice through the gateway."""

    company = ForeignKeyField(Company, on_delete="CASCADE")
    invoice = ForeignKeyField(Invoice, backref="charges", on_delete="CASCADE")
    payment_method = ForeignKeyField(PaymentMethod, null=True, on_delete="SET NULL")
    amount = BigIntegerField()
    currency = CharField(max_length=3)
    status = CharField(max_length=16)  # succeeded | failed
    failure_message = CharField(max_length=200, null=True)
    gateway_ref = CharField(max_length=64, null=True)
    idempotency_key = CharField(max_length=100, unique=True)


class CreditEntry(BaseModel):
    """One line of a customer's credit balance (per currency): credit granted (positive),
    credit spent on an invoice or refunded (negative). The balance is their sum."""

    company = ForeignKeyField(Company, on_delete="CASCADE")
    customer = ForeignKeyField(Customer, backref="credit_entries", on_delete="CASCADE")
    currency = CharField(max_length=3)
    amount = BigIntegerField()
    kind = CharField(max_length=32)  # subscription_ended | applied | refunded
    description = CharField(max_length=200)
    subscription = ForeignKeyField(Subscription, null=True, on_delete="SET NULL")
    invoice = ForeignKeyField(Invoice, null=True, on_delete="SET NULL")

    class Meta:
        indexes = ((("customer", "currency"), False),)


class Refund(BaseModel):
    """Money returned through the gateway to the payment method a charge came from."""

    company = ForeignKeyField(Company, on_delete="CASCADE")
    charge = ForeignKeyField(Charge, backref="refunds", on_delete="CASCADE")
    amount = BigIntegerField()
    currency = CharField(max_length=3)
    status = CharField(max_length=16)  # succeeded | failed
    gateway_ref = CharField(max_length=64, null=True)
    reason = CharField(max_length=200)
    idempotency_key = CharField(max_length=100, unique=True)


class DunningAttempt(BaseModel):
    """One scheduled retry of a failed invoice payment. Run at most once: a runner claims it
    under a row lock while it is ``scheduled``; paying the invoice cancels those left."""

    company = ForeignKeyField(Company, on_delete="CASCADE")
    invoice = ForeignKeyField(Invoice, backref="dunning_attempts", on_delete="CASCADE")
    subscription = ForeignKeyField(Subscription, null=True, on_delete="SET NULL")
    number = IntegerField()  # 1 for the first retry
    due_at = DateTimeField()
    status = CharField(max_length=16, default="scheduled")  # scheduled|succeeded|failed|canceled
    charge = ForeignKeyField(Charge, null=True, on_delete="SET NULL")
    finished_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("invoice", "number"), True), (("status", "due_at"), False))
