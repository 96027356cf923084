"""POST /subscriptions/:id/pause and /resume: through the test client and through the
official `easylabs` client against a live server. Time stands at JAN1 (``clock``): the
subscription's first period ends on Feb 1."""

import easylabs
import pytest
from builders import customer_with_card, make_price, subscribe
from support import count_rows

from portal.api.schemas import Subscription as SubscriptionShape
from portal.billing.runner import run_billing
from portal.db import db
from portal.models import Invoice, Subscription, WebhookEvent

from .test_easylabs_client import api_url  # noqa: F401  (the live server fixture)

MAR1 = "2026-03-01T00:00:00.000Z"


@pytest.fixture
def sub(merchant, clock):
    customer = customer_with_card(merchant)
    return subscribe(merchant, customer["id"], make_price(merchant)["id"])


def pause(merchant, sub_id, **body):
    return merchant.post(f"/subscriptions/{sub_id}/pause", body)


def stored(sub_id) -> Subscription:
    with db.connection_context():
        return Subscription.get_by_id(sub_id)


@pytest.mark.parametrize("behavior", ["void", "keep_as_draft", "mark_uncollectible"])
def test_pause_with_each_behavior_shows_on_get_and_resume_ends_it(merchant, sub, behavior):
    response = pause(merchant, sub["id"], behavior=behavior, resumes_at="2026-03-01T00:00:00Z")
    assert response.status_code == 200, response.get_json()
    paused = response.get_json()["data"]
    SubscriptionShape.model_validate(paused)
    assert paused["status"] == "paused" and paused["version"] == sub["version"] + 1
    assert paused["pause_collection"] == {"behavior": behavior, "resumes_at": MAR1}
    assert merchant.ok("GET", f"/subscriptions/{sub['id']}") == paused
    resumed = merchant.ok("POST", f"/subscriptions/{sub['id']}/resume")
    assert (resumed["status"], resumed["pause_collection"]) == ("active", None)


def test_a_pause_without_a_date_lasts_until_resumed(merchant, sub):
    paused = pause(merchant, sub["id"], behavior="void").get_json()["data"]
    assert paused["pause_collection"] == {"behavior": "void", "resumes_at": None}
    assert sub["pause_collection"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"behavior": "skip"}, "behavior"),
        ({}, "behavior"),
        ({"behavior": "void", "until": MAR1}, "until"),
        ({"behavior": "void", "resumes_at": "2025-12-31T00:00:00Z"}, "resumes_at"),
        ({"behavior": "void", "resumes_at": "2026-01-01T00:00:00Z"}, "resumes_at"),
        ({"behavior": "void", "resumes_at": "soon"}, "resumes_at"),
    ],
)
def test_bad_input_is_a_422_and_changes_nothing(merchant, sub, body, field):
    response = pause(merchant, sub["id"], **body)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["details"]["fields"]
    assert merchant.ok("GET", f"/subscriptions/{sub['id']}") == sub


def test_an_ended_subscription_cannot_be_paused(merchant, sub):
    ended = merchant.ok("DELETE", f"/subscriptions/{sub['id']}")
    response = pause(merchant, sub["id"], behavior="void")
    error = response.get_json()["error"]
    assert (response.status_code, error["code"]) == (409, "CONFLICT") and "ended" in error[
        "message"
    ]
    assert merchant.ok("GET", f"/subscriptions/{sub['id']}") == ended


def test_a_dunning_paused_subscription_is_refused_with_the_way_out(merchant, sub):
    with db.connection_context():
        Subscription.update(status="paused").where(Subscription.id == sub["id"]).execute()
    for path, body in (("pause", {"behavior": "void"}), ("resume", None)):
        response = merchant.post(f"/subscriptions/{sub['id']}/{path}", body)
        assert response.status_code == 409, response.get_json()
        assert "collect its open invoice" in response.get_json()["error"]["message"]
    assert stored(sub["id"]).version == sub["version"]


