"""The portal settings page: every field round-trips through the page (per-field htmx saves and
the whole form without JavaScript) and matches GET /customer-portal-config; invalid values show
their error and save nothing; dependent controls are disabled while their switch is off."""

import pytest
from support import add_domain

from .kit import form_state, page_state, stored_config

CONFIG = "/customer-portal-config"


@pytest.fixture
def catalog(merchant, other_merchant):
    """Ids the pickers can offer: a product, a coupon, a verified domain (and foreign ones)."""
    domain = add_domain(merchant.company, "billing.acme.test")
    pending = add_domain(merchant.company, "pending.acme.test", verified=False)
    return {
        "product": merchant.ok("POST", "/products", {"name": "Team"}, status=201)["id"],
        "coupon": merchant.ok(
            "POST", "/coupons", {"name": "Stay", "duration": "once", "percent_off": 20}, status=201
        )["id"],
        "domain": domain.id,
        "pending_domain": pending.id,
        "foreign_product": other_merchant.ok("POST", "/products", {"name": "X"}, status=201)["id"],
        "foreign_coupon": other_merchant.ok(
            "POST", "/coupons", {"duration": "once", "percent_off": 5}, status=201
        )["id"],
    }


def api_config(merchant) -> dict:
    return merchant.ok("GET", CONFIG)


def shown(state, name, value):
    """What the page's control for ``name`` holds, in the API's types."""
    if name == "quantity_limits":  # a row of two number inputs per product
        return [
            {"product_id": key.removeprefix("limit-min-"), "minimum": int(low),
             "maximum": int(state[key.replace("min", "max", 1)] or 0) or None}
            for key, low in state.items(multi=True)
            if key.startswith("limit-min-") and low
        ]  # fmt: skip
    if isinstance(value, bool):
        return state.get(name) == "on"
    if isinstance(value, list):
        return [v for v in state.getlist(name) if v]
    if isinstance(value, int):  # a radio group of whole numbers
        text = state.get(name)
        return int(text) if text and text.isdigit() else text
    return state.get(name) or None


# (field, form data for the field endpoint with "{ids}" placeholders, expected API value,
#  config to PATCH first so the control is enabled)
ROUND_TRIPS = [
    ("payment_methods_enabled", {}, False, {}),
    ("accepted_payment_methods", {"accepted_payment_methods": ["card", "bank_account"]},
     ["card", "bank_account"], {}),
    ("subscriptions_enabled", {}, False, {}),
    ("allow_plan_switch", {"allow_plan_switch": "on"}, True, {}),
    ("allow_quantity_updates", {"allow_quantity_updates": "on"}, True, {}),
    ("subscription_product_ids", {"subscription_product_ids": ["{product}"]}, ["{product}"], {}),
    ("cancellations_enabled", {}, False, {}),
    ("cancellation_mode", {"cancellation_mode": "immediately"}, "immediately", {}),
    ("cancellation_proration_enabled", {"cancellation_proration_enabled": "on"}, True, {}),
    ("cancellation_reasons_enabled", {"cancellation_reasons_enabled": "on"}, True, {}),
    ("cancellation_reasons", {"cancellation_reasons": ["Too pricey", " ", " Moved on "]},
     ["Too pricey", "Moved on"], {"cancellation_reasons_enabled": True}),
    ("retention_coupon_id", {"retention_coupon_id": "{coupon}"}, "{coupon}", {}),
    ("subscription_proration_behavior", {"subscription_proration_behavior": "full_difference"},
     "full_difference", {}),
    ("subscription_charge_timing", {"subscription_charge_timing": "period_end"}, "period_end", {}),
    ("downgrade_timing", {"downgrade_timing": "period_end"}, "period_end", {}),
    ("quantity_limits", {"limit-min-{product}": " 2", "limit-max-{product}": "5"},
     [{"product_id": "{product}", "minimum": 2, "maximum": 5}], {}),
    ("pause_enabled", {"pause_enabled": "on"}, True, {}),
    ("pause_max_periods", {"pause_max_periods": "1"}, 1, {"pause_enabled": True}),
    ("resubscribe_enabled", {}, False, {}),
    ("invoice_history_enabled", {}, False, {}),
    ("return_url", {"return_url": " https://acme.example/account "},
     "https://acme.example/account", {}),
    ("portal_header", {"portal_header": "Questions? Write to billing@acme.example"},
     "Questions? Write to billing@acme.example", {}),
    ("custom_domain_id", {"custom_domain_id": "{domain}"}, "{domain}", {}),
]  # fmt: skip


