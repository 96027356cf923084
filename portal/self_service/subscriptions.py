"""What the portal config allows a customer to do with a subscription (no Flask here).

Every rule of the config is decided here once; the hosted pages and the portal JSON API both
ask these functions, and the billing core does the money.
"""

from dataclasses import dataclass
from datetime import datetime

from portal.billing import coupons as coupon_rules
from portal.billing import credit as credit_rules
from portal.billing import scheduled_changes as scheduled
from portal.billing.changes import (
    check_plan_change,
    check_version,
    preview_change,
    update_subscription,
)
from portal.billing.invoice_totals import compute_totals
from portal.billing.proration import ChangePlan
from portal.billing.subscription_items import (
    LIVE_STATUSES,
    MAX_QUANTITY,
    apply_coupon,
    as_line,
    item_rows,
    lock,
    pending_rows,
    usual_method,
)
from portal.billing.subscriptions import cancel_subscription, undo_cancellation
from portal.billing.unused_time import unused_time_credit
from portal.errors import Conflict, FeatureDisabled, PermissionDenied, ValidationFailed
from portal.models import (
    Coupon,
    Discount,
    Invoice,
    PaymentMethod,
    Price,
    Product,
    Subscription,
    utcnow,
)
from portal.portal_settings.config import PORTAL_MAX_QUANTITY
from portal.webhooks import notify

from . import plan_rules

MAX_PORTAL_QUANTITY = min(MAX_QUANTITY, PORTAL_MAX_QUANTITY)


def changeable(sub: Subscription, settings: dict) -> bool:
    """A live subscription can be cancelled and its quantity changed whatever its product:
    ``subscription_product_ids`` only limits what it can switch to (switch_options)."""
    return sub.status in LIVE_STATUSES


def require_changeable(sub: Subscription, settings: dict) -> None:
    if not settings["subscriptions_enabled"]:
        raise FeatureDisabled("Subscriptions are turned off for this portal.")
    if not changeable(sub, settings):
        raise PermissionDenied("This subscription can't be changed here. Please contact us.")


def switch_options(sub: Subscription, settings: dict) -> list[Price]:
    """Active recurring prices of allowed active products in the plan's currency: on its
    interval, or on another (monthly to yearly and back), which starts a new period."""
    rows = item_rows(sub)
    if len(rows) != 1:
        return []
    current = rows[0].price
    query = (
        Price.select(Price, Product)
        .join(Product)
        .where(
            (Price.company == sub.company_id)
            & (Price.active == True)  # noqa: E712
            & (Product.active == True)  # noqa: E712
            & (Price.type == "recurring")
            & (Price.currency == current.currency)
            & (Price.id != current.id)
        )
        .order_by(Price.unit_amount, Product.name)
    )
    allowed = settings["subscription_product_ids"]
    if allowed:
        query = query.where(Product.id.in_(allowed))
    return list(query)


def _target_items(sub: Subscription, settings: dict, price_id: str | None, quantity: int | None):
    rows = item_rows(sub)
    if len(rows) != 1:
        raise Conflict("This subscription has several items; change it with us directly.")
    price, current_quantity = rows[0].price, rows[0].quantity
    if price_id is not None and price_id != price.id:
        if not settings["allow_plan_switch"]:
            raise FeatureDisabled("Plan changes are turned off for this portal.")
        ours = Price.select().where((Price.id == price_id) & (Price.company == sub.company_id))
        if not ours.exists():
            raise ValidationFailed.field("price_id", "No such price in this account.")
        price = next((p for p in switch_options(sub, settings) if p.id == price_id), None)
        if price is None:
            raise PermissionDenied("That plan is not available here.")
    new_quantity = current_quantity if quantity is None else quantity
    if new_quantity != current_quantity and not settings["allow_quantity_updates"]:
        raise FeatureDisabled("Quantity changes are turned off for this portal.")
    # The limits of the product changed to, also when only the plan changes.
    plan_rules.check_quantity(settings, price, new_quantity, MAX_PORTAL_QUANTITY)
    if price.id == rows[0].price_id and new_quantity == current_quantity:
        raise ValidationFailed.field("price_id", "Choose a different plan or quantity.")
    return [(price, new_quantity)]


