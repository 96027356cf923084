"""portal.portal_subscriptions without Flask: which subscriptions can change, which plans are
offered, what the retention offer says, and that every confirmation tells the exact outcome."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.billing import credit as credit_rules
from portal.billing.coupons import describe
from portal.db import db, write_transaction
from portal.errors import Conflict, FeatureDisabled, ValidationFailed
from portal.models import Coupon, Discount, Invoice, Subscription, SubscriptionItem
from portal.portal_settings.config import DEFAULTS
from portal.self_service import subscriptions as rules

JAN1 = datetime(2026, 1, 1)
FEB1 = datetime(2026, 2, 1)


def config(**overrides) -> dict:
    return {**DEFAULTS, **overrides}


def load(shop) -> Subscription:
    return Subscription.get_by_id(shop.sub)


def coupon(shop, **terms) -> Coupon:
    return Coupon.create(company=shop.merchant.company, **{"duration": "once", **terms})


# ---- changeable -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "products", "expected"),
    [
        ("active", [], True),
        ("past_due", [], True),
        ("trialing", [], True),
        ("canceled", [], False),
        ("incomplete_expired", [], False),
        ("active", ["basic_product"], True),
        # The product list limits what a subscription can switch to, nothing else.
        ("active", ["pro_product"], True),
        ("active", ["pro_product", "basic_product"], True),
    ],
)
def test_changeable_needs_a_live_subscription_whatever_its_product(
    shop, ctx, status, products, expected
):
    Subscription.update(status=status).where(Subscription.id == shop.sub).execute()
    ids = [getattr(shop, name) for name in products]
    assert rules.changeable(load(shop), config(subscription_product_ids=ids)) is expected


def test_a_subscription_with_an_unlisted_item_can_still_be_cancelled(shop, ctx):
    SubscriptionItem.create(
        company=shop.merchant.company, subscription=shop.sub, price=shop.team, quantity=1
    )
    sub, listed = load(shop), [shop.basic_product]
    assert rules.changeable(sub, config(subscription_product_ids=listed))
    with write_transaction():
        ended, changed = rules.cancel(sub, config(subscription_product_ids=listed))
    assert changed and ended.cancel_at_period_end
    sub = load(shop)
    # several items: no switch offered, no preview
    assert rules.switch_options(sub, config(allow_plan_switch=True)) == []
    with pytest.raises(Conflict):
        rules.preview(sub, config(allow_quantity_updates=True), quantity=2)


# ---- switch options ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("listed", "offered"),
    [
        ([], ["team", "pro", "basic_yearly"]),
        (["basic_product", "pro_product"], ["pro", "basic_yearly"]),
        (["basic_product"], ["basic_yearly"]),
    ],
)
def test_switch_options_are_active_recurring_prices_in_the_currency_cheapest_first(
    shop, ctx, listed, offered
):
    ids = [getattr(shop, name) for name in listed]
    options = rules.switch_options(load(shop), config(subscription_product_ids=ids))
    assert [price.id for price in options] == [getattr(shop, name) for name in offered]


# ---- the retention offer ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("terms", "text"),
    [
        (
            {"percent_off": Decimal("20"), "duration": "repeating", "duration_in_months": 3},
            "20% off for 3 months",
        ),
        ({"percent_off": Decimal("12.50"), "duration": "forever"}, "12.5% off forever"),
        (
            {"percent_off": Decimal("100"), "duration": "repeating", "duration_in_months": 1},
            "100% off for 1 month",
        ),
        ({"amount_off": 500, "currency": "USD", "duration": "once"}, "$5.00 off your next invoice"),
        ({"amount_off": 1999, "currency": "EUR", "duration": "forever"}, "€19.99 off forever"),
    ],
)
def test_the_offer_is_worded_from_the_coupon(shop, ctx, terms, text):
    assert describe(coupon(shop, **terms), "USD") == text


def test_the_offer_is_made_once_per_subscription(shop, ctx):
    offer = coupon(shop, percent_off=Decimal("20"))
    settings_ = config(retention_coupon_id=offer.id)
    assert rules.retention_offer(load(shop), settings_).id == offer.id
    assert rules.retention_offer(load(shop), {**settings_, "cancellations_enabled": False}) is None
    with write_transaction():
        rules.accept_retention(load(shop), settings_, now=JAN1)
    Discount.update(ended_at=FEB1).execute()  # even once the discount has run out
    assert rules.retention_offer(load(shop), settings_) is None
    with pytest.raises(Conflict):
        rules.accept_retention(load(shop), settings_)


@pytest.mark.parametrize(
    "terms",
    [
        {"percent_off": Decimal("20"), "deleted_at": JAN1},
        {"percent_off": Decimal("20"), "redeem_by": datetime(2025, 12, 31)},
        {"percent_off": Decimal("20"), "max_redemptions": 2, "times_redeemed": 2},
        {"amount_off": 500, "currency": "EUR"},
    ],
)
def test_an_unusable_coupon_is_no_offer(shop, ctx, terms):
    settings_ = config(retention_coupon_id=coupon(shop, **terms).id)
    assert rules.retention_offer(load(shop), settings_, now=datetime(2026, 1, 11)) is None


def test_another_companys_coupon_is_no_offer(shop, ctx, other_merchant):
    theirs = Coupon.create(company=other_merchant.company, duration="once", percent_off=20)
    assert rules.retention_offer(load(shop), config(retention_coupon_id=theirs.id)) is None


# ---- reasons ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("enabled", "reason", "comment", "field"),
    [
        (False, None, None, None),
        (False, "anything", "x" * 5000, None),
        (True, "Other", None, None),
        (True, "Other", "x" * 1000, None),
        (True, None, None, "reason"),
        (True, "other", None, "reason"),
        (True, "Other ", None, "reason"),
        (True, "Other", "x" * 1001, "comment"),
    ],
)
def test_a_reason_must_be_one_of_the_list(enabled, reason, comment, field):
    settings_ = config(cancellation_reasons_enabled=enabled, cancellation_reasons=["Other"])
    if field is None:
        rules.check_reason(settings_, reason, comment)
    else:
        with pytest.raises(ValidationFailed) as refused:
            rules.check_reason(settings_, reason, comment)
        assert list(refused.value.fields) == [field]


# ---- cancellation: what the confirmation says is what happens ---------------------------


@pytest.mark.parametrize(
    ("mode", "prorate", "at", "credit"),
    [
        ("immediately", True, JAN1, 1000),
        ("immediately", True, datetime(2026, 1, 11), 677),
        ("immediately", True, datetime(2026, 1, 31, 23, 59, 59), 0),
        ("immediately", False, datetime(2026, 1, 11), 0),
        ("end_of_period", True, datetime(2026, 1, 11), 0),
    ],
)
def test_the_cancel_plan_is_what_cancel_does(shop, ctx, mode, prorate, at, credit):
    settings_ = config(cancellation_mode=mode, cancellation_proration_enabled=prorate)
    plan = rules.cancel_plan(load(shop), settings_, now=at)
    assert (plan.immediately, plan.credit, plan.charge) == (mode == "immediately", credit, 0)
    assert plan.ends_at == (at if mode == "immediately" else FEB1)
    with write_transaction():
        sub, changed = rules.cancel(load(shop), settings_, now=at)
    assert changed and credit_rules.balance(sub.customer_id, "USD") == credit
    assert (sub.status == "canceled") is plan.immediately


def test_no_credit_for_a_period_that_was_not_paid(shop, ctx):
    Invoice.update(status="OPEN").execute()
    settings_ = config(cancellation_mode="immediately", cancellation_proration_enabled=True)
    assert rules.cancel_plan(load(shop), settings_, now=datetime(2026, 1, 11)).credit == 0


def test_a_second_cancel_changes_nothing_and_a_scheduled_one_can_be_made_immediate(shop, ctx):
    later = config(cancellation_mode="end_of_period")
    now = config(cancellation_mode="immediately")
    with write_transaction():
        first, changed = rules.cancel(load(shop), later, now=datetime(2026, 1, 5))
    assert changed and first.cancel_at_period_end
    with write_transaction():
        assert rules.cancel(load(shop), later)[1] is False
    with write_transaction():
        ended, changed = rules.cancel(load(shop), now, now=datetime(2026, 1, 6))
    assert changed and ended.status == "canceled"
    with write_transaction():
        assert rules.cancel(load(shop), now)[1] is False


@pytest.mark.parametrize(
    ("settings_", "error"),
    [
        ({"cancellations_enabled": False}, FeatureDisabled),
        ({"subscriptions_enabled": False}, FeatureDisabled),
    ],
)
def test_a_refused_cancel_or_keep_raises(shop, ctx, settings_, error):
    settings_ = {
        k: [getattr(shop, v[1:]) for v in x] if isinstance(x, list) else x
        for k, x in settings_.items()
    }
    with pytest.raises(error):
        rules.cancel(load(shop), config(**settings_))
    Subscription.update(cancel_at_period_end=True).execute()
    if settings_.get("cancellations_enabled") is False:
        # undoing a cancellation stays possible when new ones are turned off
        with write_transaction():
            assert rules.keep(load(shop), config(**settings_)).cancel_at_period_end is False
        return
    with pytest.raises(error):
        rules.keep(load(shop), config(**settings_))


# ---- plan changes: the preview is the bill ----------------------------------------------

INSTANTS = st.integers(min_value=0, max_value=31 * 24 * 3600 - 1).map(
    lambda s: JAN1 + timedelta(seconds=s)
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    at=INSTANTS,
    target=st.sampled_from(["pro", "team", "basic"]),
    quantity=st.integers(min_value=1, max_value=1000),
    behavior=st.sampled_from(["none", "prorate", "full_difference"]),
    timing=st.sampled_from(["immediately", "period_end"]),
)
def test_a_change_bills_exactly_its_preview(shop, ctx, at, target, quantity, behavior, timing):
    price = getattr(shop, target)
    if price == shop.basic and quantity == 1:
        quantity = 2
    settings_ = config(
        allow_plan_switch=True,
        allow_quantity_updates=True,
        subscription_proration_behavior=behavior,
        subscription_charge_timing=timing,
    )
    with db.atomic() as txn:
        sub, before = load(shop), [i.id for i in Invoice.select(Invoice.id)]
        plan = rules.preview(sub, settings_, price, quantity, now=at)
        changed = rules.change(sub, settings_, price, quantity, sub.version, now=at)
        made = list(Invoice.select().where(Invoice.id.not_in(before)))
        assert [i.amount_due for i in made] == ([plan.amount_due_now] if plan.invoice_now else [])
        assert changed.credit_balance == plan.credit_balance_after
        assert changed.version == sub.version + 1
        txn.rollback()
