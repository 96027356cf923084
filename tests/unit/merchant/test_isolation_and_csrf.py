"""Tenant isolation and CSRF on the merchant pages: a merchant never sees or changes another
company's settings, keys, domains, invitations or events; every merchant POST needs the CSRF
token and refuses cross-site requests."""

import pytest
from support import add_domain

from portal.models import (
    ApiKey,
    CustomDomain,
    MerchantInvite,
    PortalConfig,
    PortalEvent,
)

from .kit import FakeResolver


@pytest.fixture
def foreign(app, other_merchant, other_owner):
    """Globex's objects, with a resolver that would verify its pending domain."""
    customer = other_merchant.ok(
        "POST",
        "/customer",
        {"first_name": "Gina", "last_name": "Globex", "email": "gina@globex.example"},
        status=201,
    )
    PortalEvent.create(
        company=other_merchant.id, customer=customer["id"], action="auth.link_issued"
    )
    verified = add_domain(other_merchant.company, "billing.globex.test")
    pending = add_domain(
        other_merchant.company, "pending.globex.test", verified=False, verification_token="p"
    )
    app.config["PORTAL_TXT_RESOLVER"] = FakeResolver(
        {"_portal-verify.pending.globex.test": ["portal-verify=p"]}
    )
    other_owner.post("/merchant/team/invite", {"email": "new@globex.example"})
    other_owner.hx_post(
        "/merchant/settings/field/portal_header", {"portal_header": "Globex header"}
    )
    return {
        "customer": customer["id"],
        "key": ApiKey.get((ApiKey.company == other_merchant.id) & (ApiKey.key_type == "secret")),
        "verified": verified,
        "pending": pending,
        "invite": MerchantInvite.get(),
    }


def rows(model, company_id, *fields):
    query = model.select().where(model.company == company_id).order_by(model.id)
    return [tuple(getattr(row, name) for name in fields) for row in query]


def snapshot(company_id):
    config = PortalConfig.get_or_none(PortalConfig.company == company_id)
    return (
        rows(ApiKey, company_id, "id", "revoked_at"),
        rows(CustomDomain, company_id, "id", "verified"),
        rows(MerchantInvite, company_id, "id", "revoked_at"),
        (config.version, config.settings) if config else None,
    )


ACTIONS = [
    "/merchant/keys/{key}/revoke",
    "/merchant/domains/{pending}/verify",
    "/merchant/domains/{verified}/use",
    "/merchant/domains/{verified}/remove",
    "/merchant/team/invites/{invite}/revoke",
]


@pytest.mark.parametrize("template", ACTIONS)
def test_another_companys_objects_are_not_found_and_unchanged(
    owner, other_merchant, foreign, template
):
    ids = {
        "key": foreign["key"].id,
        "pending": foreign["pending"].id,
        "verified": foreign["verified"].id,
        "invite": foreign["invite"].id,
    }
    before = snapshot(other_merchant.id), snapshot(owner.merchant.id)
    assert owner.post(template.format(**ids)).status_code == 404
    assert (snapshot(other_merchant.id), snapshot(owner.merchant.id)) == before


@pytest.mark.parametrize(
    ("path", "secret"),
    [
        ("/merchant/keys", "last_four"),
        ("/merchant/domains", "hostname"),
        ("/merchant/team", "new@globex.example"),
        ("/merchant/activity", "gina@globex.example"),
        ("/merchant/activity?customer={customer}", "auth.link_issued</code>"),
        ("/merchant/settings", "Globex header"),
        ("/merchant/branding", "Globex"),
    ],
)
def test_pages_never_show_another_companys_data(owner, foreign, path, secret):
    secret = {"last_four": f"…{foreign['key'].last_four}<", "hostname": "globex.test"}.get(
        secret, secret
    )
    html = owner.get(path.format(customer=foreign["customer"])).get_data(as_text=True)
    assert secret not in html


def test_settings_saves_only_touch_the_signed_in_company(owner, merchant, other_merchant, foreign):
    before = snapshot(other_merchant.id)
    owner.hx_post("/merchant/settings/field/cancellations_enabled", {})
    response = owner.hx_post(
        "/merchant/settings/field/custom_domain_id", {"custom_domain_id": foreign["verified"].id}
    )
    assert "verified custom domain of this account" in response.get_data(as_text=True)
    assert merchant.ok("GET", "/customer-portal-config")["cancellations_enabled"] is False
    assert snapshot(other_merchant.id) == before
    assert other_merchant.ok("GET", "/customer-portal-config")["cancellations_enabled"] is True


def test_a_merchant_session_is_no_api_credential(owner):
    response = owner.client.get("/v1/api/customer-portal-config")
    assert response.status_code == 401


# --- CSRF on every merchant POST -----------------------------------------------------------

PARAMS = {"name": "portal_header", "key_id": "x", "domain_id": "x", "invite_id": "x", "token": "x",
          "user_id": "x", "endpoint_id": "x", "delivery_id": "x"}  # fmt: skip


def merchant_posts(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("merchant.") and "POST" in rule.methods:
            yield rule.rule.replace("<", "{").replace(">", "}").format(**PARAMS)


def test_the_inventory_of_merchant_posts_is_known(app):
    assert sorted(merchant_posts(app)) == sorted([
        "/merchant/sign-in", "/merchant/sign-out", "/merchant/invite/x",
        "/merchant/settings", "/merchant/settings/field/portal_header",
        "/merchant/settings/test-link", "/merchant/dunning", "/merchant/branding",
        "/merchant/branding/logo",
        "/merchant/branding/logo/remove", "/merchant/domains", "/merchant/domains/x/verify",
        "/merchant/domains/x/use", "/merchant/domains/x/remove", "/merchant/keys",
        "/merchant/keys/x/revoke", "/merchant/team/invite", "/merchant/team/invites/x/revoke",
        "/merchant/team/members/x/remove", "/merchant/webhooks", "/merchant/webhooks/x",
        "/merchant/webhooks/x/status", "/merchant/webhooks/x/delete", "/merchant/webhooks/x/roll",
        "/merchant/webhooks/x/test", "/merchant/webhooks/deliveries/x/resend",
    ])  # fmt: skip


def test_every_merchant_post_needs_the_csrf_token(app, owner, merchant):
    before = snapshot(merchant.id)
    for path in merchant_posts(app):
        plain = owner.client.post(
            path, data={"portal_header": "x", "name": "x", "hostname": "a.example.com"}
        )
        assert plain.status_code == 400, path
        hx = owner.client.post(path, data={"portal_header": "x"}, headers={"HX-Request": "true"})
        assert hx.status_code == 400, path
    assert snapshot(merchant.id) == before


def test_every_merchant_post_refuses_cross_site_requests(app, owner, merchant):
    before = snapshot(merchant.id)
    for path in merchant_posts(app):
        response = owner.post(
            path, {"portal_header": "x"}, headers={"Sec-Fetch-Site": "cross-site"}
        )
        assert response.status_code == 403, path
    assert snapshot(merchant.id) == before
