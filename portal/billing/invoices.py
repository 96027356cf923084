"""Invoices: issuing (numbering, lines, credit), listing by status, payment, voiding."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from portal.db import locked
from portal.errors import Conflict, ValidationFailed
from portal.models import (
    Charge,
    Company,
    Invoice,
    InvoiceLine,
    PaymentMethod,
    Subscription,
    new_id,
    utcnow,
)
from portal.webhooks import notify

from . import credit
from .gateway import get_gateway
from .invoice_parties import buyer_details, seller_details
from .invoice_totals import compute_totals
from .lookup import get_referenced


@dataclass
class LineSpec:
    description: str
    quantity: int
    unit_amount: int
    amount: int
    proration: bool = False
    period_start: datetime | None = None
    period_end: datetime | None = None
    price_id: str | None = None


def line_rows(lines: list[LineSpec], now: datetime, **owner) -> list[dict]:
    """Insertable rows for ``lines`` (invoice lines or pending items), in their order."""
    return [
        {
            "id": new_id(),
            **owner,
            "description": line.description[:500],
            "quantity": line.quantity,
            "unit_amount": line.unit_amount,
            "amount": line.amount,
            "proration": line.proration,
            "period_start": line.period_start,
            "period_end": line.period_end,
            "price": line.price_id,
            # Lines have no position column: a microsecond step keeps their order.
            "created_at": now + timedelta(microseconds=index),
            "updated_at": now,
        }
        for index, line in enumerate(lines)
    ]


def amount_remaining(invoice: Invoice) -> int:
    """What is still to pay: only an open invoice has anything left."""
    if invoice.status != "OPEN":
        return 0
    return max(0, invoice.amount_due - invoice.amount_paid)


def display_status(invoice: Invoice) -> str:
    """OPEN invoices whose collection failed or whose due date passed show as PAST_DUE."""
    if invoice.status == "OPEN" and (
        invoice.payment_failed or (invoice.due_date is not None and invoice.due_date < utcnow())
    ):
        return "PAST_DUE"
    return invoice.status


STATUSES = ("DRAFT", "OPEN", "PAID", "VOID", "UNCOLLECTIBLE", "PAST_DUE")


def status_condition(status: str, now: datetime | None = None):
    """A WHERE clause matching invoices whose display_status is ``status``."""
    now = now or utcnow()
    # Spelled out for NULL due dates, so that ~overdue stays true for them.
    overdue = (Invoice.payment_failed == True) | (  # noqa: E712
        Invoice.due_date.is_null(False) & (Invoice.due_date < now)
    )
    if status == "PAST_DUE":
        return (Invoice.status == "OPEN") & overdue
    if status == "OPEN":
        return (Invoice.status == "OPEN") & ~overdue
    return Invoice.status == status


def lines_by_invoice(invoice_ids: list[str]) -> dict[str, list[InvoiceLine]]:
    """The lines of several invoices in one query, each list in creation order."""
    grouped: dict[str, list[InvoiceLine]] = {invoice_id: [] for invoice_id in invoice_ids}
    if invoice_ids:
        rows = (
            InvoiceLine.select()
            .where(InvoiceLine.invoice.in_(invoice_ids))
            .order_by(InvoiceLine.created_at, InvoiceLine.id)
        )
        for line in rows:
            grouped[line.invoice_id].append(line)
    return grouped


def next_number(company: Company) -> str:
    """Reserve the company's next invoice number (the UPDATE takes the row lock)."""
    Company.update(next_invoice_number=Company.next_invoice_number + 1).where(
        Company.id == company.id
    ).execute()
    number = (
        Company.select(Company.next_invoice_number).where(Company.id == company.id).scalar() - 1
    )
    return f"{company.invoice_prefix}-{number:05d}"


def create_invoice(
    *,
    company: Company,
    customer,
    currency: str,
    lines: list[LineSpec],
    subscription: Subscription | None = None,
    coupons=(),
    period_start: datetime | None = None,
    period_end: datetime | None = None,
    now: datetime | None = None,
    draft: bool = False,
    use_credit: bool = True,
) -> Invoice:
    """Create a finalized invoice. Discounts come off a positive subtotal; credit pays what
    it can (the subscription's own first, then the customer's balance in that currency;
    none without ``use_credit``), and a negative total becomes the subscription's credit.
    A ``draft`` is only written: no credit either way, nothing due, not finalized."""
    now = now or utcnow()
    use_credit = use_credit and not draft
    own = subscription.credit_balance if subscription is not None and use_credit else 0
    if use_credit:
        credit.hold(customer.id)
    held = credit.balance(customer.id, currency) if use_credit else 0
    totals = compute_totals(lines, coupons, currency, own + held)
    from_customer = max(totals.credit_applied - own, 0)
    if subscription is not None and not draft:
        subscription.credit_balance += totals.credit_balance - own - (held - from_customer)
    subtotal, discount, total = totals.subtotal, totals.discount, totals.total
    credit_applied, amount_due = totals.credit_applied, totals.amount_due
    invoice = Invoice.create(
        company=company,
        customer=customer,
        subscription=subscription,
        number=next_number(company),
        status="DRAFT" if draft else "PAID" if amount_due == 0 else "OPEN",
        paid_at=now if amount_due == 0 and not draft else None,
        currency=currency,
        subtotal=subtotal,
        discount_amount=discount,
        credit_applied=credit_applied,
        total=total,
        amount_due=amount_due,
        due_date=now + timedelta(days=7),
        period_start=period_start,
        period_end=period_end,
        seller=seller_details(company),
        buyer=buyer_details(customer),
        created_at=now,
        updated_at=now,
    )
    InvoiceLine.insert_many(line_rows(lines, now, company=company.id, invoice=invoice.id)).execute()
    credit.spend(invoice, from_customer, now)
    if subscription is not None:
        subscription.latest_invoice_id = invoice.id
    notify.invoice(invoice, "invoice.created")
    if not draft:
        notify.invoice(invoice, "invoice.paid" if invoice.status == "PAID" else "invoice.finalized")
    return invoice


