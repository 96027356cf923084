"""The merchant's rules for a customer's plan changes beyond on/off: how many units of a
product may be chosen, and whether a downgrade waits for the renewal."""

from fractions import Fraction

from portal.billing.subscription_items import item_rows
from portal.errors import ValidationFailed
from portal.models import Price, Subscription
from portal.portal_settings.quantity_limits import quantity_range

# Periods of each interval in a year, to compare prices billed on different intervals.
PER_YEAR = {"day": 365, "week": 52, "month": 12, "year": 1}


def check_quantity(settings: dict, price: Price, quantity: int, most: int) -> None:
    low, high = quantity_range(settings, price.product_id, most)
    if not low <= quantity <= high:
        raise ValidationFailed.field("quantity", f"Choose a quantity from {low} to {high}.")


def _per_year(items: list[tuple[Price, int]]) -> Fraction:
    return sum(
        (
            Fraction(price.unit_amount * quantity * PER_YEAR[price.interval], price.interval_count)
            for price, quantity in items
        ),
        Fraction(0),
    )


def _periods_per_year(price: Price) -> Fraction:
    return Fraction(PER_YEAR[price.interval], price.interval_count)


def is_downgrade(sub: Subscription, items: list[tuple[Price, int]]) -> bool:
    """Costs less per year, or is billed more often (a shorter interval)."""
    current = [(row.price, row.quantity) for row in item_rows(sub)]
    if _per_year(items) < _per_year(current):
        return True
    return _periods_per_year(items[0][0]) > _periods_per_year(current[0][0])


def deferred(sub: Subscription, settings: dict, items: list[tuple[Price, int]]) -> bool:
    """Whether this change waits for the renewal under the merchant's downgrade rule."""
    return settings["downgrade_timing"] == "period_end" and is_downgrade(sub, items)