def fill(value, ids):
    if isinstance(value, str):
        return value.format(**ids) if "{" in value else value
    if isinstance(value, list):
        return [fill(item, ids) for item in value]
    if isinstance(value, dict):
        return {fill(key, ids): fill(item, ids) for key, item in value.items()}
    return value


def test_the_page_offers_a_control_with_an_explanation_for_every_config_field(owner, merchant):
    html = owner.get("/merchant/settings").get_data(as_text=True)
    config = api_config(merchant)
    fields = [k for k in config if k not in ("company_id", "version", "created_at", "updated_at")]
    assert len(fields) == 27
    for name in fields:
        assert f'id="field-{name}"' in html, name
        assert f'id="cfg-{name}-hint"' in html, name
        assert f'hx-post="/merchant/settings/field/{name}"' in html, name
    assert (
        'role="switch"' in html
        and '<button type="submit" class="button primary">Save</button>' in html
    )


@pytest.mark.parametrize(
    ("name", "data", "expected", "setup"), ROUND_TRIPS, ids=[r[0] for r in ROUND_TRIPS]
)
def test_a_field_saved_by_htmx_matches_the_api_and_the_page(
    owner, merchant, catalog, name, data, expected, setup
):
    if setup:
        merchant.ok("PATCH", CONFIG, setup)
    expected = fill(expected, catalog)
    before = api_config(merchant)
    assert before[name] != expected
    response = owner.hx_post(f"/merchant/settings/field/{name}", fill(data, catalog))
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "settings-saved"
    assert 'class="saved"' in response.get_data(as_text=True)
    after = api_config(merchant)
    assert after[name] == expected
    assert {k: v for k, v in after.items() if k not in (name, "version", "updated_at")} == {
        k: v for k, v in before.items() if k not in (name, "version", "updated_at")
    }
    assert shown(page_state(owner), name, expected) == expected


@pytest.mark.parametrize(
    ("name", "data", "expected", "setup"), ROUND_TRIPS, ids=[r[0] for r in ROUND_TRIPS]
)
def test_a_field_saved_with_the_whole_form_matches_the_api(
    owner, merchant, catalog, name, data, expected, setup
):
    """Without JavaScript: the browser posts the whole form with one control changed."""
    if setup:
        merchant.ok("PATCH", CONFIG, setup)
    expected = fill(expected, catalog)
    state = page_state(owner)
    state.poplist(name)
    for key, value in fill(data, catalog).items():
        state.setlist(key, value if isinstance(value, list) else [value])
    response = owner.client.post("/merchant/settings", data=state)
    assert response.status_code == 303, response.get_data(as_text=True)
    assert api_config(merchant)[name] == expected
    page = owner.get("/merchant/settings").get_data(as_text=True)
    assert "Settings saved." in page
    assert shown(form_state(page), name, expected) == expected


def test_posting_the_unchanged_form_changes_nothing(owner, merchant, catalog):
    merchant.ok(
        "PATCH",
        CONFIG,
        {
            "cancellation_reasons_enabled": True,
            "retention_coupon_id": catalog["coupon"],
            "return_url": "https://acme.example",
            "custom_domain_id": catalog["domain"],
        },
    )
    before = api_config(merchant)
    assert owner.client.post("/merchant/settings", data=page_state(owner)).status_code == 303
    after = api_config(merchant)
    assert {k: v for k, v in after.items() if k not in ("version", "updated_at")} == {
        k: v for k, v in before.items() if k not in ("version", "updated_at")
    }


def test_every_stored_value_shows_on_the_page(owner, merchant, catalog):
    config = merchant.ok("PATCH", CONFIG, {
        "accepted_payment_methods": ["bank_account"], "allow_plan_switch": True,
        "subscription_product_ids": [catalog["product"]], "cancellation_mode": "immediately",
        "cancellation_proration_enabled": True,
        "cancellation_credit_destination": "original_payment_method",
        "cancellation_reasons_enabled": True, "cancellation_reasons": ["A", "B"],
        "retention_coupon_id": catalog["coupon"], "subscription_proration_behavior": "none",
        "return_url": "https://acme.example/", "portal_header": "Hi <there>",
        "custom_domain_id": catalog["domain"], "pause_enabled": True, "pause_max_periods": 2,
        "downgrade_timing": "period_end",
        "quantity_limits": [{"product_id": catalog["product"], "minimum": 3, "maximum": None}],
    })  # fmt: skip
    state = page_state(owner)
    for name, value in config.items():
        if name not in ("company_id", "version", "created_at", "updated_at"):
            assert shown(state, name, value) == value, name


