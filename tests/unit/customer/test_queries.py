"""Each portal page runs a fixed number of SQL statements: a customer with 200 invoices,
subscriptions and payment methods costs what a customer with one of each costs."""

from datetime import timedelta

import pytest
from browsing import page, sign_in_with_handoff
from builders import make_customer, make_price
from support import count_queries

from portal.models import (
    Coupon,
    Customer,
    Discount,
    Invoice,
    InvoiceLine,
    PaymentMethod,
    Subscription,
    SubscriptionItem,
    new_id,
    utcnow,
)


def _rows(count: int, make) -> list[dict]:
    now = utcnow()
    return [
        {"id": new_id(), "created_at": now - timedelta(minutes=i), **make(i)} for i in range(count)
    ]


def _methods(company_id, customer_id, count) -> list[str]:
    rows = _rows(
        count,
        lambda i: {
            "company": company_id,
            "customer": customer_id,
            "type": "PAYMENT_CARD",
            "gateway_ref": f"tgw_ok_{i}",
            "brand": "VISA",
            "last_four": f"{i % 10000:04d}",
            "expiration_month": 12,
            "expiration_year": 2040,
            "fingerprint": f"fp{i}",
            "is_default": i == 0,
        },
    )
    PaymentMethod.insert_many(rows).execute()
    return [row["id"] for row in rows]


def _subscriptions(company_id, customer_id, method_id, price_id, coupon_id, count) -> None:
    now = utcnow()
    subs = _rows(
        count,
        lambda i: {
            "company": company_id,
            "customer": customer_id,
            "payment_method": method_id,
            "status": "active",
            "currency": "USD",
            "current_period_start": now,
            "current_period_end": now + timedelta(days=30),
            "billing_cycle_anchor": now,
        },
    )
    Subscription.insert_many(subs).execute()
    SubscriptionItem.insert_many(
        _rows(
            count,
            lambda i: {
                "company": company_id,
                "subscription": subs[i]["id"],
                "price": price_id,
                "quantity": 2,
            },
        )
    ).execute()
    Discount.insert_many(
        _rows(
            count,
            lambda i: {
                "company": company_id,
                "subscription": subs[i]["id"],
                "coupon": coupon_id,
                "start": now,
            },
        )
    ).execute()


def _invoices(company_id, customer_id, method_id, count, tag) -> str:
    invoices = _rows(
        count,
        lambda i: {
            "company": company_id,
            "customer": customer_id,
            "number": f"{tag}-{i:05d}",
            # The newest is open and failed: the detail page offers every method to pay with.
            "status": "PAID" if i % 2 else "OPEN",
            "payment_failed": i % 4 == 0,
            "payment_method": method_id,
            "currency": "USD",
            "subtotal": 1000,
            "total": 1000,
            "amount_due": 1000,
            "amount_paid": 1000 if i % 2 else 0,
        },
    )
    Invoice.insert_many(invoices).execute()
    InvoiceLine.insert_many(
        _rows(
            count,
            lambda i: {
                "company": company_id,
                "invoice": invoices[0]["id"],
                "description": f"Line {i}",
                "unit_amount": 1000,
                "amount": 1000,
                "proration": i % 3 == 0,
            },
        )
    ).execute()
    return invoices[0]["id"]


def bulk_customer(merchant, price, count: int) -> tuple[str, str]:
    """A customer with ``count`` methods, subscriptions (with items and discounts) and
    invoices, the newest invoice having ``count`` lines. Returns (customer id, invoice id)."""
    customer = make_customer(merchant, f"Bulk{count}")
    coupon = Coupon.create(company=merchant.id, name="Ten", duration="forever", percent_off=10)
    methods = _methods(merchant.id, customer["id"], count)
    _subscriptions(merchant.id, customer["id"], methods[0], price["id"], coupon.id, count)
    invoice = _invoices(merchant.id, customer["id"], methods[0], count, f"B{count}")
    assert Customer.get_by_id(customer["id"]).invoices.count() == count
    return customer["id"], invoice


def statements(client, path: str) -> list[str]:
    page(client, path)  # warm-up: the per-minute session stamp, config creation, …
    with count_queries() as seen:
        page(client, path)
    return seen


# Statements per page: the shell (session, customer, company, config version, logo, banner,
# default method, credit) is one; the rest is the page's own content.
BUDGETS = {
    "/portal": 3,
    "/portal/invoices": 3,
    "/portal/invoices?page=2": 3,
    "/portal/payment-methods": 3,
    "/portal/subscriptions": 2,
    "/portal/invoices/{invoice}": 4,
    "/portal/billing-information": 1,
}
PATHS = list(BUDGETS)


@pytest.mark.parametrize("path", PATHS)
def test_a_page_costs_the_same_few_queries_with_1_or_200_of_everything(client, merchant, path):
    price = make_price(merchant)
    counts = {}
    for size in (1, 200):
        customer_id, invoice_id = bulk_customer(merchant, price, size)
        sign_in_with_handoff(client, merchant, customer_id)
        counts[size] = statements(client, path.format(invoice=invoice_id))
    assert len(counts[1]) == len(counts[200]), "\n".join(counts[200])
    assert len(counts[200]) <= BUDGETS[path], "\n".join(counts[200])


def test_the_bulk_customer_is_really_shown(client, merchant):
    """Guards the test above: the big page does list what was created."""
    customer_id, invoice_id = bulk_customer(merchant, make_price(merchant), 200)
    sign_in_with_handoff(client, merchant, customer_id)
    assert page(client, "/portal").count('<article class="sub">') == 200
    assert page(client, "/portal/payment-methods").count('class="method"') == 200
    assert page(client, "/portal/invoices").count("/portal/invoices/") >= 20
    assert page(client, f"/portal/invoices/{invoice_id}").count("Line ") == 200
