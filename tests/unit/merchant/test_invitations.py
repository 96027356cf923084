"""Inviting a user: the owner sends a one-time link by email; the invitee sets a password
through it, once, before it expires; other users cannot invite."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from browsing import csrf_of

from portal.models import ApiKey, MerchantInvite, MerchantSession, MerchantUser, OutboxMessage

from .kit import MerchantUser as Browser
from .kit import post_sign_in, sid

START = datetime(2030, 5, 6, 9, 0, 0, tzinfo=UTC)
INVITEE = "sam@acmecloud.example"
PASSWORD = "a long enough passphrase"
_LINK = re.compile(r"https?://[^\s\"'<>]+/merchant/invite/[^\s\"'<>]+")


def invite(owner, email=INVITEE):
    return owner.post("/merchant/team/invite", {"email": email})


def invitation_link(email=INVITEE) -> str:
    message = (
        OutboxMessage.select()
        .where(OutboxMessage.to_address == email)
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id)
        .first()
    )
    links = set(_LINK.findall(message.text_body + message.html_body))
    assert len(links) == 1, links
    return links.pop()


def path_of(link: str) -> str:
    return "/" + link.split("/", 3)[3]


def accept(client, link, password=PASSWORD, confirm=None):
    page = client.get(path_of(link))
    assert page.status_code == 200, page.get_data(as_text=True)
    data = {"csrf_token": csrf_of(page), "password": password, "confirm": confirm or password}
    return client.post(path_of(link), data=data)


def test_the_owner_invites_by_email_and_the_link_comes_from_configuration(client, owner):
    response = invite(owner)
    assert response.status_code == 303
    link = invitation_link()
    assert link.startswith("http://portal.test/merchant/invite/")
    message = OutboxMessage.get(OutboxMessage.to_address == INVITEE)
    assert "Acme Cloud" in message.subject and "48 hours" in message.text_body
    assert INVITEE in client.get("/merchant/team").get_data(as_text=True)


def test_the_invitee_sets_a_password_and_is_signed_in_as_a_member(app, owner):
    invite(owner)
    browser = app.test_client()
    response = accept(browser, invitation_link())
    assert response.status_code == 303 and response.location.endswith("/merchant/settings")
    user = MerchantUser.get(MerchantUser.email == INVITEE)
    assert user.role == "member" and user.company_id == owner.merchant.id
    assert user.password_hash.startswith("$argon2id$") and sid(browser)
    fresh = app.test_client()
    assert post_sign_in(fresh, INVITEE, PASSWORD).status_code == 303


def test_opening_the_link_uses_nothing_up(app, owner):
    invite(owner)
    link = invitation_link()
    for _ in range(3):
        assert app.test_client().get(path_of(link)).status_code == 200
    assert MerchantInvite.get().used_at is None


def test_an_invitation_link_works_once(app, owner):
    invite(owner)
    link = invitation_link()
    assert accept(app.test_client(), link).status_code == 303
    second = app.test_client()
    assert second.get(path_of(link)).status_code == 404
    assert MerchantUser.select().where(MerchantUser.email == INVITEE).count() == 1


def test_a_form_opened_before_the_link_was_used_cannot_use_it_again(app, owner):
    invite(owner)
    link = invitation_link()
    slow = app.test_client()
    page = slow.get(path_of(link))
    assert accept(app.test_client(), link).status_code == 303
    data = {
        "csrf_token": csrf_of(page),
        "password": "another passphrase",
        "confirm": "another passphrase",
    }
    assert slow.post(path_of(link), data=data).status_code == 404
    assert sid(slow) is None


def test_an_invitation_expires_after_48_hours(app, client, merchant):
    with time_machine.travel(START, tick=False) as clock:
        owner = Browser(client, merchant)
        invite(owner)
        link = invitation_link()
        clock.shift(timedelta(hours=47, minutes=59))
        assert app.test_client().get(path_of(link)).status_code == 200
        clock.shift(timedelta(minutes=2))
        late = app.test_client()
        assert late.get(path_of(link)).status_code == 404
        assert MerchantUser.select().where(MerchantUser.email == INVITEE).count() == 0


def test_a_new_invitation_replaces_the_unused_one(app, client, merchant):
    with time_machine.travel(START, tick=True):
        owner = Browser(client, merchant)
        invite(owner)
        first = invitation_link()
        invite(owner)
        second = invitation_link()
    assert first != second
    assert app.test_client().get(path_of(first)).status_code == 404
    assert accept(app.test_client(), second).status_code == 303


@pytest.mark.parametrize(
    ("password", "confirm", "message"),
    [
        ("short", None, "Use at least 10 characters."),
        ("password123", None, "This password is too common"),
        ("a long enough passphrase", "a different passphrase", "The two passwords differ."),
    ],
)
def test_weak_or_mismatched_passwords_are_refused_and_keep_the_link(
    app, owner, password, confirm, message
):
    invite(owner)
    link = invitation_link()
    response = accept(app.test_client(), link, password, confirm)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert MerchantInvite.get().used_at is None
    assert accept(app.test_client(), link).status_code == 303


@pytest.mark.parametrize("email", ["owner@acmecloud.example", "owner@globex.example"])
def test_addresses_that_already_have_an_account_cannot_be_invited(owner, other_merchant, email):
    response = invite(owner, email)
    assert response.status_code == 422
    assert "already has a merchant account" in response.get_data(as_text=True)
    assert MerchantInvite.select().count() == 0


def test_members_cannot_invite(app, owner):
    invite(owner)
    member_browser = app.test_client()
    accept(member_browser, invitation_link())
    token = csrf_of(member_browser.get("/merchant/settings"))
    response = member_browser.post(
        "/merchant/team/invite", data={"csrf_token": token, "email": "eve@example.com"}
    )
    assert response.status_code == 403
    assert MerchantInvite.select().where(MerchantInvite.email == "eve@example.com").count() == 0


def test_the_owner_can_withdraw_an_unused_invitation(app, owner):
    invite(owner)
    link = invitation_link()
    row = MerchantInvite.get()
    assert owner.post(f"/merchant/team/invites/{row.id}/revoke").status_code == 303
    assert app.test_client().get(path_of(link)).status_code == 404
    assert owner.post(f"/merchant/team/invites/{row.id}/revoke").status_code == 404


def member_of(app, owner):
    invite(owner)
    browser = app.test_client()
    accept(browser, invitation_link())
    return browser, MerchantUser.get(MerchantUser.email == INVITEE)


def test_the_owner_removes_a_member_and_ends_their_sessions(app, owner):
    browser, user = member_of(app, owner)
    assert browser.get("/merchant/settings").status_code == 200
    team = owner.get("/merchant/team").get_data(as_text=True)
    assert f"/merchant/team/members/{user.id}/remove" in team
    response = owner.post(f"/merchant/team/members/{user.id}/remove")
    assert response.status_code == 303
    assert "removed and signed out everywhere" in owner.get("/merchant/team").get_data(as_text=True)
    assert MerchantUser.get_or_none(MerchantUser.id == user.id) is None
    assert MerchantSession.select().where(MerchantSession.user == user.id).count() == 0
    assert browser.get("/merchant/settings").status_code in (302, 303)
    assert post_sign_in(app.test_client(), INVITEE, PASSWORD).status_code != 303
    assert owner.post(f"/merchant/team/members/{user.id}/remove").status_code == 404


def test_the_owner_cannot_be_removed_and_members_cannot_remove(app, owner, other_owner):
    browser, _ = member_of(app, owner)
    owner_row = MerchantUser.get(
        MerchantUser.role == "owner", MerchantUser.company == owner.merchant.id
    )
    assert owner.post(f"/merchant/team/members/{owner_row.id}/remove").status_code == 303
    assert MerchantUser.get_or_none(MerchantUser.id == owner_row.id) is not None
    token = csrf_of(browser.get("/merchant/settings"))
    refused = browser.post(
        f"/merchant/team/members/{owner_row.id}/remove", data={"csrf_token": token}
    )
    assert refused.status_code == 403
    other_row = MerchantUser.get(MerchantUser.company == other_owner.merchant.id)
    assert owner.post(f"/merchant/team/members/{other_row.id}/remove").status_code == 404
    assert MerchantUser.get_or_none(MerchantUser.id == other_row.id) is not None


def test_only_the_owner_creates_secret_keys(app, owner):
    browser, _ = member_of(app, owner)
    page = browser.get("/merchant/keys")
    assert 'value="secret"' not in page.get_data(as_text=True)
    token = csrf_of(page)
    secrets_before = ApiKey.select().where(ApiKey.key_type == "secret").count()
    refused = browser.post(
        "/merchant/keys", data={"csrf_token": token, "key_type": "secret", "mode": "test"}
    )
    assert refused.status_code == 422
    assert ApiKey.select().where(ApiKey.key_type == "secret").count() == secrets_before
    made = browser.post(
        "/merchant/keys", data={"csrf_token": token, "key_type": "publishable", "mode": "test"}
    )
    assert made.status_code == 200 and "pk_test_" in made.get_data(as_text=True)