def test_resume_on_an_active_subscription_still_only_undoes_a_cancellation(merchant, sub):
    refused = merchant.post(f"/subscriptions/{sub['id']}/resume")
    assert refused.status_code == 409 and "not scheduled" in refused.get_json()["error"]["message"]
    merchant.ok("DELETE", f"/subscriptions/{sub['id']}?at_period_end=true")
    pause(merchant, sub["id"], behavior="void")
    first = merchant.ok("POST", f"/subscriptions/{sub['id']}/resume")  # the pause first
    assert (first["status"], first["cancel_at_period_end"]) == ("active", True)
    second = merchant.ok("POST", f"/subscriptions/{sub['id']}/resume")
    assert second["cancel_at_period_end"] is False


def test_another_companys_subscription_is_not_found(merchant, other_merchant, sub):
    for path, body in (("pause", {"behavior": "void"}), ("resume", None)):
        response = other_merchant.post(f"/subscriptions/{sub['id']}/{path}", body)
        assert (response.status_code, response.get_json()["error"]["code"]) == (404, "NOT_FOUND")
    assert merchant.ok("GET", f"/subscriptions/{sub['id']}") == sub


def test_an_idempotency_key_replays_the_pause_once(merchant, sub):
    headers = {"Idempotency-Key": "pause-1"}
    body = {"behavior": "void", "resumes_at": MAR1}
    first = merchant.post(f"/subscriptions/{sub['id']}/pause", body, headers=headers)
    again = merchant.post(f"/subscriptions/{sub['id']}/pause", body, headers=headers)
    assert (again.status_code, again.get_json()) == (first.status_code, first.get_json())
    assert stored(sub["id"]).version == sub["version"] + 1
    other = merchant.post(
        f"/subscriptions/{sub['id']}/pause", {"behavior": "keep_as_draft"}, headers=headers
    )
    assert other.get_json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_run_billing_skips_the_paused_renewal_and_resumes_on_the_date(merchant, sub, clock):
    pause(merchant, sub["id"], behavior="void", resumes_at=MAR1)
    for day in ("2026-02-01", "2026-03-01"):
        clock.move_to(f"{day}T00:00:00Z")
        with db.connection_context():
            assert run_billing().errors == []
    after = merchant.ok("GET", f"/subscriptions/{sub['id']}")
    assert (after["status"], after["pause_collection"]) == ("active", None)
    with db.connection_context():
        periods = [
            i.period_start.month for i in Invoice.select().where(Invoice.subscription == sub["id"])
        ]
    assert sorted(periods) == [1, 3]


# ---- the official client --------------------------------------------------------------


@pytest.fixture
def easy(api_url, merchant):  # noqa: F811
    client = easylabs.Client(api_key=merchant.secret, internal_api_url=api_url)
    yield client
    client._http._client.close()


def test_the_easylabs_client_pauses_and_resumes(easy, merchant, sub, app):
    app.config["PORTAL_WEBHOOKS_IMMEDIATE"] = False
    merchant.ok("POST", "/webhooks", {"url": "https://hooks.example/in"})
    paused = easy.subscriptions.pause(
        sub["id"], behavior="mark_uncollectible", resumes_at="2026-03-01T00:00:00Z"
    )
    assert paused.status == "paused"
    assert paused.pause_collection == {"behavior": "mark_uncollectible", "resumes_at": MAR1}
    assert easy.subscriptions.retrieve(sub["id"]).pause_collection == paused.pause_collection
    resumed = easy.subscriptions.resume(sub["id"])
    assert (resumed.status, resumed.pause_collection) == ("active", None)
    with db.connection_context():
        kinds = [e.type for e in WebhookEvent.select().order_by(WebhookEvent.id)]
        assert kinds[-2:] == ["subscription.paused", "subscription.resumed"]
    assert count_rows(Invoice) == 1


def test_the_easylabs_client_sees_a_refusal(easy, sub):
    with pytest.raises(easylabs.error.InvalidRequestError):
        easy.subscriptions.pause(sub["id"], behavior="void", resumes_at="2025-06-01T00:00:00Z")
    assert easy.subscriptions.retrieve(sub["id"]).status == "active"