def preview(sub, settings, price_id=None, quantity=None, now=None) -> ChangePlan:
    """The exact bill of a plan or quantity change under the merchant's proration rules."""
    require_changeable(sub, settings)
    items = _target_items(sub, settings, price_id, quantity)
    if plan_rules.deferred(sub, settings, items):
        check_plan_change(sub, item_rows(sub), items)
        return scheduled.plan_at_renewal(sub, items, now or utcnow())
    return preview_change(
        sub,
        items,
        behavior=settings["subscription_proration_behavior"],
        timing=settings["subscription_charge_timing"],
        now=now,
    )


def change(
    sub, settings, price_id, quantity, expected_version, now=None, method_id=None
) -> Subscription:
    """Do what the preview at ``expected_version`` showed; a stale preview is a 409. An
    immediate charge that fails (402) leaves everything as it was; ``method_id`` chooses
    which of the customer's methods pays (and pays the subscription from then on)."""
    require_changeable(sub, settings)
    # Version first, under the lock: a replayed confirm of a done switch is stale (409),
    # not a request to "switch" to the plan it already has (422).
    sub = lock(sub)
    check_version(sub, expected_version)
    items = _target_items(sub, settings, price_id, quantity)
    if plan_rules.deferred(sub, settings, items):
        check_plan_change(sub, item_rows(sub), items)
        return notify.subscription(
            scheduled.schedule_change(sub, items), portal={"action": "change_scheduled"}
        )
    return update_subscription(
        sub,
        items=items,
        payment_method=_own_method(sub, method_id) if method_id else None,
        behavior=settings["subscription_proration_behavior"],
        timing=settings["subscription_charge_timing"],
        expected_version=expected_version,
        now=now,
        require_payment=True,
    )


def cancel_scheduled(sub: Subscription, settings: dict) -> Subscription:
    """Drop a change waiting for the renewal: the current plan simply renews."""
    require_changeable(sub, settings)
    sub = scheduled.cancel_scheduled_change(sub)
    return notify.subscription(sub, portal={"action": "scheduled_change_canceled"})


def _own_method(sub: Subscription, method_id: str) -> PaymentMethod:
    method = PaymentMethod.get_or_none(
        (PaymentMethod.id == method_id)
        & (PaymentMethod.customer == sub.customer_id)
        & (PaymentMethod.enabled == True)  # noqa: E712
    )
    if method is None:
        raise ValidationFailed.field("payment_method_id", "Choose one of your payment methods.")
    return method


def still_due(sub: Subscription) -> int:
    """What the subscription's open invoices still ask for: cancelling does not void them."""
    open_invoices = Invoice.select().where(
        (Invoice.subscription == sub.id) & (Invoice.status == "OPEN")
    )
    return sum(max(0, i.amount_due - i.amount_paid) for i in open_invoices)


def paying_method(sub: Subscription) -> PaymentMethod | None:
    """The method a change's immediate charge goes to unless the customer picks another."""
    return usual_method(sub)


def retention_offer(
    sub: Subscription, settings: dict, now: datetime | None = None
) -> Coupon | None:
    """The merchant's retention coupon, if valid, usable here and not already on this plan."""
    coupon_id = settings["retention_coupon_id"]
    # Already set to end: a discount would not keep it ("keep my subscription" does that).
    if not coupon_id or not settings["cancellations_enabled"] or sub.cancel_at_period_end:
        return None
    coupon = Coupon.get_or_none((Coupon.id == coupon_id) & (Coupon.company == sub.company_id))
    if coupon is None or not coupon_rules.is_valid(coupon, now or utcnow()):
        return None
    if coupon.amount_off is not None and (coupon.currency or "").upper() != sub.currency:
        return None
    used = Discount.select().where((Discount.subscription == sub) & (Discount.coupon == coupon))
    return None if used.exists() else coupon


