"""Starting again: a customer whose subscription ended, or is set to end, picks it up again
on an allowed plan (no Flask here).

Three ways, decided by the subscription and the chosen plan, and priced by the same rules
as everything else:

- ``keep``: set to end, same plan and quantity: the cancellation is undone, nothing is
  charged now, the subscription renews at the period end as before;
- ``change``: set to end, another plan or quantity: the cancellation is undone and the change
  is billed exactly as ``subscriptions.preview``/``change`` bill it;
- ``new``: ended: a new subscription for the same customer, its first period charged at once
  (one invoice, customer credit applied as ``create_invoice`` applies it). A declined charge
  is a PaymentDeclined (402) and the caller's transaction writes nothing.
"""

from dataclasses import dataclass, field
from datetime import datetime

from portal.billing import credit
from portal.billing.changes import check_version
from portal.billing.invoice_totals import compute_totals
from portal.billing.invoices import LineSpec
from portal.billing.periods import boundary
from portal.billing.proration import period_line
from portal.billing.subscription_items import (
    LIVE_STATUSES,
    default_method,
    item_rows,
    lock,
    priced,
)
from portal.billing.subscriptions import create_subscription, undo_cancellation
from portal.errors import (
    Conflict,
    FeatureDisabled,
    PaymentDeclined,
    PermissionDenied,
    ValidationFailed,
)
from portal.models import Charge, Price, Subscription, utcnow
from portal.webhooks import notify

from . import plan_rules
from . import subscriptions as rules

ENDED_STATUSES = ("canceled", "incomplete_expired")


@dataclass(frozen=True)
class ResubscribePlan:
    mode: str  # keep | change | new
    amount_due_now: int
    currency: str
    next_charge_at: datetime
    price_id: str
    quantity: int
    lines: list[LineSpec] = field(default_factory=list)
    effective_at: datetime | None = None  # a change deferred to the renewal (downgrades)


def ended(sub: Subscription) -> bool:
    return sub.status in ENDED_STATUSES


def ending(sub: Subscription) -> bool:
    return sub.status in LIVE_STATUSES and bool(sub.cancel_at_period_end)


def current_price_id(sub: Subscription) -> str | None:
    rows = item_rows(sub)
    return rows[0].price_id if len(rows) == 1 else None


def _successor(sub: Subscription) -> Subscription | None:
    """The subscription already started again from this one: once started again, a
    subscription is restarted from its successor (so a chain never holds two live ones)."""
    if not sub.resubscribed_to_id:
        return None
    return Subscription.get_or_none(Subscription.id == sub.resubscribed_to_id)


def offers_restart(sub: Subscription, settings: dict) -> bool:
    """Whether the portal offers to start ``sub`` again (no query: for lists; the options
    page may still find no plan to offer)."""
    on = settings["resubscribe_enabled"] and settings["subscriptions_enabled"]
    return on and (ended(sub) or ending(sub)) and not sub.resubscribed_to_id


def resubscribe_options(sub: Subscription, settings: dict) -> list[Price]:
    """The subscription's own price (still active, of an allowed active product) and, with
    plan switching on, the prices ``switch_options`` offers; empty when it cannot restart."""
    if not settings["resubscribe_enabled"] or not settings["subscriptions_enabled"]:
        return []
    if not (ended(sub) or ending(sub)) or _successor(sub) is not None:
        return []
    rows = item_rows(sub)
    if len(rows) != 1:
        return []
    own = rows[0].price
    allowed = settings["subscription_product_ids"]
    options = []
    if own.active and own.product.active and (not allowed or own.product_id in allowed):
        options.append(own)
    if settings["allow_plan_switch"]:
        options += rules.switch_options(sub, settings)
    return options


def _check(sub: Subscription, settings: dict) -> None:
    if not settings["subscriptions_enabled"]:
        raise FeatureDisabled("Subscriptions are turned off for this portal.")
    if not settings["resubscribe_enabled"]:
        raise FeatureDisabled("Starting a subscription again is turned off for this portal.")
    if not (ended(sub) or ending(sub)):
        raise Conflict("This subscription is still running and not set to end.")
    successor = _successor(sub)
    if successor is not None:
        raise Conflict(
            "This subscription was already started again.",
            details={"subscription_id": successor.id},
        )


