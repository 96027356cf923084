"""Coupons: validity, the discount they give on an amount, and how long they last."""

from datetime import datetime
from decimal import Decimal
from fractions import Fraction

from portal.models import Coupon, Discount, utcnow

from .money import format_money, round_cents
from .periods import boundary


def is_valid(coupon: Coupon, at: datetime | None = None) -> bool:
    """A coupon can still be redeemed: not deleted, not past redeem_by, redemptions left."""
    at = at or utcnow()
    if coupon.deleted_at is not None:
        return False
    if coupon.redeem_by is not None and at > coupon.redeem_by:
        return False
    return coupon.max_redemptions is None or coupon.times_redeemed < coupon.max_redemptions


def discount_amount(coupon: Coupon, amount: int, currency: str) -> int:
    """Cents taken off ``amount``; never more than the amount, never negative."""
    if amount <= 0:
        return 0
    if coupon.percent_off is not None:
        off = round_cents(Fraction(amount) * Fraction(Decimal(coupon.percent_off)) / 100)
    elif coupon.currency and coupon.currency.upper() == currency.upper():
        off = coupon.amount_off or 0
    else:
        off = 0
    return max(0, min(off, amount))


def discount_end(coupon: Coupon, start: datetime) -> datetime | None:
    """When a discount applied at ``start`` stops applying (None = never)."""
    if coupon.duration == "forever":
        return None
    if coupon.duration == "repeating":
        return boundary(start, "month", 1, coupon.duration_in_months or 1)
    return None  # "once": ended after its first invoice, see applies_to


def applies(discount: Discount, period_start: datetime) -> bool:
    """Whether a discount covers an invoice for the period starting at ``period_start``."""
    if discount.ended_at is not None:
        return False
    return discount.end is None or period_start < discount.end


def describe(coupon: Coupon, currency: str) -> str:
    """'20% off for 3 months', '$5.00 off once', '10% off forever'."""
    if coupon.percent_off is not None:
        value = Decimal(coupon.percent_off).normalize()
        what = f"{value:f}% off"
    else:
        what = f"{format_money(coupon.amount_off or 0, coupon.currency or currency)} off"
    if coupon.duration == "forever":
        return f"{what} forever"
    if coupon.duration == "repeating":
        months = coupon.duration_in_months or 1
        return f"{what} for {months} month{'s' if months != 1 else ''}"
    return f"{what} your next invoice"
