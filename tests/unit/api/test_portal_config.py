"""GET|PATCH /customer-portal-config: defaults on first read, partial updates, every rule."""

import re
from datetime import timedelta

import pytest
from support import Merchant

from portal import create_app
from portal.db import db
from portal.models import Coupon, CustomDomain, PortalConfig, utcnow

from .apiworld import COUPON, PRODUCT, assert_error_envelope

PATH = "/customer-portal-config"
ISO_MS = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z"
# The table in api-conventions.md (cancellation_reasons: "a short sensible list", checked apart).
DEFAULTS = {
    "payment_methods_enabled": True,
    "accepted_payment_methods": ["card"],
    "subscriptions_enabled": True,
    "allow_plan_switch": False,
    "allow_quantity_updates": False,
    "subscription_product_ids": [],
    "cancellations_enabled": True,
    "cancellation_mode": "end_of_period",
    "cancellation_proration_enabled": False,
    "cancellation_credit_destination": "credit_balance",
    "cancellation_reasons_enabled": False,
    "retention_coupon_id": None,
    "subscription_proration_behavior": "prorate",
    "subscription_charge_timing": "immediately",
    "invoice_history_enabled": True,
    "receipt_emails_enabled": True,
    "return_url": None,
    "portal_header": None,
    "custom_domain_id": None,
}


def config_rows(company_id=None) -> list:
    with db.connection_context():
        query = PortalConfig.select()
        if company_id:
            query = query.where(PortalConfig.company == company_id)
        return list(query.tuples())


def make_domain(company, hostname: str, verified: bool = True) -> str:
    with db.connection_context():
        return CustomDomain.create(
            company=company,
            hostname=hostname,
            verification_token="token-" + hostname,
            verified=verified,
            verified_at=utcnow() if verified else None,
        ).id


@pytest.fixture
def refs(merchant, other_merchant):
    """Ids the rules talk about: own and foreign products, coupons and domains."""
    own_coupon = merchant.ok("POST", "/coupons", COUPON)["id"]
    deleted = merchant.ok("POST", "/coupons", COUPON)["id"]
    merchant.ok("DELETE", f"/coupons/{deleted}")
    expired = merchant.ok("POST", "/coupons", COUPON)["id"]
    with db.connection_context():
        past = utcnow() - timedelta(days=1)
        Coupon.update(redeem_by=past).where(Coupon.id == expired).execute()
    return {
        "product": merchant.ok("POST", "/products", PRODUCT)["id"],
        "product2": merchant.ok("POST", "/products", {"name": "Team plan"})["id"],
        "coupon": own_coupon,
        "deleted_coupon": deleted,
        "expired_coupon": expired,
        "domain": make_domain(merchant.company, "billing.acme.example"),
        "unverified_domain": make_domain(merchant.company, "pending.acme.example", False),
        "foreign_product": other_merchant.ok("POST", "/products", PRODUCT)["id"],
        "foreign_coupon": other_merchant.ok("POST", "/coupons", COUPON)["id"],
        "foreign_domain": make_domain(other_merchant.company, "billing.globex.example"),
    }


def test_the_defaults_are_read_without_storing_anything(merchant):
    assert config_rows() == []
    data = merchant.ok("GET", PATH)
    assert {k: data[k] for k in DEFAULTS} == DEFAULTS
    reasons = data["cancellation_reasons"]
    assert 1 <= len(reasons) <= 10 and len(set(reasons)) == len(reasons)
    assert all(1 <= len(reason) <= 100 for reason in reasons)
    assert data["company_id"] == merchant.id
    for stamp in ("created_at", "updated_at"):
        assert re.fullmatch(ISO_MS, data[stamp])
    assert merchant.ok("GET", PATH) == data
    assert config_rows() == []  # a read never writes; the first change stores the row
    changed = merchant.ok("PATCH", PATH, {"allow_plan_switch": True})
    assert len(config_rows()) == 1 and changed["created_at"] == data["created_at"]


def test_trailing_slash(merchant):
    assert merchant.ok("GET", PATH + "/")["allow_plan_switch"] is False
    assert merchant.ok("PATCH", PATH + "/", {"allow_plan_switch": True})["allow_plan_switch"]
    assert merchant.ok("GET", PATH)["allow_plan_switch"] is True