def accept_retention(
    sub: Subscription, settings: dict, now: datetime | None = None
) -> Subscription:
    # The offer is a step of the cancel flow: it goes away with it.
    if not settings["cancellations_enabled"]:
        raise FeatureDisabled("Cancellations are turned off for this portal.")
    require_changeable(sub, settings)
    sub = lock(sub)
    coupon = retention_offer(sub, settings, now)
    if coupon is None:
        raise Conflict("This offer is no longer available.")
    apply_coupon(sub, coupon, now or utcnow())
    sub.version += 1
    sub.save()
    portal = {"action": "retention_offer_accepted", "retention_outcome": "accepted"}
    notify.subscription(sub, portal={**portal, "coupon_id": coupon.id})
    return sub


@dataclass(frozen=True)
class CancelPlan:
    immediately: bool
    ends_at: datetime
    credit: int  # cents the final invoice adds to the credit balance (0 when none)
    charge: int  # cents the final invoice charges: changes of this period still unbilled


def cancel_plan(sub: Subscription, settings: dict, now: datetime | None = None) -> CancelPlan:
    """Exactly what cancelling would do, for the confirmation step: the final invoice that
    ending the subscription makes (its pending lines, plus unused time when prorating)."""
    now = now or utcnow()
    immediately = settings["cancellation_mode"] == "immediately"
    lines = [as_line(row) for row in pending_rows(sub)]
    if immediately and settings["cancellation_proration_enabled"]:
        lines += unused_time_credit(sub, now)
    available = sub.credit_balance + credit_rules.balance(sub.customer_id, sub.currency)
    totals = compute_totals(lines, (), sub.currency, available)
    credit = max(totals.credit_balance - available, 0)
    ends_at = now if immediately else sub.current_period_end
    return CancelPlan(immediately, ends_at, credit, totals.amount_due)


def check_reason(settings: dict, reason: str | None, comment: str | None) -> None:
    if not settings["cancellation_reasons_enabled"]:
        return
    if reason not in settings["cancellation_reasons"]:
        raise ValidationFailed.field("reason", "Choose one of the listed reasons.")
    if comment is not None and len(comment) > 1000:
        raise ValidationFailed.field("comment", "Keep the comment under 1000 characters.")


def cancel(sub, settings, reason=None, comment=None, now=None) -> tuple[Subscription, bool]:
    """Cancel as the config says; returns the subscription and whether anything changed."""
    if not settings["cancellations_enabled"]:
        raise FeatureDisabled("Cancellations are turned off for this portal.")
    # An ended subscription here is a repeated confirm of an immediate cancel: "no change".
    if sub.status in LIVE_STATUSES:
        require_changeable(sub, settings)
    check_reason(settings, reason, comment)
    if not settings["cancellation_reasons_enabled"]:
        reason = comment = None
    sub = lock(sub)
    if sub.status not in LIVE_STATUSES:
        return sub, False  # a second confirm of an immediate cancel changes nothing
    at_period_end = settings["cancellation_mode"] == "end_of_period"
    if sub.cancel_at_period_end and at_period_end:
        return sub, False  # already scheduled: a second confirm changes nothing
    offered = retention_offer(sub, settings, now) is not None
    ended = cancel_subscription(
        sub,
        at_period_end=at_period_end,
        prorate=settings["cancellation_proration_enabled"],
        refund=settings["cancellation_credit_destination"] == "original_payment_method",
        reason=reason,
        comment=(comment or None),
        now=now,
    )
    portal = {"action": "canceled", "cancellation_reason": reason, "comment": comment or None}
    portal["retention_outcome"] = "declined" if offered else "not_offered"
    kind = "subscription.updated" if at_period_end else "subscription.deleted"
    notify.subscription(ended, kind, portal=portal)
    return ended, True


def keep(sub: Subscription, settings: dict) -> Subscription:
    """Undo a scheduled cancellation ('keep my subscription')."""
    require_changeable(sub, settings)
    sub = undo_cancellation(sub)
    notify.subscription(sub, portal={"action": "cancellation_undone"})
    return sub
