"""An invoice's numbers (subtotal, discounts, credit applied, amount due), computed without
writing anything: issuing an invoice and every preview of one use the same arithmetic."""

from dataclasses import dataclass

from .coupons import discount_amount


@dataclass(frozen=True)
class Totals:
    subtotal: int
    discount: int
    total: int
    credit_applied: int
    amount_due: int
    credit_balance: int  # the subscription's credit balance afterwards


def compute_totals(lines, coupons, currency: str, credit_balance: int = 0) -> Totals:
    """An invoice's numbers, without writing anything (proration previews use it too)."""
    subtotal = sum(line.amount for line in lines)
    discount = 0
    for coupon in coupons:
        discount += discount_amount(coupon, subtotal - discount, currency)
    total = subtotal - discount
    credit_applied = min(credit_balance, total) if total > 0 and credit_balance > 0 else 0
    balance = credit_balance - credit_applied + max(-total, 0)
    amount_due = max(total - credit_applied, 0)
    return Totals(subtotal, discount, total, credit_applied, amount_due, balance)
