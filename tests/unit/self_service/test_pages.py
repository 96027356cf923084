"""The hosted subscription pages under every rule of the portal config: what is shown, what
each action does, and that a refused action changes nothing."""

import re
from datetime import UTC, datetime

import pytest
from support import customer_credit

from portal.billing.runner import run_billing
from portal.models import Discount

FEB1 = datetime(2026, 2, 1, tzinfo=UTC)
LIST = "/portal/subscriptions"


def sub_path(shop, action: str = "") -> str:
    return f"{LIST}/{shop.sub}{action}"


def action_labels(portal) -> list[str]:
    """The action links and buttons of the subscriptions page (sign-out aside)."""
    page = portal.get(LIST)
    html = page.get_data(as_text=True)
    links = re.findall(r'<a class="button[^"]*" href="[^"]*/subscriptions/[^"]+">([^<]+)', html)
    buttons = [b for f in portal.forms(page) if "/subscriptions/" in f.action for b in f.buttons]
    return links + buttons


def cents(pattern: str, text: str) -> int:
    """The amount printed after ``pattern`` (0 when absent), in cents."""
    match = re.search(pattern + r" \$([\d,]+\.\d\d)", text)
    return int(match.group(1).replace(",", "").replace(".", "")) if match else 0


# ---- cancellations ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "action"),
    [
        ("GET", "/cancel"),
        ("GET", "/cancel/offer"),
        ("GET", "/cancel/confirm"),
        ("POST", "/cancel"),
        ("POST", "/retain"),
    ],
)
def test_with_cancellations_disabled_there_is_no_button_and_no_cancel_route(
    portal, shop, method, action
):
    shop.configure(cancellations_enabled=False, retention_coupon_id=shop.coupon(percent_off=20))
    assert not [label for label in action_labels(portal) if "Cancel" in label]
    response = (
        portal.get(sub_path(shop, action))
        if method == "GET"
        else portal.post(sub_path(shop, action))
    )
    assert response.status_code == 404
    sub = shop.subscription()
    assert (sub["status"], sub["cancel_at_period_end"], sub["discount"]) == ("active", False, None)


@pytest.mark.parametrize(
    ("mode", "prorate", "says", "status", "credit"),
    [
        # Signed in on Jan 11: 21/31 of $10.00 unused = $6.774… → $6.77
        ("immediately", True, "Your subscription ends now.", "canceled", 677),
        ("immediately", False, "Your subscription ends now.", "canceled", 0),
        ("end_of_period", True, "stays active until Feb 1, 2026, then ends.", "active", 0),
        ("end_of_period", False, "stays active until Feb 1, 2026, then ends.", "active", 0),
    ],
)
def test_the_confirm_page_says_what_happens_and_the_credit_shown_is_issued(
    portal, shop, mode, prorate, says, status, credit
):
    shop.configure(cancellation_mode=mode, cancellation_proration_enabled=prorate)
    page = portal.cancel_page(shop.sub)
    assert says in portal.text(page)
    assert cents("a credit of", portal.text(page)) == credit
    assert shop.subscription()["status"] == "active"  # showing the page changes nothing
    assert portal.submit(page, f"/{shop.sub}/cancel").status_code == 303
    sub = shop.subscription()
    assert (sub["status"], sub["cancel_at_period_end"]) == (status, mode == "end_of_period")
    assert sub["canceled_at"] == "2026-01-11T00:00:00.000Z"
    assert customer_credit(shop.customer) == credit
    final = shop.invoices()[1:]
    assert [shop.amounts(invoice) for invoice in final] == ([[-credit]] if credit else [])


def test_a_cancellation_credit_shows_on_the_home_page_and_pays_the_next_invoice(portal, shop):
    shop.configure(cancellation_mode="immediately", cancellation_proration_enabled=True)
    page = portal.cancel_page(shop.sub)
    assert cents("a credit of", portal.text(page)) == 677
    assert portal.submit(page, f"/{shop.sub}/cancel").status_code == 303
    assert customer_credit(shop.customer) == 677
    assert "Credit: $6.77" in portal.text(portal.get("/portal"))
    again = shop.subscribe(shop.basic)  # resubscribing: the credit pays first
    assert (shop.invoices(again["id"])[0].credit_applied, customer_credit(shop.customer)) == (
        677,
        0,
    )
    assert "Credit:" not in portal.text(portal.get("/portal"))