# Called with the invoice's id inside the paying transaction (receipts and dunning register
# here: a receipt, and the retries left are canceled), so a payment that rolls back does
# neither. The billing core knows nothing about e-mail.
PAID_HOOKS: list = []


def pay_invoice(
    invoice: Invoice, method: PaymentMethod, now: datetime | None = None, key: str | None = None
) -> Charge:
    """Charge what is left on an OPEN invoice to ``method``; records the attempt either way.
    ``key``: the gateway idempotency key (default: the invoice's next charge number)."""
    now = now or utcnow()
    invoice = locked(Invoice.select().where(Invoice.id == invoice.id)).get()
    if invoice.status != "OPEN":
        raise Conflict(f"Invoice {invoice.number} is {invoice.status.lower()}, not open.")
    if not method.enabled:
        raise Conflict("This payment method is disabled.")
    amount = invoice.amount_due - invoice.amount_paid
    if key is None:
        attempt = Charge.select().where(Charge.invoice == invoice).count() + 1
        key = f"invoice:{invoice.id}:attempt:{attempt}"
    result = get_gateway().charge(method.gateway_ref, amount, invoice.currency, key)
    charge = Charge.create(
        company=invoice.company_id,
        invoice=invoice,
        payment_method=method,
        amount=amount,
        currency=invoice.currency,
        status="succeeded" if result.succeeded else "failed",
        failure_message=result.failure_message,
        gateway_ref=result.gateway_ref,
        idempotency_key=key,
    )
    changes = {"payment_method": method, "updated_at": now, "version": Invoice.version + 1}
    if result.succeeded:
        changes.update(
            status="PAID", amount_paid=invoice.amount_due, paid_at=now, payment_failed=False
        )
    else:
        # A failed collection makes the invoice due now: "past due" never shows a due date
        # that is still ahead.
        due = invoice.due_date if invoice.due_date and invoice.due_date <= now else now
        changes.update(payment_failed=True, due_date=due)
    Invoice.update(**changes).where(Invoice.id == invoice.id).execute()
    if invoice.subscription_id:
        _sync_subscription_status(invoice, result.succeeded)
    notify.invoice(invoice, "invoice.paid" if result.succeeded else "invoice.payment_failed")
    if result.succeeded:
        for hook in PAID_HOOKS:
            hook(invoice.id)
    return charge


def _chosen_method(invoice: Invoice, method_id: str) -> PaymentMethod:
    method = get_referenced(PaymentMethod, invoice.company_id, method_id, "instrument_id")
    if method.customer_id != invoice.customer_id:
        raise ValidationFailed.field("instrument_id", "This payment method is another customer's.")
    if not method.enabled:
        raise ValidationFailed.field("instrument_id", "This payment method is disabled.")
    return method


def _usual_method(invoice: Invoice) -> PaymentMethod | None:
    """The subscription's method while it is enabled, else the customer's default."""
    if invoice.subscription_id:
        sub = Subscription.get_by_id(invoice.subscription_id)
        method = sub.payment_method
        if method is not None and method.enabled:
            return method
    return PaymentMethod.get_or_none(
        (PaymentMethod.customer == invoice.customer_id)
        & (PaymentMethod.is_default == True)  # noqa: E712
        & (PaymentMethod.enabled == True)  # noqa: E712
    )


def collect_now(invoice: Invoice, method_id: str | None = None) -> Charge:
    """Charge an open invoice now, to ``method_id`` or the usual method (see _usual_method)."""
    if invoice.status != "OPEN":
        raise Conflict(f"Invoice {invoice.number} is {invoice.status.lower()}, not open.")
    method = _chosen_method(invoice, method_id) if method_id else _usual_method(invoice)
    if method is None:
        raise ValidationFailed.field(
            "instrument_id", "The customer has no usable payment method; pass instrument_id."
        )
    return pay_invoice(invoice, method)


def _sync_subscription_status(invoice: Invoice, paid: bool) -> None:
    sub = Subscription.get_by_id(invoice.subscription_id)
    if sub.latest_invoice_id != invoice.id or sub.status == "canceled":
        return
    if paid and sub.status in ("incomplete", "past_due", "unpaid"):
        sub.status = "active"
    elif not paid and sub.status == "active":
        sub.status = "past_due"
    else:
        return
    sub.version += 1
    sub.save()
    notify.subscription(sub)


def void_invoice(invoice: Invoice) -> Invoice:
    invoice = locked(Invoice.select().where(Invoice.id == invoice.id)).get()
    if invoice.status != "OPEN":
        raise Conflict(
            f"Invoice {invoice.number} is {invoice.status.lower()}; only open ones can be voided."
        )
    invoice.status = "VOID"
    invoice.version += 1
    invoice.save()
    notify.invoice(invoice, "invoice.voided")
    return invoice
