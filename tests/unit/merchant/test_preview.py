"""The live preview beside the settings: a clearly marked demo customer (never a real one)
seeing the saved settings, refreshed after each save; "send me a test link"; the shareable
sign-in page URL."""

import re

from browsing import csrf_of
from support import add_domain

from portal.models import Customer, LoginToken, OutboxMessage, PortalSession

from .kit import form_state

CONFIG = "/customer-portal-config"
_LINK = re.compile(r"https?://[^\s\"'<>]+/portal/access/[^\s\"'<>]+")


def preview(owner) -> str:
    response = owner.hx_get("/merchant/settings/preview")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="preview"')
    return html


def test_the_preview_refreshes_when_a_save_announces_itself(owner):
    html = owner.get("/merchant/settings").get_data(as_text=True)
    assert 'hx-get="/merchant/settings/preview" hx-trigger="settings-saved from:body"' in html
    saved = owner.hx_post("/merchant/settings/field/portal_header", {"portal_header": "Hello"})
    assert saved.headers["HX-Trigger"] == "settings-saved"


def test_the_preview_is_a_marked_demo_customer_and_never_a_real_one(owner, merchant):
    merchant.ok("POST", "/customer", {"first_name": "Realperson", "last_name": "Doe"}, status=201)
    html = preview(owner)
    assert "Demo customer · preview only" in html and "Hello, Demo" in html
    assert "Realperson" not in html


def test_added_cancellation_reasons_appear_in_the_preview(owner, merchant):
    merchant.ok("PATCH", CONFIG, {"cancellation_reasons_enabled": True})
    owner.hx_post(
        "/merchant/settings/field/cancellation_reasons",
        {"cancellation_reasons": ["Too expensive", "Found a cheaper studio"]},
    )
    html = preview(owner)
    assert "Why are you cancelling?" in html and "Found a cheaper studio" in html


def test_the_preview_follows_each_setting(owner, merchant):
    coupon = merchant.ok(
        "POST",
        "/coupons",
        {"name": "Stay", "duration": "repeating", "duration_in_months": 3, "percent_off": 20},
        status=201,
    )
    merchant.ok(
        "PATCH",
        CONFIG,
        {
            "cancellation_mode": "immediately",
            "cancellation_proration_enabled": True,
            "retention_coupon_id": coupon["id"],
            "allow_plan_switch": True,
            "portal_header": "<b>Support</b> 24/7",
            "return_url": "https://acme.example",
            "invoice_history_enabled": False,
        },
    )
    html = preview(owner)
    assert "ends immediately, and you receive a credit for the unused time" in html
    assert "stay and get 20% off for 3 months" in html
    assert "Switch plan" in html and "Return to Acme Cloud" in html
    assert "&lt;b&gt;Support&lt;/b&gt; 24/7" in html and "<b>Support" not in html
    assert ">Invoices<" not in html
    merchant.ok("PATCH", CONFIG, {"cancellations_enabled": False, "subscriptions_enabled": False})
    html = preview(owner)
    assert "Cancel subscription" not in html and "Subscriptions are not shown" in html


def test_the_preview_uses_the_merchants_own_plans(owner, merchant):
    product = merchant.ok("POST", "/products", {"name": "Studio Pro"}, status=201)
    merchant.ok(
        "POST",
        "/product-prices",
        {
            "product_id": product["id"],
            "currency": "EUR",
            "unit_amount": 4500,
            "type": "recurring",
            "interval": "month",
        },
        status=201,
    )
    html = preview(owner)
    assert "Studio Pro" in html and "45.00" in html


def test_the_share_url_is_the_sign_in_page_or_the_chosen_domain(owner, merchant):
    html = owner.get("/merchant/settings").get_data(as_text=True)
    assert f'value="http://portal.test/p/{merchant.id}"' in html
    assert owner.client.get(f"/p/{merchant.id}").status_code == 200
    domain = add_domain(merchant.company, "billing.acme.test")
    merchant.ok("PATCH", CONFIG, {"custom_domain_id": domain.id})
    assert 'value="http://billing.acme.test/"' in preview(owner)


def _redeem(client, link):
    path = "/" + link.split("/", 3)[3]
    page = client.get(path)
    assert page.status_code == 200, page.get_data(as_text=True)
    return client.post(path, data={"csrf_token": csrf_of(page)})


def test_send_me_a_test_link_signs_the_merchant_in_as_the_demo_customer(app, owner, merchant):
    response = owner.post("/merchant/settings/test-link")
    assert response.status_code == 303
    message = OutboxMessage.get()
    assert message.to_address == "owner@acmecloud.example"
    assert "demo customer" in message.subject
    link = _LINK.search(message.text_body).group(0)
    assert link.startswith("http://portal.test/portal/access/")
    portal = app.test_client()
    assert _redeem(portal, link).status_code == 303
    session = PortalSession.get()
    customer = Customer.get_by_id(session.customer_id)
    assert customer.tags == {"demo": True, "preview": True} and customer.company_id == merchant.id
    assert portal.get("/portal").status_code == 200
    flash = owner.get("/merchant/settings").get_data(as_text=True)
    assert "We emailed owner@acmecloud.example a sign-in link as the demo customer." in flash


def test_the_demo_customer_is_made_once_and_kept_out_of_the_customer_list(owner, merchant):
    real = merchant.ok("POST", "/customer", {"first_name": "Real", "last_name": "One"}, status=201)
    owner.post("/merchant/settings/test-link")
    owner.post("/merchant/settings/test-link")
    assert Customer.select().count() == 2 and LoginToken.select().count() == 2
    listed = merchant.get("/customer").get_json()
    assert [c["id"] for c in listed["data"]] == [real["id"]]
    assert listed["pagination"]["total"] == 1


def test_the_test_link_form_needs_csrf(owner):
    response = owner.client.post("/merchant/settings/test-link")
    assert response.status_code == 400 and OutboxMessage.select().count() == 0


def test_the_page_without_javascript_keeps_the_preview_inline(owner):
    html = owner.get("/merchant/settings").get_data(as_text=True)
    assert 'id="preview"' in html and "Demo customer · preview only" in html
    assert owner.get("/merchant/settings/preview").status_code == 303
    assert "share-url" not in form_state(html)


def test_test_links_are_limited_to_ten_an_hour_per_user(owner):
    for _ in range(10):
        assert owner.post("/merchant/settings/test-link").status_code == 303
    assert owner.post("/merchant/settings/test-link").status_code == 429
    assert OutboxMessage.select().count() == 10