def test_in_refund_mode_the_unused_time_goes_back_to_the_card(portal, shop):
    from portal.models import Refund

    shop.configure(
        cancellation_mode="immediately",
        cancellation_proration_enabled=True,
        cancellation_credit_destination="original_payment_method",
    )
    page = portal.cancel_page(shop.sub)
    assert "$6.77 for the unused time is refunded to the payment method" in portal.text(page)
    portal.submit(page, f"/{shop.sub}/cancel")
    assert [(r.amount, r.status) for r in Refund.select()] == [(677, "succeeded")]
    assert customer_credit(shop.customer) == 0
    assert "Credit:" not in portal.text(portal.get("/portal"))


@pytest.mark.parametrize("mode", ["immediately", "end_of_period"])
def test_cancelling_with_an_open_invoice_never_promises_no_more_charges(portal, shop, mode):
    shop.configure(cancellation_mode=mode)
    declining = shop.add_card(source="tok_chargeDeclined")
    body = {
        "identity_id": shop.customer,
        "instrument_id": declining,
        "items": [{"price_id": shop.basic, "quantity": 1}],
    }
    sub = shop.merchant.ok("POST", "/subscriptions", body, status=201)
    assert shop.subscription(sub["id"])["status"] == "incomplete"  # its first charge failed
    text = portal.text(portal.cancel_page(sub["id"]))
    assert "won't be charged again" not in text
    due = shop.invoices(sub["id"])[-1].amount_due
    assert cents("still due:", text) == due and "Cancelling does not cancel them." in text


@pytest.mark.parametrize(
    ("mode", "prorate", "target", "credit", "charge"),
    [
        ("immediately", True, "pro", 677, 0),  # +$13.55 pending, -$20.32 unused Pro time
        ("immediately", False, "pro", 0, 1355),
        ("immediately", False, "team", 0, 678),
        ("end_of_period", True, "pro", 0, 1355),
    ],
)
def test_changes_not_yet_billed_are_on_the_confirm_page_and_the_final_invoice(
    portal, shop, clock, mode, prorate, target, credit, charge
):
    shop.configure(
        allow_plan_switch=True,
        subscription_charge_timing="period_end",
        cancellation_mode=mode,
        cancellation_proration_enabled=prorate,
    )
    price = getattr(shop, target)
    portal.submit(portal.preview_page(shop.sub, price_id=price), f"/{shop.sub}/change")
    page = portal.cancel_page(shop.sub)
    text = portal.text(page)
    print("PAGETEXT", text)
    assert (cents("a credit of", text), cents(r"billed (?:now|then):", text)) == (credit, charge)
    portal.submit(page, f"/{shop.sub}/cancel")
    if mode == "end_of_period":
        clock.move_to(FEB1)
        run_billing()
    final = shop.invoices()[-1]
    assert (final.amount_due, max(-final.total, 0)) == (charge, credit)
    sub = shop.subscription()
    assert sub["status"] == "canceled" and customer_credit(shop.customer) == credit


def test_reasons_are_asked_first_and_one_of_the_list_is_required(portal, shop):
    shop.configure(cancellation_reasons_enabled=True, cancellation_reasons=["Too pricey", "Other"])
    start = portal.get(sub_path(shop, "/cancel"))
    assert start.status_code == 200
    assert re.findall(r'name="reason" value="([^"]+)"', start.get_data(as_text=True)) == [
        "Too pricey",
        "Other",
    ]
    for reason in ("", "Bored"):
        refused = portal.cancel_page(shop.sub, "offer", reason=reason)
        assert refused.status_code == 422 and "Choose a reason." in portal.text(refused)


@pytest.mark.parametrize("reason", ["", "Bored", "x" * 101])
def test_a_confirm_without_a_listed_reason_cancels_nothing(portal, shop, reason):
    shop.configure(cancellation_reasons_enabled=True, cancellation_reasons=["Too pricey"])
    done = portal.confirm_cancel(shop.sub, follow=True, reason=reason)
    assert "Choose one of the listed reasons." in portal.text(done)
    sub = shop.subscription()
    assert (sub["cancel_at_period_end"], sub["canceled_at"]) == (False, None)


