"""API keys (list, create shown once, revoke → 401) and the activity list (newest first,
filtered by customer and action, 20 to a page, a fixed number of queries)."""

import re
from datetime import timedelta

import pytest
from builders import make_customer
from support import count_queries

from portal.models import ApiKey, PortalEvent, utcnow
from portal.security import sha256_hex

_NEW_KEY = re.compile(r'id="new-key"[^>]*value="([^"]+)"')


def create_key(owner, key_type="secret", mode="test"):
    response = owner.post("/merchant/keys", {"key_type": key_type, "mode": mode})
    assert response.status_code == 200
    return _NEW_KEY.search(response.get_data(as_text=True)).group(1), response


@pytest.mark.parametrize(
    ("key_type", "mode", "prefix"),
    [
        ("secret", "test", "sk_test_"),
        ("publishable", "test", "pk_test_"),
        ("secret", "live", "sk_live_"),
    ],
)
def test_a_new_key_is_shown_once_and_stored_hashed(owner, key_type, mode, prefix):
    plaintext, response = create_key(owner, key_type, mode)
    assert plaintext.startswith(prefix) and len(plaintext) > 30
    assert response.headers["Cache-Control"] == "no-store"
    row = ApiKey.get(ApiKey.key_hash == sha256_hex(plaintext))
    assert row.last_four == plaintext[-4:] and row.livemode == (mode == "live")
    listing = owner.get("/merchant/keys").get_data(as_text=True)
    assert plaintext not in listing and f"{prefix}…{plaintext[-4:]}" in listing


def test_the_list_shows_type_prefix_last_four_created_and_last_use(owner, merchant):
    merchant.ok("GET", "/customer")  # uses the secret key: last used is now set
    html = owner.get("/merchant/keys").get_data(as_text=True)
    secret = ApiKey.get((ApiKey.company == merchant.id) & (ApiKey.key_type == "secret"))
    assert (
        f"sk_test_…{merchant.secret[-4:]}" in html
        and f"pk_test_…{merchant.publishable[-4:]}" in html
    )
    assert secret.last_used_at is not None and html.count("Never") == 1
    assert "Secret · test" in html and "Publishable · test" in html


def test_a_created_key_works_and_a_revoked_key_gets_401(owner, merchant):
    plaintext, _ = create_key(owner)
    assert merchant.get("/customer", key=plaintext).status_code == 200
    row = ApiKey.get(ApiKey.key_hash == sha256_hex(plaintext))
    assert owner.post(f"/merchant/keys/{row.id}/revoke").status_code == 303
    response = merchant.get("/customer", key=plaintext)
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "INVALID_API_KEY"
    assert merchant.get("/customer").status_code == 200  # the other keys still work
    assert "Revoked" in owner.get("/merchant/keys").get_data(as_text=True)


# --- activity ------------------------------------------------------------------------------


def event(merchant, action, customer_id=None, minutes_ago=0, **details):
    return PortalEvent.create(
        company=merchant.id,
        customer=customer_id,
        action=action,
        details=details or None,
        created_at=utcnow() - timedelta(minutes=minutes_ago),
    )


@pytest.fixture
def people(merchant):
    jo = make_customer(merchant, "Jo", "Doe", email="jo@example.com")
    al = make_customer(merchant, "Al", "Roe", email="al@example.com")
    return jo["id"], al["id"]


def rows(html):
    return re.findall(r'<td data-label="Action"><code>([^<]+)</code></td>', html)


def test_events_are_listed_newest_first_with_their_customer(owner, merchant, people):
    jo, al = people
    event(merchant, "auth.link_issued", jo, minutes_ago=3)
    event(merchant, "subscription.canceled", al, minutes_ago=1, reason="Too expensive")
    event(merchant, "payment_method.added", jo, minutes_ago=2)
    html = owner.get("/merchant/activity").get_data(as_text=True)
    assert rows(html) == ["subscription.canceled", "payment_method.added", "auth.link_issued"]
    assert "al@example.com" in html and "reason: Too expensive" in html


def test_events_filter_by_customer_email_or_id_and_by_action(owner, merchant, people):
    jo, al = people
    event(merchant, "auth.link_issued", jo, minutes_ago=3)
    event(merchant, "auth.link_issued", al, minutes_ago=2)
    event(merchant, "payment_method.added", jo, minutes_ago=1)
    by_email = owner.get("/merchant/activity?customer=JO@example.com").get_data(as_text=True)
    assert rows(by_email) == ["payment_method.added", "auth.link_issued"]
    by_id = owner.get(f"/merchant/activity?customer={al}").get_data(as_text=True)
    assert rows(by_id) == ["auth.link_issued"]
    both = owner.get(f"/merchant/activity?customer={jo}&action=auth.link_issued").get_data(
        as_text=True
    )
    assert rows(both) == ["auth.link_issued"]
    assert '<option value="payment_method.added">' in both


def test_events_are_paginated_twenty_to_a_page(owner, merchant):
    for i in range(45):
        event(merchant, f"test.event_{i:02d}", minutes_ago=i)
    first = owner.get("/merchant/activity").get_data(as_text=True)
    assert len(rows(first)) == 20 and rows(first)[0] == "test.event_00"
    assert "Page 1 of 3" in first and 'rel="next"' in first
    last = owner.get("/merchant/activity?page=3").get_data(as_text=True)
    assert rows(last) == [
        "test.event_40",
        "test.event_41",
        "test.event_42",
        "test.event_43",
        "test.event_44",
    ]
    for page in ("0", "-1", "abc", "99999999999", "²", "٣"):  # '²' used to be a 500
        html = owner.get(f"/merchant/activity?page={page}").get_data(as_text=True)
        assert "Page 1 of 3" in html


def test_the_activity_page_costs_the_same_queries_however_many_events(owner, merchant, people):
    jo, _ = people
    event(merchant, "auth.link_issued", jo)
    with count_queries() as few:
        owner.get("/merchant/activity")
    for i in range(30):
        event(merchant, f"x.{i % 4}", jo if i % 2 else None, minutes_ago=i)
    with count_queries() as many:
        owner.get("/merchant/activity")
    assert len(many) == len(few)