# --- invalid values ------------------------------------------------------------------------

INVALID = [
    ("accepted_payment_methods", {}, "Accept at least one kind", {}),
    ("accepted_payment_methods", {"accepted_payment_methods": ["paypal"]}, "card", {}),
    ("cancellation_mode", {"cancellation_mode": "sometimes"}, "immediately", {}),
    ("subscription_proration_behavior", {}, "prorate", {}),
    ("quantity_limits", {"limit-min-{product}": "5", "limit-max-{product}": "2"},
     "Each minimum is 1 to 1000", {}),
    ("quantity_limits", {"limit-min-{product}": "two"}, "valid integer", {}),
    # Digits int() refuses though str.isdigit() accepts them.
    ("quantity_limits", {"limit-min-{product}": "\u00b2"}, "valid integer", {}),
    ("quantity_limits", {"limit-min-{product}": "1", "limit-max-{product}": "\u0665"},
     "valid integer", {}),
    ("pause_max_periods", {"pause_max_periods": "\u00b2"}, "valid integer",
     {"pause_enabled": True}),
    ("cancellation_reasons", {"cancellation_reasons": ["x" * 101]}, "100",
     {"cancellation_reasons_enabled": True}),
    ("cancellation_reasons", {"cancellation_reasons": ["Same", "Same"]}, "appears once",
     {"cancellation_reasons_enabled": True}),
    ("cancellation_reasons", {"cancellation_reasons": ["", " "]}, "Give 1 to 10 reasons",
     {"cancellation_reasons_enabled": True}),
    ("cancellation_reasons", {"cancellation_reasons": [f"R{i}" for i in range(11)]}, "10",
     {"cancellation_reasons_enabled": True}),
    ("subscription_product_ids", {"subscription_product_ids": ["{foreign_product}"]},
     "product of this account", {}),
    ("retention_coupon_id", {"retention_coupon_id": "{foreign_coupon}"}, "valid coupon", {}),
    ("return_url", {"return_url": "javascript:alert(1)"}, "absolute", {}),
    ("return_url", {"return_url": "https://user@acme.example"}, "no user name", {}),
    ("portal_header", {"portal_header": "x" * 121}, "120", {}),
    ("portal_header", {"portal_header": "evil \u202e text"}, "control characters", {}),
    ("custom_domain_id", {"custom_domain_id": "{pending_domain}"}, "verified custom domain", {}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "data", "message", "setup"),
    INVALID,
    ids=[f"{r[0]}-{i}" for i, r in enumerate(INVALID)],
)
def test_an_invalid_value_shows_its_error_and_saves_nothing(
    owner, merchant, catalog, name, data, message, setup
):
    if setup:
        merchant.ok("PATCH", CONFIG, setup)
    before = stored_config(merchant)
    response = owner.hx_post(f"/merchant/settings/field/{name}", fill(data, catalog))
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "HX-Trigger" not in response.headers
    assert message in html and 'aria-invalid="true"' in html and 'class="saved"' not in html
    assert f'id="cfg-{name}-error"' in html
    assert stored_config(merchant) == before


@pytest.mark.parametrize(
    ("name", "data", "message", "setup"),
    INVALID,
    ids=[f"{r[0]}-{i}" for i, r in enumerate(INVALID)],
)
def test_an_invalid_value_in_the_whole_form_saves_nothing_at_all(
    owner, merchant, catalog, name, data, message, setup
):
    if setup:
        merchant.ok("PATCH", CONFIG, setup)
    before = stored_config(merchant)
    state = page_state(owner)
    state.setlist("portal_header", ["A valid change that must not be saved either"])
    state.poplist(name)
    for key, value in fill(data, catalog).items():
        state.setlist(key, value if isinstance(value, list) else [value])
    response = owner.client.post("/merchant/settings", data=state)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Nothing was saved" in html and message in html
    assert stored_config(merchant) == before