def test_the_reason_and_comment_are_stored_for_the_merchant(portal, shop):
    shop.configure(cancellation_reasons_enabled=True, cancellation_reasons=["Too pricey", "Other"])
    choice = {"reason": "Too pricey", "comment": "  Half the price and I'd stay.  "}
    step = portal.cancel_page(shop.sub, "offer", **choice)
    assert step.status_code == 303  # no retention coupon: straight to the confirmation
    confirm = portal.get(step.location)
    portal.submit(confirm, f"/{shop.sub}/cancel")
    details = shop.subscription()["cancellation_details"]
    assert details == {"reason": "Too pricey", "comment": "Half the price and I'd stay."}


def test_without_reasons_enabled_nothing_sent_is_stored(portal, shop):
    portal.confirm_cancel(shop.sub, reason="Too expensive", comment="hi")
    sub = shop.subscription()
    assert sub["cancel_at_period_end"] is True
    assert sub["cancellation_details"] == {"reason": None, "comment": None}


def test_keep_my_subscription_undoes_a_scheduled_cancellation(portal, shop):
    portal.confirm_cancel(shop.sub)
    listed = portal.get(LIST)
    assert "Ends on Feb 1, 2026" in portal.text(listed)
    assert action_labels(portal) == ["Keep my subscription"]
    done = portal.submit(listed, f"/{shop.sub}/keep", follow=True)
    assert "Your subscription will continue." in portal.text(done)
    sub = shop.subscription()
    assert (sub["cancel_at_period_end"], sub["canceled_at"], sub["status"]) == (
        False,
        None,
        "active",
    )
    assert "Next invoice $10.00 on Feb 1, 2026" in portal.text(portal.get(LIST))


def test_the_message_of_an_action_shows_on_the_card_it_was_done_to(portal, shop):
    portal.confirm_cancel(shop.sub)
    listed = portal.get(LIST)
    done = portal.submit(listed, f"/{shop.sub}/keep")
    card = f"sub-{shop.sub}"
    assert done.location == f"{LIST}?done={card}#{card}"
    html = portal.get(done.location).get_data(as_text=True)
    section = html[html.index(f'aria-labelledby="{card}"') :]
    section = section[: section.index("</section>")]
    assert '<p class="notice beside">Your subscription will continue.' in section
    # And in the live region the screen reader announces.
    flash = html[html.index('id="flash"') :]
    assert "Your subscription will continue." in flash[: flash.index("</div>")]


# ---- retention offer ----------------------------------------------------------------------

PERCENT_3_MONTHS = {"percent_off": 20, "duration": "repeating", "duration_in_months": 3}


def test_the_retention_offer_is_worded_from_the_coupon_and_accepting_cancels_nothing(portal, shop):
    coupon = shop.coupon(**PERCENT_3_MONTHS)
    shop.configure(retention_coupon_id=coupon)
    start = portal.get(sub_path(shop, "/cancel"))
    offer = portal.get(start.location)
    assert "Stay and get 20% off for 3 months" in portal.text(offer)
    done = portal.submit(offer, f"/{shop.sub}/retain", follow=True)
    assert "Offer applied." in portal.text(done)
    sub = shop.subscription()
    assert (sub["status"], sub["cancel_at_period_end"], sub["canceled_at"]) == (
        "active",
        False,
        None,
    )
    assert sub["discount"]["coupon_id"] == coupon
    assert "Next invoice $8.00 on Feb 1, 2026" in portal.text(portal.get(LIST))
    # Offered once: the next attempt to cancel goes straight to the confirmation.
    again = portal.cancel_page(shop.sub, "offer")
    assert again.status_code == 303 and "/cancel/confirm" in again.location
    assert Discount.select().count() == 1


@pytest.mark.parametrize("spoil", ["deleted", "used_up", "other_currency"])
def test_an_unusable_coupon_is_not_offered(portal, shop, merchant, spoil):
    shop.unusable_retention_coupon(spoil)
    offer = portal.cancel_page(shop.sub, "offer")
    assert offer.status_code == 303 and "/cancel/confirm" in offer.location
    refused = portal.post(sub_path(shop, "/retain"), follow=True)
    assert "no longer available" in portal.text(refused)
    assert shop.subscription()["discount"] is None


# ---- which subscriptions can be changed ---------------------------------------------------


