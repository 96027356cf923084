"""Nothing done twice: a double-clicked or replayed confirm, or ten concurrent confirms of one
cancel or switch, make one change, one invoice or credit, one charge and one event.

Runs on the suite's database (SQLite file by default; PORTAL_DATABASE_URL=postgresql://…
runs it on PostgreSQL, where the row locks, not SQLite's single writer, serialize)."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from portal.models import Charge, Invoice, PortalEvent, Subscription

THREADS = 10


def together(calls) -> list:
    """Run the calls in parallel threads released at the same moment; their results."""
    start = threading.Barrier(len(calls))

    def run(call):
        start.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def world(shop) -> dict:
    """What a repeated action must not multiply."""
    return {
        "invoices": Invoice.select().where(Invoice.subscription == shop.sub).count(),
        "charges": Charge.select().count(),
        "events": PortalEvent.select().where(PortalEvent.subscription_id == shop.sub).count(),
        "version": Subscription.get_by_id(shop.sub).version,
    }


def grew(before: dict, after: dict) -> dict:
    return {key: after[key] - before[key] for key in before}


def pending_upgrade(portal, shop) -> None:
    """An upgrade billed at period end: the final invoice of an immediate cancel charges it."""
    shop.configure(allow_plan_switch=True, subscription_charge_timing="period_end")
    version = portal.ok("GET", f"/subscriptions/{shop.sub}/preview?price_id={shop.pro}")
    body = {"price_id": shop.pro, "expected_version": version["subscription_version"]}
    portal.ok("POST", f"/subscriptions/{shop.sub}/change", body)


CANCELS = [
    # mode, proration, (new invoices, new charges), status afterwards
    ("immediately", False, (1, 1), "canceled"),  # the final invoice charges $13.55
    ("immediately", True, (1, 0), "canceled"),  # a credit note, nothing to charge
    ("end_of_period", False, (0, 0), "active"),
]


def check_one_cancel(shop, before, billed, status) -> None:
    sub = shop.subscription()
    assert sub["status"] == status and (status == "canceled" or sub["cancel_at_period_end"])
    change = grew(before, world(shop))
    assert (change["invoices"], change["charges"], change["events"]) == (*billed, 1)
    assert change["version"] == 1


@pytest.mark.parametrize(("mode", "prorate", "billed", "status"), CANCELS)
def test_ten_json_cancels_with_one_token_cancel_once(portal, shop, mode, prorate, billed, status):
    pending_upgrade(portal, shop)
    shop.configure(cancellation_mode=mode, cancellation_proration_enabled=prorate)
    before = world(shop)
    path = f"/subscriptions/{shop.sub}/cancel"
    responses = together([lambda: portal.api("POST", path, {})] * THREADS)
    assert [r.status_code for r in responses] == [200] * THREADS
    messages = sorted(r.get_json()["message"] for r in responses)
    assert messages.count("No change") == THREADS - 1
    check_one_cancel(shop, before, billed, status)


@pytest.mark.parametrize(("mode", "prorate", "billed", "status"), CANCELS)
def test_ten_tabs_confirming_the_cancel_form_cancel_once(
    portal, shop, mode, prorate, billed, status
):
    pending_upgrade(portal, shop)
    shop.configure(cancellation_mode=mode, cancellation_proration_enabled=prorate)
    tabs = [portal.clone() for _ in range(THREADS)]
    pages = [tab.cancel_page(shop.sub) for tab in tabs]  # ten forms, ten nonces
    assert (
        len(
            {
                tab.form(page, "/cancel").fields["form_nonce"]
                for tab, page in zip(tabs, pages, strict=True)
            }
        )
        == THREADS
    )
    before = world(shop)
    calls = [
        (lambda tab=tab, page=page: tab.submit(page, f"/{shop.sub}/cancel"))
        for tab, page in zip(tabs, pages, strict=True)
    ]
    responses = together(calls)
    # every tab lands on the subscriptions page, none on an error
    card = f"sub-{shop.sub}"
    assert {(r.status_code, r.location) for r in responses} == {
        (303, f"/portal/subscriptions?done={card}#{card}")
    }
    check_one_cancel(shop, before, billed, status)


@pytest.mark.parametrize("mode", ["immediately", "end_of_period"])
def test_a_double_clicked_cancel_confirm_cancels_once(portal, shop, mode):
    shop.configure(cancellation_mode=mode)
    page = portal.cancel_page(shop.sub)
    before = world(shop)
    first = portal.submit(page, f"/{shop.sub}/cancel")
    second = portal.submit(page, f"/{shop.sub}/cancel", follow=True)
    assert first.status_code == 303 and second.status_code == 200
    assert grew(before, world(shop))["events"] == grew(before, world(shop))["version"] == 1


def switch_world(portal, shop):
    shop.configure(allow_plan_switch=True)
    return portal.ok("GET", f"/subscriptions/{shop.sub}/preview?price_id={shop.pro}")


def check_one_switch(shop, before, preview) -> None:
    assert shop.subscription()["items"][0]["price_id"] == shop.pro
    assert grew(before, world(shop)) == {"invoices": 1, "charges": 1, "events": 1, "version": 1}
    invoice = Invoice.get_by_id(shop.subscription()["latest_invoice_id"])
    assert (invoice.amount_due, invoice.amount_paid) == (preview["amount_due_now"],) * 2


def test_ten_json_confirms_of_one_switch_change_once(portal, shop):
    preview = switch_world(portal, shop)
    body = {"price_id": shop.pro, "expected_version": preview["subscription_version"]}
    before = world(shop)
    path = f"/subscriptions/{shop.sub}/change"
    responses = together([lambda: portal.api("POST", path, body)] * THREADS)
    assert sorted(r.status_code for r in responses) == [200] + [409] * (THREADS - 1)
    check_one_switch(shop, before, preview)


def test_ten_tabs_confirming_one_switch_change_once(portal, shop):
    preview = switch_world(portal, shop)
    tabs = [portal.clone() for _ in range(THREADS)]
    pages = [tab.preview_page(shop.sub, price_id=shop.pro) for tab in tabs]
    before = world(shop)
    calls = [
        (lambda tab=tab, page=page: tab.submit(page, f"/{shop.sub}/change"))
        for tab, page in zip(tabs, pages, strict=True)
    ]
    responses = together(calls)
    # One changes the plan. The others were previewed against the old plan: each gets a
    # fresh preview (409) or, as Pro is now the current plan, the change page with a message.
    assert {r.status_code for r in responses} <= {303, 409}
    listed = f"/portal/subscriptions?done=sub-{shop.sub}#sub-{shop.sub}"
    assert sum(r.location == listed for r in responses) == 1
    check_one_switch(shop, before, preview)


def test_a_double_submitted_change_confirm_changes_once(portal, shop):
    shop.configure(allow_quantity_updates=True)
    page = portal.preview_page(shop.sub, quantity=2)
    before = world(shop)
    assert portal.submit(page, f"/{shop.sub}/change").status_code == 303
    # the same form again (same nonce): nothing more happens, no error page either
    assert portal.submit(page, f"/{shop.sub}/change").status_code == 303
    assert grew(before, world(shop)) == {"invoices": 1, "charges": 1, "events": 1, "version": 1}
    assert shop.subscription()["items"][0]["quantity"] == 2


@pytest.mark.parametrize("action", ["keep", "retain"])
def test_a_double_submitted_keep_or_offer_acts_once(portal, shop, action):
    shop.configure(retention_coupon_id=shop.coupon(percent_off=20, duration="forever"))
    if action == "keep":
        portal.confirm_cancel(shop.sub)
        page = portal.get("/portal/subscriptions")
    else:
        page = portal.cancel_page(shop.sub, "offer")
    before = world(shop)
    first = portal.submit(page, f"/{shop.sub}/{action}")
    second = portal.submit(page, f"/{shop.sub}/{action}")
    assert (first.status_code, second.status_code) == (303, 303)
    assert grew(before, world(shop))["events"] == 1
    assert shop.subscription()["cancel_at_period_end"] is False