CHANGES = [
    ("payment_methods_enabled", False),
    ("accepted_payment_methods", ["card", "bank_account"]),
    ("accepted_payment_methods", ["bank_account"]),
    ("subscriptions_enabled", False),
    ("allow_plan_switch", True),
    ("allow_quantity_updates", True),
    ("subscription_product_ids", ["product", "product2"]),
    ("cancellations_enabled", False),
    ("cancellation_mode", "immediately"),
    ("cancellation_proration_enabled", True),
    ("cancellation_reasons_enabled", True),
    ("cancellation_reasons", ["Too pricey", "x" * 100]),
    ("retention_coupon_id", "coupon"),
    ("subscription_proration_behavior", "none"),
    ("subscription_proration_behavior", "full_difference"),
    ("subscription_charge_timing", "period_end"),
    ("invoice_history_enabled", False),
    ("return_url", "https://acme.example/account?tab=billing#top"),
    ("return_url", "http://localhost:8000/back"),
    ("portal_header", "Welcome back to <b>Acme</b> & co"),
    ("portal_header", "x" * 120),
    ("custom_domain_id", "domain"),
]


def resolved(value, refs):
    if isinstance(value, list):
        return [refs.get(v, v) for v in value]
    return refs.get(value, value) if isinstance(value, str) else value


@pytest.mark.parametrize(("field", "value"), CHANGES)
def test_each_field_round_trips_and_leaves_the_others(merchant, refs, field, value):
    value = resolved(value, refs)
    before = merchant.ok("GET", PATH)
    after = merchant.ok("PATCH", PATH, {field: value})
    assert after[field] == value
    assert merchant.ok("GET", PATH) == after
    unchanged = {k for k in before if k not in (field, "updated_at", "version")}
    assert {k: after[k] for k in unchanged} == {k: before[k] for k in unchanged}


@pytest.mark.parametrize("field", ["return_url", "portal_header", "retention_coupon_id"])
def test_nullable_fields_clear_with_null(merchant, refs, field):
    value = {"return_url": "https://acme.example", "portal_header": "Hi"}.get(field, refs["coupon"])
    merchant.ok("PATCH", PATH, {field: value})
    assert merchant.ok("PATCH", PATH, {field: None})[field] is None


def test_partial_patches_accumulate(merchant):
    merchant.ok("PATCH", PATH, {"allow_plan_switch": True})
    merchant.ok("PATCH", PATH, {"cancellation_mode": "immediately"})
    data = merchant.ok("PATCH", PATH, {})
    assert (data["allow_plan_switch"], data["cancellation_mode"]) == (True, "immediately")


ACCEPTED = [
    {"payment_methods_enabled": False, "accepted_payment_methods": []},
    {"cancellation_reasons_enabled": False, "cancellation_reasons": []},
    {"cancellation_reasons_enabled": True, "cancellation_reasons": [f"r{i}" for i in range(10)]},
    {"subscription_product_ids": []},
]


@pytest.mark.parametrize("patch", ACCEPTED)
def test_rules_allow(merchant, patch):
    data = merchant.ok("PATCH", PATH, patch)
    assert {k: data[k] for k in patch} == patch


