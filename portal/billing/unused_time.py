"""Credit for the unused rest of a paid period, when a subscription ends before its end."""

from dataclasses import replace
from datetime import datetime
from fractions import Fraction

from portal.models import Invoice, Subscription

from .invoices import LineSpec
from .money import round_cents
from .proration import credit_lines
from .subscription_items import current_items


def period_invoice(sub: Subscription) -> Invoice | None:
    """The paid invoice that bought the current period, if any."""
    return (
        Invoice.select()
        .where(
            (Invoice.subscription == sub)
            & (Invoice.period_start == sub.current_period_start)
            & (Invoice.status == "PAID")
            & (Invoice.total > 0)
        )
        .order_by(Invoice.created_at)
        .first()
    )


def unused_time_credit(sub: Subscription, now: datetime) -> list[LineSpec]:
    """Credit for the unused rest of a paid period, for what was actually paid: a discount
    on the period's invoice shrinks the credit in the same proportion."""
    invoice = period_invoice(sub)
    if invoice is None:
        return []
    lines = credit_lines(current_items(sub), sub.current_period_start, sub.current_period_end, now)
    if invoice.subtotal <= 0 or invoice.total >= invoice.subtotal:
        return lines
    share = Fraction(invoice.total, invoice.subtotal)
    return [
        replace(
            line,
            amount=-round_cents(-line.amount * share),
            unit_amount=-round_cents(-line.unit_amount * share),
            description=f"{line.description} (after discount)",
        )
        for line in lines
    ]
