"""Controls that depend on a switch: disabled (server-rendered) while it is off, redrawn out
of band when it changes, refused by the field endpoint, and kept as stored by the whole form."""

from .kit import form_state, page_state, stored_config

CONFIG = "/customer-portal-config"


def api_config(merchant) -> dict:
    return merchant.ok("GET", CONFIG)


def test_controls_are_disabled_while_their_switch_is_off(owner, merchant):
    merchant.ok("PATCH", CONFIG, {"cancellations_enabled": False, "payment_methods_enabled": False})
    html = owner.get("/merchant/settings").get_data(as_text=True)
    assert '<fieldset class="dependents" id="deps-cancellations_enabled" disabled' in html
    assert '<fieldset class="dependents" id="deps-payment_methods_enabled" disabled' in html
    assert '<fieldset class="dependents" id="deps-subscriptions_enabled">' in html
    state = form_state(html)
    assert "cancellation_mode" not in state and "accepted_payment_methods" not in state


def test_a_dependent_control_cannot_be_saved_while_its_switch_is_off(owner, merchant):
    merchant.ok("PATCH", CONFIG, {"cancellations_enabled": False})
    before = stored_config(merchant)
    response = owner.hx_post(
        "/merchant/settings/field/cancellation_mode", {"cancellation_mode": "immediately"}
    )
    assert "Turn on “Cancellations” first." in response.get_data(as_text=True)
    assert stored_config(merchant) == before


def test_turning_a_switch_on_or_off_redraws_its_dependent_group(owner, merchant):
    off = owner.hx_post("/merchant/settings/field/cancellations_enabled", {}).get_data(as_text=True)
    assert 'id="deps-cancellations_enabled" disabled hx-swap-oob="true"' in off
    on = owner.hx_post(
        "/merchant/settings/field/cancellations_enabled", {"cancellations_enabled": "on"}
    )
    html = on.get_data(as_text=True)
    assert (
        '<fieldset class="dependents" id="deps-cancellations_enabled" hx-swap-oob="true">' in html
    )
    # the nested group (reasons) is redrawn inside it, still disabled: its own switch is off
    assert 'id="deps-cancellation_reasons_enabled" disabled' in html


def test_whole_form_keeps_the_stored_values_of_a_disabled_group(owner, merchant):
    merchant.ok(
        "PATCH", CONFIG, {"cancellation_mode": "immediately", "cancellations_enabled": False}
    )
    state = page_state(owner)
    state.setlist("cancellations_enabled", ["on"])
    assert owner.client.post("/merchant/settings", data=state).status_code == 303
    config = api_config(merchant)
    assert config["cancellations_enabled"] is True and config["cancellation_mode"] == "immediately"


def test_unknown_fields_are_404(owner):
    assert (
        owner.hx_post("/merchant/settings/field/company_id", {"company_id": "x"}).status_code == 404
    )


def test_mass_assignment_through_the_whole_form_is_ignored(owner, merchant, other_merchant):
    state = page_state(owner)
    state.setlist("company_id", [other_merchant.id])
    state.setlist("version", ["999"])
    assert owner.client.post("/merchant/settings", data=state).status_code == 303
    config = api_config(merchant)
    assert config["company_id"] == merchant.id and config["version"] < 999