REFUSED = [
    ({"accepted_payment_methods": []}, "accepted_payment_methods"),
    ({"accepted_payment_methods": ["cash"]}, "accepted_payment_methods"),
    ({"accepted_payment_methods": ["card", "card"]}, "accepted_payment_methods"),
    ({"accepted_payment_methods": "card"}, "accepted_payment_methods"),
    ({"payment_methods_enabled": None}, "payment_methods_enabled"),
    ({"cancellation_reasons_enabled": True, "cancellation_reasons": []}, "cancellation_reasons"),
    ({"cancellation_reasons": ["Too pricey", "Too pricey"]}, "cancellation_reasons"),
    ({"cancellation_reasons": [""]}, "cancellation_reasons"),
    ({"cancellation_reasons": ["   "]}, "cancellation_reasons"),
    ({"cancellation_reasons": ["x" * 101]}, "cancellation_reasons"),
    ({"cancellation_reasons": [f"r{i}" for i in range(11)]}, "cancellation_reasons"),
    ({"cancellation_reasons": [7]}, "cancellation_reasons"),
    ({"cancellation_mode": "sometimes"}, "cancellation_mode"),
    ({"subscription_proration_behavior": "always"}, "subscription_proration_behavior"),
    ({"subscription_charge_timing": "later"}, "subscription_charge_timing"),
    ({"subscription_product_ids": ["foreign_product"]}, "subscription_product_ids"),
    ({"subscription_product_ids": ["product", "foreign_product"]}, "subscription_product_ids"),
    ({"subscription_product_ids": ["no-such-product"]}, "subscription_product_ids"),
    ({"subscription_product_ids": ["product", "product"]}, "subscription_product_ids"),
    ({"retention_coupon_id": "foreign_coupon"}, "retention_coupon_id"),
    ({"retention_coupon_id": "deleted_coupon"}, "retention_coupon_id"),
    ({"retention_coupon_id": "expired_coupon"}, "retention_coupon_id"),
    ({"retention_coupon_id": "no-such-coupon"}, "retention_coupon_id"),
    ({"custom_domain_id": "unverified_domain"}, "custom_domain_id"),
    ({"custom_domain_id": "foreign_domain"}, "custom_domain_id"),
    ({"custom_domain_id": "no-such-domain"}, "custom_domain_id"),
    ({"portal_header": "x" * 121}, "portal_header"),
    ({"portal_header": "Line one\nLine two"}, "portal_header"),
    ({"portal_header": "Hi\x1b[31m"}, "portal_header"),
    ({"portal_header": "abc\u202egpj.exe"}, "portal_header"),
    ({"portal_header": "\u2066isolate\u2069"}, "portal_header"),
    ({"bogus_field": True}, "bogus_field"),
]
BAD_URLS = [
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "//evil.example/path",
    "/relative/path",
    "evil.example",
    "ftp://acme.example/",
    "https://",
    "https://user@evil.example/",
    "https://user:pw@acme.example/",
    "https://acme.example@evil.example/",
    "https://acme.example/a b",
    " https://acme.example/",
    "https://acme.example/\n",
    "https://acme.example/\t",
    "https:\\\\evil.example",
    "https://acme.example\\@evil.example/",
    "https://acme.example/" + "a" * 2028,
]


def test_a_2048_character_url_is_accepted(merchant):
    url = "https://acme.example/" + "a" * 2027
    assert len(url) == 2048
    assert merchant.ok("PATCH", PATH, {"return_url": url})["return_url"] == url


@pytest.mark.parametrize(
    ("patch", "field"), REFUSED + [({"return_url": url}, "return_url") for url in BAD_URLS]
)
def test_rules_refuse_and_nothing_is_saved(merchant, refs, patch, field):
    original = merchant.ok("GET", PATH)
    rows = config_rows()
    body = {"allow_plan_switch": True, **{k: resolved(v, refs) for k, v in patch.items()}}
    response = merchant.patch(PATH, body)
    error = assert_error_envelope(response, 422, "VALIDATION_ERROR")
    named = error["details"]["fields"]
    assert any(key == field or key.startswith(field + ".") for key in named), error
    assert config_rows() == rows
    assert merchant.ok("GET", PATH) == original


def test_nul_in_the_header_is_refused(merchant):
    original = merchant.ok("GET", PATH)
    response = merchant.patch(PATH, {"portal_header": "Hello\x00"})
    assert response.status_code in (400, 422)
    assert_error_envelope(response)
    assert merchant.ok("GET", PATH) == original


@pytest.fixture
def production(app):
    names = ("PORTAL_DATABASE_URL", "SECRET_KEY", "RATELIMIT_STORAGE_URI")
    prod = create_app(
        {
            **{name: app.config[name] for name in names},
            "PORTAL_ENV": "production",
            "PORTAL_BASE_URL": "https://portal.example",
        }
    )
    return Merchant(prod.test_client(), "Prod Co")


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("https://acme.example/account", 200),
        ("http://acme.example/account", 422),
        ("http://localhost:8000/", 422),
    ],
)
def test_production_requires_https(production, url, status):
    response = production.patch(PATH, {"return_url": url})
    assert response.status_code == status
    if status == 422:
        assert "return_url" in assert_error_envelope(response)["details"]["fields"]


def test_each_company_has_its_own_config(merchant, other_merchant, refs):
    merchant.ok("PATCH", PATH, {"allow_plan_switch": True, "retention_coupon_id": refs["coupon"]})
    theirs = other_merchant.ok("GET", PATH)
    assert theirs["company_id"] == other_merchant.id
    assert {k: theirs[k] for k in DEFAULTS} == DEFAULTS
    # Company B cannot point at company A's coupon either.
    response = other_merchant.patch(PATH, {"retention_coupon_id": refs["coupon"]})
    assert_error_envelope(response, 422, "VALIDATION_ERROR")
    assert len(config_rows(merchant.id)) == 1
    assert config_rows(other_merchant.id) == []  # reads and refused writes store nothing
