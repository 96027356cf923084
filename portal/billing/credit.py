"""A customer's credit balance, per currency: granted when a subscription ends with credit
left (unused time), spent by the customer's next invoices (any subscription), or refunded
to the payment method the money came from. Every movement is a CreditEntry row."""

from datetime import datetime

from peewee import fn

from portal.db import locked
from portal.models import Charge, CreditEntry, Customer, Invoice, Refund, Subscription

from .gateway import get_gateway


def balances(customer_id: str) -> dict[str, int]:
    """Credit left per currency (only currencies with some), in one query."""
    rows = (
        CreditEntry.select(CreditEntry.currency, fn.SUM(CreditEntry.amount))
        .where(CreditEntry.customer == customer_id)
        .group_by(CreditEntry.currency)
        .tuples()
    )
    return {currency: int(total) for currency, total in rows if total}


def balance(customer_id: str, currency: str) -> int:
    return balances(customer_id).get(currency.upper(), 0)


def hold(customer_id: str) -> None:
    """Lock the customer row: two invoices cannot both spend the same credit."""
    locked(Customer.select(Customer.id).where(Customer.id == customer_id)).get()


def spend(invoice: Invoice, amount: int, now: datetime) -> None:
    if amount > 0:
        _entry(
            invoice.customer_id,
            invoice.company_id,
            invoice.currency,
            -amount,
            now,
            kind="applied",
            description=f"Applied to invoice {invoice.number}",
            invoice=invoice.id,
            subscription=invoice.subscription_id,
        )


def release_subscription_credit(sub: Subscription, now: datetime, refund: bool) -> int:
    """Move an ended subscription's credit to its customer: refunded to the original
    payment method when ``refund`` (as far as that charge allows), the rest to the balance.
    Returns the amount refunded."""
    amount = sub.credit_balance
    if amount <= 0:
        return 0
    Subscription.update(credit_balance=0).where(Subscription.id == sub.id).execute()
    sub.credit_balance = 0
    _entry(
        sub.customer_id,
        sub.company_id,
        sub.currency,
        amount,
        now,
        kind="subscription_ended",
        description="Unused time on a canceled subscription",
        subscription=sub.id,
    )
    refunded = _refund_to_payment_method(sub, amount, now) if refund else 0
    if refunded:
        _entry(
            sub.customer_id,
            sub.company_id,
            sub.currency,
            -refunded,
            now,
            kind="refunded",
            description="Refunded to the original payment method",
            subscription=sub.id,
        )
    return refunded


def _refund_to_payment_method(sub: Subscription, amount: int, now: datetime) -> int:
    """Refund up to ``amount`` from the subscription's latest successful charges."""
    charges = (
        Charge.select()
        .join(Invoice)
        .where((Invoice.subscription == sub.id) & (Charge.status == "succeeded"))
        .order_by(Charge.created_at.desc())
    )
    left = amount
    for charge in charges:
        if left <= 0:
            break
        already = (
            Refund.select(fn.COALESCE(fn.SUM(Refund.amount), 0))
            .where((Refund.charge == charge) & (Refund.status == "succeeded"))
            .scalar()
        )
        portion = min(left, charge.amount - int(already))
        if portion <= 0:
            continue
        key = f"refund:{sub.id}:{charge.id}:{sub.version}"
        result = get_gateway().refund(charge.gateway_ref, portion, charge.currency, key)
        Refund.create(
            company=sub.company_id,
            charge=charge,
            amount=portion,
            currency=charge.currency,
            status="succeeded" if result.succeeded else "failed",
            gateway_ref=result.gateway_ref,
            reason="Unused time on a canceled subscription",
            idempotency_key=key,
            created_at=now,
            updated_at=now,
        )
        if result.succeeded:
            left -= portion
    return amount - left


def _entry(customer_id, company_id, currency, amount, now, **fields) -> None:
    CreditEntry.create(
        company=company_id,
        customer=customer_id,
        currency=currency.upper(),
        amount=amount,
        created_at=now,
        updated_at=now,
        **fields,
    )