def test_a_subscription_outside_the_product_list_keeps_cancel_and_quantity(portal, shop):
    """The list limits the plans offered for switching; it never takes Cancel away."""
    shop.configure(
        subscription_product_ids=[shop.pro_product],
        allow_plan_switch=True,
        allow_quantity_updates=True,
    )
    assert action_labels(portal) == ["Change plan", "Cancel subscription"]
    assert offered(portal, shop) == {shop.basic, shop.pro}  # its own plan, and the listed one
    preview = portal.preview_page(shop.sub, quantity=2)
    assert portal.submit(preview, f"/{shop.sub}/change").status_code == 303
    assert shop.subscription()["items"][0]["quantity"] == 2
    page = portal.cancel_page(shop.sub)
    assert portal.submit(page, f"/{shop.sub}/cancel").status_code == 303
    assert shop.subscription()["cancel_at_period_end"] is True


def test_listed_products_keep_their_actions(portal, shop):
    shop.configure(subscription_product_ids=[shop.basic_product], allow_plan_switch=True)
    assert action_labels(portal) == ["Change plan", "Cancel subscription"]


# ---- plan switch and quantity -------------------------------------------------------------


def offered(portal, shop) -> set[str]:
    page = portal.get(sub_path(shop, "/change"))
    assert page.status_code == 200
    return set(re.findall(r'name="price_id" value="([^"]+)"', page.get_data(as_text=True)))


def test_the_plans_offered_are_active_recurring_prices_in_the_plans_currency(portal, shop):
    shop.configure(allow_plan_switch=True)
    assert offered(portal, shop) == {shop.basic, shop.pro, shop.team, shop.basic_yearly}
    shop.configure(subscription_product_ids=[shop.basic_product, shop.team_product])
    assert offered(portal, shop) == {shop.basic, shop.team, shop.basic_yearly}


@pytest.mark.parametrize("price", ["pro_eur", "pro_archived", "retired", "pro"])
def test_a_plan_outside_the_offer_cannot_be_previewed_or_confirmed(portal, shop, price):
    shop.configure(allow_plan_switch=True, subscription_product_ids=[shop.basic_product])
    target = getattr(shop, price)
    preview = portal.preview_page(shop.sub, follow=True, price_id=target)
    assert "That plan is not available here." in portal.text(preview)
    done = portal.post(sub_path(shop, "/change"), True, price_id=target, expected_version=2)
    assert "That plan is not available here." in portal.text(done)
    assert shop.subscription()["items"][0]["price_id"] == shop.basic


def test_switching_to_yearly_billing_is_previewed_then_charged_once(portal, shop):
    shop.configure(allow_plan_switch=True)
    page = portal.preview_page(shop.sub, price_id=shop.basic_yearly)
    text = portal.text(page)
    # The unused 21/31 of January is credited; a whole year from today is charged now.
    assert "Unused time on Basic × 1 -$6.77 Basic × 1 $100.00 Due now $93.23" in text
    assert "Next invoice $100.00 on Jan 11, 2027" in text
    assert portal.submit(page, "/change").status_code == 303
    [item] = shop.subscription()["items"]
    assert item["price_id"] == shop.basic_yearly
    assert shop.subscription()["current_period_end"].startswith("2027-01-11")


def test_without_switch_or_quantity_there_is_no_change_page(portal, shop):
    assert action_labels(portal) == ["Cancel subscription"]
    assert portal.get(sub_path(shop, "/change")).status_code == 404


QTY, SWITCH = {"allow_quantity_updates": True}, {"allow_plan_switch": True}
RANGE, WHOLE = "Choose a quantity from 1 to 1000.", "Enter the quantity as a whole number."


@pytest.mark.parametrize(
    ("settings", "target", "message"),
    [
        (QTY, {"quantity": 0}, RANGE),
        (QTY, {"quantity": 1001}, RANGE),
        (QTY, {"quantity": "9" * 5000}, RANGE),
        (QTY, {"quantity": "-1"}, WHOLE),
        (QTY, {"quantity": "2.5"}, WHOLE),
        (QTY, {"quantity": "²"}, WHOLE),
        (SWITCH, {"quantity": 3}, "Quantity changes are turned off"),
        (QTY, {"price_id": "@pro"}, "Plan changes are turned off"),
        (QTY, {"quantity": 1}, "Choose a different plan or quantity."),
    ],
)
def test_a_refused_change_explains_itself_and_changes_nothing(
    portal, shop, settings, target, message
):
    shop.configure(**settings)
    target = {k: getattr(shop, v[1:]) if str(v).startswith("@") else v for k, v in target.items()}
    preview = portal.preview_page(shop.sub, follow=True, **target)
    assert message in portal.text(preview)
    done = portal.post(sub_path(shop, "/change"), True, expected_version=2, **target)
    assert message in portal.text(done)
    sub = shop.subscription()
    assert [(i["price_id"], i["quantity"]) for i in sub["items"]] == [(shop.basic, 1)]
    assert len(shop.invoices()) == 1


