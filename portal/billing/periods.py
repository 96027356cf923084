"""Billing periods: boundaries are counted from the anchor, so Jan 31 → Feb 28 → Mar 31."""

import calendar
from datetime import datetime, timedelta
from fractions import Fraction

INTERVALS = ("day", "week", "month", "year")


def _add_months(moment: datetime, months: int) -> datetime:
    total = moment.month - 1 + months
    year, month = moment.year + total // 12, total % 12 + 1
    last_day = calendar.monthrange(year, month)[1]
    return moment.replace(year=year, month=month, day=min(moment.day, last_day))


def boundary(anchor: datetime, interval: str, count: int, n: int) -> datetime:
    """The start of the n-th period after ``anchor`` (n = 0 is the anchor itself)."""
    if interval == "day":
        return anchor + timedelta(days=count * n)
    if interval == "week":
        return anchor + timedelta(weeks=count * n)
    if interval == "month":
        return _add_months(anchor, count * n)
    if interval == "year":
        return _add_months(anchor, 12 * count * n)
    raise ValueError(f"unknown interval {interval!r}")


def period_after(anchor: datetime, interval: str, count: int, start: datetime) -> datetime:
    """End of the period that begins at ``start`` (a boundary of ``anchor``)."""
    n = 0
    while boundary(anchor, interval, count, n) <= start:
        n += 1
    return boundary(anchor, interval, count, n)


def remaining_fraction(start: datetime, end: datetime, at: datetime) -> Fraction:
    """Exact share of [start, end) still ahead at ``at``, by whole seconds, within [0, 1]."""
    total = int((end - start).total_seconds())
    if total <= 0:
        return Fraction(0)
    left = int((end - max(at, start)).total_seconds())
    return Fraction(min(max(left, 0), total), total)