def _choice(sub: Subscription, settings: dict, price_id: str | None, quantity: int | None):
    """The price and quantity asked for, checked against the options and quantity rules."""
    rows = item_rows(sub)
    if len(rows) != 1:
        raise Conflict("This subscription has several items; start it again with us directly.")
    own, old_quantity = rows[0].price, rows[0].quantity
    price_id = price_id or own.id
    ours = Price.select().where((Price.id == price_id) & (Price.company == sub.company_id))
    if not ours.exists():
        raise ValidationFailed.field("price_id", "No such price in this account.")
    price = next((p for p in resubscribe_options(sub, settings) if p.id == price_id), None)
    if price is None:
        raise PermissionDenied("That plan is not available here.")
    quantity = old_quantity if quantity is None else quantity
    if quantity != old_quantity and not settings["allow_quantity_updates"]:
        raise FeatureDisabled("Quantity changes are turned off for this portal.")
    plan_rules.check_quantity(settings, price, quantity, rules.MAX_PORTAL_QUANTITY)
    return price, quantity, price.id == own.id and quantity == old_quantity


def _without_cancellation(sub: Subscription) -> Subscription:
    """An unsaved copy of ``sub`` as it would be with its cancellation undone."""
    copy = Subscription.get_by_id(sub.id)
    copy.cancel_at_period_end, copy.canceled_at = False, None
    return copy


def _first_invoice(sub: Subscription, price: Price, quantity: int, now: datetime):
    end = boundary(now, price.interval, price.interval_count, 1)
    lines = [period_line(item, now, end) for item in priced([(price, quantity)])]
    available = credit.balance(sub.customer_id, price.currency)
    return lines, compute_totals(lines, (), price.currency, available), end


def preview_resubscribe(sub, settings, price_id=None, quantity=None, now=None) -> ResubscribePlan:
    """What starting again on ``price_id`` × ``quantity`` would charge now and next."""
    now = now or utcnow()
    _check(sub, settings)
    price, quantity, same = _choice(sub, settings, price_id, quantity)
    if ended(sub):
        lines, totals, end = _first_invoice(sub, price, quantity, now)
        return ResubscribePlan(
            "new", totals.amount_due, price.currency, end, price.id, quantity, lines
        )
    if same:
        return ResubscribePlan("keep", 0, sub.currency, sub.current_period_end, price.id, quantity)
    change_to = price.id if price.id != item_rows(sub)[0].price_id else None
    plan = rules.preview(_without_cancellation(sub), settings, change_to, quantity, now=now)
    return ResubscribePlan(
        "change",
        plan.amount_due_now,
        sub.currency,
        plan.next_invoice_date,
        price.id,
        quantity,
        list(plan.lines),
        plan.effective_at,
    )


def _start_again(sub: Subscription, price: Price, quantity: int, now: datetime):
    old_method = sub.payment_method if sub.payment_method_id else None
    method = default_method(sub.customer_id)
    if method is None and old_method is not None and old_method.enabled:
        method = old_method
    _lines, totals, _end = _first_invoice(sub, price, quantity, now)
    if method is None and totals.amount_due > 0:
        raise PaymentDeclined("There is no payment method to charge. Nothing was changed.")
    new = create_subscription(
        sub.company, sub.customer, [(price, quantity)], payment_method=method, now=now
    )
    if new.status != "active":
        charge = (
            Charge.select()
            .where(Charge.invoice == new.latest_invoice_id)
            .order_by(Charge.created_at.desc())
            .first()
        )
        why = (charge.failure_message if charge else None) or "The payment was declined."
        raise PaymentDeclined(f"{why} Nothing was changed.")
    return new


def resubscribe(
    sub, settings, price_id, quantity, expected_version, now=None, at=None
) -> Subscription:
    """Do what the preview at ``expected_version`` showed, in the caller's transaction; returns
    the new (``new``) or kept subscription. ``at``: the sealed preview instant of a change."""
    now = now or utcnow()
    _check(sub, settings)
    sub = lock(sub)
    check_version(sub, expected_version)
    _check(sub, settings)  # again under the lock: a concurrent confirm started it already
    price, quantity, same = _choice(sub, settings, price_id, quantity)
    portal = {"action": "resubscribed", "resubscribed_from": sub.id}
    if ended(sub):
        new = _start_again(sub, price, quantity, now)
        sub.resubscribed_to_id = new.id
        sub.version += 1
        sub.save()
        return notify.subscription(new, "subscription.created", portal=portal)
    kept = undo_cancellation(sub)
    if not same:
        change_to = price.id if price.id != item_rows(kept)[0].price_id else None
        kept = rules.change(kept, settings, change_to, quantity, kept.version, now=at or now)
    return notify.subscription(Subscription.get_by_id(kept.id), portal=portal)