def test_a_quantity_change_is_previewed_and_billed(portal, shop):
    shop.configure(allow_quantity_updates=True)
    preview = portal.preview_page(shop.sub, quantity=3)
    # 21 of 31 days left: credit one seat (-$6.77), charge three seats ($20.32).
    assert "Due now $13.55" in portal.text(preview)
    assert "Next invoice $30.00 on Feb 1, 2026" in portal.text(preview)
    portal.submit(preview, f"/{shop.sub}/change")
    assert shop.subscription()["items"][0]["quantity"] == 3
    assert shop.invoices()[-1].amount_due == 1355


def _money_state(shop) -> tuple:
    from portal.models import Charge

    sub = shop.subscription()
    items = [(i["price_id"], i["quantity"]) for i in sub["items"]]
    return sub["status"], sub["version"], items, len(shop.invoices()), Charge.select().count()


def test_a_declined_change_payment_changes_nothing_and_offers_another_method(portal, shop):
    shop.configure(allow_quantity_updates=True)
    good = shop.subscription()["instrument_id"] or shop.add_card()
    declining = shop.add_card(source="tok_chargeDeclined")
    shop.merchant.ok("PATCH", f"/subscriptions/{shop.sub}", {"instrument_id": declining})
    before = _money_state(shop)
    preview = portal.preview_page(shop.sub, quantity=3)
    refused = portal.submit(preview, f"/{shop.sub}/change")
    assert refused.status_code == 402
    assert "Your card was declined. Nothing was changed." in portal.text(refused)
    assert _money_state(shop) == before  # no item, invoice, charge or status changed
    # The same preview offers the customer's other methods; paying with one works, once.
    html = refused.get_data(as_text=True)
    assert re.search(rf'<option value="{declining}" selected>', html)  # what was tried
    assert f'<option value="{good}">' in html
    done = portal.submit(refused, f"/{shop.sub}/change", payment_method_id=good)
    assert done.status_code == 303
    sub = shop.subscription()
    assert sub["items"][0]["quantity"] == 3 and sub["status"] == "active"
    assert sub["instrument_id"] == good and shop.invoices()[-1].status == "PAID"


def test_a_change_cannot_be_paid_with_another_customers_method(portal, shop):
    shop.configure(allow_quantity_updates=True)
    theirs = shop.add_card(shop.new_customer("other@example.com"), source="tok_mastercard")
    before = _money_state(shop)
    preview = portal.preview_page(shop.sub, quantity=3)
    refused = portal.submit(preview, f"/{shop.sub}/change", payment_method_id=theirs)
    assert refused.status_code == 422
    assert "Choose one of your payment methods." in portal.text(refused)
    assert _money_state(shop) == before


def shown(portal, page) -> tuple[int, int]:
    """(due now, next invoice) in cents, as the preview page prints them."""
    text = portal.text(page)
    print("PAGETEXT", text)
    return cents("Due now", text), cents("Next invoice", text)


@pytest.mark.parametrize("behavior", ["none", "prorate", "full_difference"])
@pytest.mark.parametrize("timing", ["immediately", "period_end"])
@pytest.mark.parametrize("target", ["pro", "team"])
def test_the_preview_page_shows_the_merchant_preview_and_confirming_bills_it(
    portal, shop, merchant, behavior, timing, target
):
    shop.configure(
        allow_plan_switch=True,
        subscription_proration_behavior=behavior,
        subscription_charge_timing=timing,
    )
    price = getattr(shop, target)
    query = f"items={price}:1&proration_behavior={behavior}&charge_timing={timing}"
    expected = merchant.ok("GET", f"/subscriptions/{shop.sub}/proration-preview?{query}")
    page = portal.preview_page(shop.sub, price_id=price)
    assert shown(portal, page) == (expected["amount_due_now"], expected["next_invoice"]["amount"])
    for line in expected["lines"]:
        assert line["description"] in portal.text(page)
    portal.submit(page, f"/{shop.sub}/change")
    assert shop.subscription()["items"][0]["price_id"] == price
    made = shop.invoices()[1:]
    if timing == "immediately" and expected["lines"]:
        assert [(i.amount_due, shop.amounts(i)) for i in made] == [
            (expected["amount_due_now"], [line["amount"] for line in expected["lines"]])
        ]
    else:
        assert made == []


