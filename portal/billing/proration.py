"""Proration: what changing a subscription's items costs, as pure functions of prices,
the billing period and the instant of the change. Nothing here reads or writes the database;
the preview and the change itself both call ``plan_change``, so they cannot disagree."""

from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

from .invoice_totals import Totals, compute_totals
from .invoices import LineSpec
from .money import round_cents
from .periods import remaining_fraction

BEHAVIORS = ("none", "prorate", "full_difference")
TIMINGS = ("immediately", "period_end")


@dataclass(frozen=True)
class Priced:
    """One subscription item as proration sees it: a price, what it is called, a quantity."""

    price_id: str
    name: str
    unit_amount: int
    quantity: int

    @property
    def amount(self) -> int:
        return self.unit_amount * self.quantity


def period_line(item: Priced, start: datetime, end: datetime) -> LineSpec:
    """The full price of one item for one period."""
    return LineSpec(
        description=f"{item.name} × {item.quantity}",
        quantity=item.quantity,
        unit_amount=item.unit_amount,
        amount=item.amount,
        period_start=start,
        period_end=end,
        price_id=item.price_id,
    )


def time_line(
    item: Priced, fraction: Fraction, *, credit: bool, start: datetime, end: datetime
) -> LineSpec | None:
    """Charge (or credit) ``fraction`` of an item's period price, None when it rounds to 0.

    The magnitude is rounded before the sign is applied, so crediting and charging the
    same item at the same instant cancel to the cent."""
    amount = round_cents(item.amount * fraction)
    if amount == 0:
        return None
    sign = -1 if credit else 1
    what = "Unused time on" if credit else "Remaining time on"
    return LineSpec(
        description=f"{what} {item.name} × {item.quantity}",
        quantity=item.quantity,
        unit_amount=sign * round_cents(item.unit_amount * fraction),
        amount=sign * amount,
        proration=True,
        period_start=start,
        period_end=end,
        price_id=item.price_id,
    )


def credit_lines(items, start: datetime, end: datetime, now: datetime) -> list[LineSpec]:
    """Credit for the unused rest of the period [start, end) of every item."""
    fraction = remaining_fraction(start, end, now)
    lines = [time_line(i, fraction, credit=True, start=now, end=end) for i in items]
    return [line for line in lines if line is not None]


def _changed(old: list[Priced], new: list[Priced]) -> tuple[list[Priced], list[Priced]]:
    """Drop the items that stay exactly as they are: they cost nothing to keep."""
    kept = {(i.price_id, i.quantity) for i in old} & {(i.price_id, i.quantity) for i in new}
    return (
        [i for i in old if (i.price_id, i.quantity) not in kept],
        [i for i in new if (i.price_id, i.quantity) not in kept],
    )


def proration_lines(
    old: list[Priced],
    new: list[Priced],
    behavior: str,
    period: tuple[datetime, datetime],
    now: datetime,
) -> list[LineSpec]:
    """The lines a change from ``old`` to ``new`` items at ``now`` adds to the bill."""
    if behavior not in BEHAVIORS:
        raise ValueError(f"unknown proration behavior {behavior!r}")
    start, end = period
    if behavior == "none":
        return []
    if behavior == "full_difference":
        difference = sum(i.amount for i in new) - sum(i.amount for i in old)
        if difference == 0:
            return []
        what = "Upgrade" if difference > 0 else "Downgrade"
        line = LineSpec(
            description=f"{what}: full-period price difference",
            quantity=1,
            unit_amount=difference,
            amount=difference,
            proration=True,
            period_start=now,
            period_end=end,
        )
        return [line]
    removed, added = _changed(old, new)
    fraction = remaining_fraction(start, end, now)
    charges = [time_line(i, fraction, credit=False, start=now, end=end) for i in added]
    return credit_lines(removed, start, end, now) + [c for c in charges if c is not None]


@dataclass(frozen=True)
class Billing:
    """What a plan needs to know about the subscription besides its items."""

    currency: str
    period_start: datetime
    period_end: datetime
    next_period_end: datetime
    credit_balance: int
    coupons_now: tuple = ()
    coupons_next: tuple = ()
    pending: tuple[LineSpec, ...] = ()


@dataclass(frozen=True)
class ChangePlan:
    behavior: str
    timing: str
    billing: Billing
    lines: list[LineSpec]  # the proration lines of this change
    invoice_now: Totals | None  # the invoice made at once (timing immediately, lines exist)
    credit_balance_after: int  # right after the change
    next_lines: list[LineSpec]  # the renewal invoice: new items plus pending lines
    next_invoice: Totals
    # A change of billing interval starts a new period now: (its start, its end).
    new_period: tuple[datetime, datetime] | None = None
    # When the new items take over: None for now; the period end for a change scheduled
    # for the renewal (billing/scheduled_changes.py).
    effective_at: datetime | None = None

    @property
    def amount_due_now(self) -> int:
        return self.invoice_now.amount_due if self.invoice_now is not None else 0

    @property
    def next_invoice_date(self) -> datetime:
        return self.new_period[1] if self.new_period else self.billing.period_end


def plan_change(
    old: list[Priced], new: list[Priced], behavior: str, timing: str, billing: Billing, now
) -> ChangePlan:
    """Everything a change of items does: lines, the invoice now, and the next invoice."""
    if timing not in TIMINGS:
        raise ValueError(f"unknown charge timing {timing!r}")
    lines = proration_lines(old, new, behavior, (billing.period_start, billing.period_end), now)
    invoice_now, balance, pending = None, billing.credit_balance, list(billing.pending)
    if lines and timing == "immediately":
        invoice_now = compute_totals(lines, billing.coupons_now, billing.currency, balance)
        balance = invoice_now.credit_balance
    else:
        pending += lines
    next_lines = [period_line(i, billing.period_end, billing.next_period_end) for i in new]
    next_lines += pending
    next_invoice = compute_totals(next_lines, billing.coupons_next, billing.currency, balance)
    return ChangePlan(
        behavior, timing, billing, lines, invoice_now, balance, next_lines, next_invoice
    )


def plan_interval_change(
    old: list[Priced],
    new: list[Priced],
    behavior: str,
    billing: Billing,
    now: datetime,
    periods: tuple[datetime, datetime],
) -> ChangePlan:
    """Moving to another billing interval (monthly to yearly, or back): the new plan's first
    period starts now and is charged in full at once, less the unused rest of the current
    period (unless the merchant's behavior is "none"). ``periods``: the ends of the new
    first and second periods. Always charged immediately: the old period ends now."""
    if behavior not in BEHAVIORS:
        raise ValueError(f"unknown proration behavior {behavior!r}")
    first_end, second_end = periods
    credit = (
        []
        if behavior == "none"
        else credit_lines(old, billing.period_start, billing.period_end, now)
    )
    lines = credit + [period_line(i, now, first_end) for i in new]
    invoice_now = compute_totals(
        lines, billing.coupons_now, billing.currency, billing.credit_balance
    )
    balance = invoice_now.credit_balance
    next_lines = [period_line(i, first_end, second_end) for i in new] + list(billing.pending)
    next_invoice = compute_totals(next_lines, billing.coupons_next, billing.currency, balance)
    return ChangePlan(
        behavior,
        "immediately",
        billing,
        lines,
        invoice_now,
        balance,
        next_lines,
        next_invoice,
        new_period=(now, first_end),
    )
