"""The merchant's return_url, as the source document has it: the way back to the merchant's
site after signing out and after a finished action, and in the session JSON clients get."""

import re

from browsing import PORTAL_API, csrf_token, page, text_of
from builders import bearer, handoff, patch_config

BACK = "https://acme.example/account"


def test_the_signed_out_page_offers_the_way_back(client, merchant, signed_in):
    patch_config(merchant, return_url=BACK)
    token = csrf_token(page(client, "/portal"))
    response = client.post("/portal/sign-out", data={"csrf_token": token}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "You are signed out." in html
    assert f'<a href="{BACK}">Return to Acme Cloud</a>' in html


def test_without_a_return_url_the_signed_out_page_has_no_link(client, merchant, signed_in):
    token = csrf_token(page(client, "/portal"))
    html = client.post("/portal/sign-out", data={"csrf_token": token}, follow_redirects=True)
    assert "Return to" not in html.get_data(as_text=True)


def test_a_finished_action_says_done_with_the_way_back(client, merchant, signed_in):
    patch_config(merchant, return_url=BACK)
    sub = signed_in.paid_sub["id"]
    confirm = page(client, f"/portal/subscriptions/{sub}/cancel/confirm")
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', confirm))
    done = client.post(f"/portal/subscriptions/{sub}/cancel", data=fields, follow_redirects=True)
    html = done.get_data(as_text=True)
    assert f'<a href="{BACK}">Done — back to Acme Cloud</a>' in html
    assert "stays active until" in text_of(html)


def test_a_refusal_is_an_alert_without_the_done_link(client, merchant, signed_in):
    patch_config(merchant, return_url=BACK)
    sub = signed_in.paid_sub["id"]
    token = csrf_token(page(client, "/portal"))
    # Keeping a subscription that is not scheduled to end is refused with a sentence.
    data = {"csrf_token": token, "form_nonce": "keep-once"}
    html = client.post(f"/portal/subscriptions/{sub}/keep", data=data, follow_redirects=True)
    html = html.get_data(as_text=True)
    assert '<p class="alert">This subscription is not scheduled to cancel.</p>' in html
    assert "Done — back to" not in html


def test_json_clients_get_the_return_url_with_the_session(client, merchant, account):
    patch_config(merchant, return_url=BACK)
    code = handoff(merchant, account.id)["code"]
    session = merchant.ok("POST", f"{PORTAL_API}/access/handoff/exchange", {"code": code})
    assert session["return_url"] == BACK
    me = client.get(f"/v1/api{PORTAL_API}/me", headers=bearer(merchant, account.id))
    assert me.get_json()["data"]["return_url"] == BACK
