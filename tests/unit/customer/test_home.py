"""The overview: live subscriptions with plan, price, quantity and the next renewal (or the
end date when cancellation is scheduled), the default method, what is due, the billing
summary."""

import re

import pytest
from browsing import page, sign_in_with_handoff, text_of
from builders import add_payment_method, make_customer, subscribe

from portal.models import Subscription

DATE = r"\w{3} \d{1,2}, \d{4}"


@pytest.fixture
def jo(client, merchant):
    customer = make_customer(
        merchant,
        email="jo@example.com",
        tax_id="DE999999995",
        personal_address={
            "line1": "1 Main St",
            "city": "Berlin",
            "postal_code": "10115",
            "country": "DE",
        },
    )
    add_payment_method(merchant, customer["id"], "tok_visa")
    sign_in_with_handoff(client, merchant, customer["id"])
    return customer


def coupon(merchant, duration: str) -> dict:
    body = {"name": f"Quarter off {duration}", "duration": duration, "percent_off": 25}
    if duration == "repeating":
        body["duration_in_months"] = 3
    return merchant.ok("POST", "/coupons", body)


@pytest.mark.parametrize(
    ("duration", "renewal"), [(None, "$45.00"), ("forever", "$33.75"), ("once", "$45.00")]
)
def test_a_subscription_shows_plan_price_quantity_and_the_next_renewal(
    client, merchant, jo, price, duration, renewal
):
    extra = {"coupon_id": coupon(merchant, duration)["id"]} if duration else {}
    sub = subscribe(merchant, jo["id"], price["id"], quantity=3, **extra)
    text = text_of(page(client, "/portal"))
    assert "Hello, Jo" in text
    assert "Pro plan $15.00 / month × 3 · Active" in text
    end = Subscription.get_by_id(sub["id"]).current_period_end
    date = f"{end:%b} {end.day}, {end.year}"
    assert f"Renews on {date} for {renewal}." in text


def test_a_scheduled_cancellation_shows_the_end_date_instead(client, merchant, jo, price):
    sub = subscribe(merchant, jo["id"], price["id"])
    merchant.ok("DELETE", f"/subscriptions/{sub['id']}?at_period_end=true")
    text = text_of(page(client, "/portal"))
    assert re.search(rf"Ends on {DATE}\. No further renewals\.", text)
    assert "Renews on" not in text


def test_ended_subscriptions_are_not_listed(client, merchant, jo, price):
    sub = subscribe(merchant, jo["id"], price["id"])
    merchant.ok("DELETE", f"/subscriptions/{sub['id']}")
    assert "You have no active subscriptions." in text_of(page(client, "/portal"))


def test_the_default_method_and_billing_summary_are_shown(client, merchant, jo):
    add_payment_method(merchant, jo["id"], "tok_mastercard")  # not the default: the first card is
    text = text_of(page(client, "/portal"))
    assert re.search(r"Payment method Visa ending in 4242 · expires \d\d/\d{4}", text)
    assert "Jo Doe jo@example.com 1 Main St 10115 Berlin Germany Tax ID: DE999999995" in text
    assert "Invoices to pay" not in text


def test_unpaid_invoices_are_listed_with_pay_now(client, merchant, signed_in):
    text = text_of(page(client, "/portal"))
    assert re.search(rf"ACMECL-00001 {DATE} \$15\.00 Past due Pay now invoice ACMECL-00001", text)
    assert "ACMECL-00002" not in text  # the paid one
