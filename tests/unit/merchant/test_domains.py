"""Custom domains: add a hostname, show the TXT record, verify it through the resolver (a fake
one here), choose it as the portal domain, refuse removing it while in use; a hostname belongs
to one account."""

from datetime import UTC, timedelta

import pytest
import time_machine

from portal.errors import ValidationFailed
from portal.models import CustomDomain, utcnow
from portal.portal_settings.domains import normalize_hostname

from .kit import FakeResolver
from .kit import MerchantUser as Browser

HOST = "billing.acme-cloud.com"
CONFIG = "/customer-portal-config"


@pytest.fixture
def resolver(app):
    fake = FakeResolver()
    app.config["PORTAL_TXT_RESOLVER"] = fake
    return fake


def add(owner, hostname=HOST):
    return owner.post("/merchant/domains", {"hostname": hostname})


def publish(resolver, domain: CustomDomain, value=None):
    name = f"_portal-verify.{domain.hostname}"
    resolver.records[name] = [value or f"portal-verify={domain.verification_token}"]


def test_adding_a_domain_shows_the_txt_record_to_create(owner, merchant):
    assert add(owner, "  Billing.ACME-cloud.com. ").status_code == 303
    domain = CustomDomain.get()
    assert domain.hostname == HOST and not domain.verified and domain.company_id == merchant.id
    assert len(domain.verification_token) >= 32
    html = owner.get("/merchant/domains").get_data(as_text=True)
    assert f"_portal-verify.{HOST}" in html
    assert f"portal-verify={domain.verification_token}" in html
    assert "Waiting for verification" in html


@pytest.mark.parametrize(
    "hostname",
    [
        "https://billing.acme.com/",
        "billing",
        "-bad.acme.com",
        "bad_.acme.com",
        "a" * 64 + ".com",
        "192.168.1.1",
        "portal.test",
        "billing.acme.com:8443",
        "user@billing.acme.com",
        "*.acme.com",
    ],
)
def test_malformed_or_reserved_hostnames_are_refused(owner, hostname):
    response = add(owner, hostname)
    assert response.status_code == 422 and 'class="error"' in response.get_data(as_text=True)
    assert CustomDomain.select().count() == 0


def test_reserved_names_only_outside_production():
    with pytest.raises(ValidationFailed):
        normalize_hostname("billing.acme.localhost", "portal.example.com")
    assert normalize_hostname("billing.acme.localhost", "x.example", True) == (
        "billing.acme.localhost"
    )
    assert normalize_hostname("bücher.example.com", "x") == "xn--bcher-kva.example.com"


def test_verify_with_the_record_in_place(owner, resolver):
    add(owner)
    domain = CustomDomain.get()
    publish(resolver, domain)
    response = owner.post(f"/merchant/domains/{domain.id}/verify")
    assert response.status_code == 303
    assert CustomDomain.get_by_id(domain.id).verified
    assert resolver.asked == [f"_portal-verify.{HOST}"]


@pytest.mark.parametrize("value", [None, "portal-verify=someone-elses-token"])
def test_verify_without_the_right_record_says_so_and_changes_nothing(owner, resolver, value):
    add(owner)
    domain = CustomDomain.get()
    if value:
        publish(resolver, domain, value)
    response = owner.post(f"/merchant/domains/{domain.id}/verify")
    assert response.status_code == 422
    assert "No TXT record" in response.get_data(as_text=True)
    assert not CustomDomain.get_by_id(domain.id).verified


def test_a_dns_outage_is_reported_as_such(owner, resolver):
    add(owner)
    resolver.unavailable = True
    domain = CustomDomain.get()
    response = owner.post(f"/merchant/domains/{domain.id}/verify")
    assert response.status_code == 503 and "DNS lookup is unavailable" in response.get_data(
        as_text=True
    )
    assert not CustomDomain.get_by_id(domain.id).verified


def test_a_verified_domain_becomes_the_portal_domain(client, owner, merchant, resolver):
    add(owner)
    domain = CustomDomain.get()
    publish(resolver, domain)
    owner.post(f"/merchant/domains/{domain.id}/verify")
    assert owner.post(f"/merchant/domains/{domain.id}/use").status_code == 303
    assert merchant.ok("GET", CONFIG)["custom_domain_id"] == domain.id
    assert client.get("/", base_url=f"http://{HOST}").status_code == 200  # its sign-in page
    assert f'value="http://{HOST}/"' in owner.get("/merchant/settings").get_data(as_text=True)
    assert owner.post("/merchant/domains/none/use").status_code == 303
    assert merchant.ok("GET", CONFIG)["custom_domain_id"] is None


def test_an_unverified_domain_cannot_serve_or_be_chosen(client, owner, merchant):
    add(owner)
    domain = CustomDomain.get()
    assert client.get("/", base_url=f"http://{HOST}").status_code == 421
    response = owner.post(f"/merchant/domains/{domain.id}/use")
    assert response.status_code == 422
    assert merchant.ok("GET", CONFIG)["custom_domain_id"] is None


def test_removing_the_domain_in_use_is_refused(owner, merchant, resolver):
    add(owner)
    domain = CustomDomain.get()
    publish(resolver, domain)
    owner.post(f"/merchant/domains/{domain.id}/verify")
    owner.post(f"/merchant/domains/{domain.id}/use")
    response = owner.post(f"/merchant/domains/{domain.id}/remove")
    assert response.status_code == 409
    assert "Choose another portal domain" in response.get_data(as_text=True)
    assert CustomDomain.select().count() == 1
    owner.post("/merchant/domains/none/use")
    assert owner.post(f"/merchant/domains/{domain.id}/remove").status_code == 303
    assert CustomDomain.select().count() == 0


def test_a_removed_domain_needs_a_fresh_proof_when_added_again(owner, resolver):
    add(owner)
    first = CustomDomain.get()
    publish(resolver, first)
    owner.post(f"/merchant/domains/{first.id}/verify")
    owner.post(f"/merchant/domains/{first.id}/remove")
    add(owner)
    second = CustomDomain.get()
    assert not second.verified and second.verification_token != first.verification_token


def test_a_hostname_belongs_to_one_account(owner, other_owner):
    add(owner)
    response = add(other_owner)
    assert response.status_code == 409
    assert "already used by another account" in response.get_data(as_text=True)
    assert [d.company_id for d in CustomDomain.select()] == [owner.merchant.id]
    again = add(owner)
    assert again.status_code == 422 and "already added" in again.get_data(as_text=True)


def later(days: int):
    return time_machine.travel((utcnow() + timedelta(days=days)).replace(tzinfo=UTC))


def test_a_stale_unverified_claim_does_not_block_the_real_owner(app, owner, other_merchant):
    add(owner)
    with later(6):
        assert add(Browser(app.test_client(), other_merchant)).status_code == 409
    with later(8):
        assert add(Browser(app.test_client(), other_merchant)).status_code == 303
    assert [d.company_id for d in CustomDomain.select()] == [other_merchant.id]


def test_a_verified_claim_never_goes_stale(app, owner, other_merchant, resolver):
    add(owner)
    domain = CustomDomain.get()
    publish(resolver, domain)
    owner.post(f"/merchant/domains/{domain.id}/verify")
    with later(400):
        assert add(Browser(app.test_client(), other_merchant)).status_code == 409