def test_a_stale_preview_gets_a_fresh_one_with_409(portal, shop, merchant):
    shop.configure(allow_plan_switch=True)
    page = portal.preview_page(shop.sub, price_id=shop.pro)
    merchant.ok("PATCH", f"/subscriptions/{shop.sub}", {"metadata": {"crm": "42"}})
    stale = portal.submit(page, f"/{shop.sub}/change")
    assert stale.status_code == 409
    assert "changed since it was loaded" in portal.text(stale)
    assert shown(portal, stale) == shown(portal, page)
    assert portal.form(stale, f"/{shop.sub}/change").fields["expected_version"] == "3"
    assert shop.subscription()["items"][0]["price_id"] == shop.basic
    assert portal.submit(stale, f"/{shop.sub}/change").status_code == 303
    assert shop.subscription()["items"][0]["price_id"] == shop.pro


@pytest.mark.parametrize("version", ["", "1", "²", "-3", "9" * 5000])
def test_a_confirm_with_a_wrong_version_is_a_fresh_preview(portal, shop, version):
    shop.configure(allow_quantity_updates=True)
    stale = portal.post(sub_path(shop, "/change"), quantity=2, expected_version=version)
    assert stale.status_code == 409 and "Due now $6.78" in portal.text(stale)
    assert shop.subscription()["items"][0]["quantity"] == 1


def test_the_next_invoice_shown_is_the_next_invoice_charged(portal, shop, clock):
    """A change billed at renewal: the pages' next invoice includes it, as renewal does."""
    shop.configure(allow_quantity_updates=True, subscription_charge_timing="period_end")
    preview = portal.preview_page(shop.sub, quantity=3)
    promised = cents("Next invoice", portal.text(preview))
    assert portal.submit(preview, f"/{shop.sub}/change").status_code == 303
    listed = cents("Next invoice", portal.text(portal.get(LIST)))
    home = cents(r"Renews on \w+ \d+, \d+ for", portal.text(portal.get("/portal")))
    assert promised == listed == home > 3000  # three seats, plus the pending proration
    clock.move_to(FEB1)
    run_billing()
    assert shop.invoices()[-1].amount_due == promised


def test_a_downgrade_credit_is_a_credit_note_not_a_negative_invoice(portal, shop):
    from pdftext import page_text

    shop.configure(allow_quantity_updates=True)
    sub = shop.subscribe(shop.basic, quantity=3)["id"]
    preview = portal.preview_page(sub, quantity=1)
    assert portal.submit(preview, f"/{sub}/change").status_code == 303
    note = shop.invoices(sub)[-1]
    assert note.total < 0
    page = portal.get(f"/portal/invoices/{note.id}")
    text = portal.text(page)
    print("PAGETEXT", text)
    assert f"Credit note {note.number}" in text and "Paid" not in text.split("Details")[0]
    listed = portal.text(portal.get("/portal/invoices"))
    assert "Credit note" in listed and f"-${-note.total / 100:.2f}" not in listed
    pdf = portal.get(f"/portal/invoices/{note.id}/pdf")
    assert f"Credit note {note.number}" in page_text(pdf.data)


def test_a_subscription_of_several_items_offers_no_form_that_would_fail(portal, shop):
    shop.configure(allow_plan_switch=True, allow_quantity_updates=True)
    items = [{"price_id": shop.pro, "quantity": 1}, {"price_id": shop.team, "quantity": 2}]
    both = shop.merchant.ok(
        "POST", "/subscriptions", {"identity_id": shop.customer, "items": items}, status=201
    )
    text = portal.text(portal.get(LIST))
    assert "This subscription has several items; to change its plan or quantities, contact" in text
    # One "Change plan" for the one-item subscription, none for the two-item one.
    assert action_labels(portal).count("Change plan") == 1
    assert portal.get(f"{LIST}/{both['id']}/change").status_code == 404
