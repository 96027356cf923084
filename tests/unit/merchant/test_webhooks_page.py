"""The webhooks page: add, edit, disable, enable and delete endpoints with plain form posts,
the signing secret shown once (after creating or rolling it), test events and resends in the
recent deliveries, the domain's validation next to its field with nothing saved, and no
other company's endpoints or deliveries."""

import re

import pytest
from support import count_queries

from portal.db import db, write_transaction
from portal.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from portal.webhooks import endpoints as hooks

from .kit import form_state

PAGE = "/merchant/webhooks"
URL = "https://hooks.example.com/billing"
SECRET = re.compile(r'id="new-secret" type="text" readonly value="([^"]+)"')


@pytest.fixture(autouse=True)
def _no_immediate_delivery(app):
    app.config["PORTAL_WEBHOOKS_IMMEDIATE"] = False


def html_of(owner, path=PAGE) -> str:
    response = owner.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def add(owner, url=URL, events=(), description=""):
    return owner.post(PAGE, {"url": url, "description": description, "events": list(events)})


def only_endpoint(merchant) -> WebhookEndpoint:
    (endpoint,) = WebhookEndpoint.select().where(WebhookEndpoint.company == merchant.id)
    return endpoint


def secret_in(html: str) -> str | None:
    found = SECRET.search(html)
    return found.group(1) if found else None


def make_endpoint(app, merchant, url=URL, **fields):
    with app.app_context(), db.connection_context(), write_transaction():
        endpoint, _secret = hooks.create_endpoint(merchant.company, url=url, **fields)
    return endpoint


def make_deliveries(app, endpoint, count=1) -> list[WebhookDelivery]:
    """``count`` test deliveries, each already delivered (so none holds back another)."""
    made = []
    with app.app_context(), db.connection_context(), write_transaction():
        for _ in range(count):
            made.append(hooks.send_test(endpoint))
            made[-1].status = "succeeded"
            made[-1].save()
    return made


def test_the_page_is_in_the_nav_and_labels_every_control(owner):
    html = html_of(owner)
    assert f'href="{PAGE}" aria-current="page">Webhooks</a>' in html
    assert "No endpoints yet." in html and "No deliveries yet." in html
    assert '<label for="wh-new-url">Endpoint URL</label>' in html
    assert '<label for="wh-new-description">Description (optional)</label>' in html
    assert "<legend>Events to send</legend>" in html
    assert 'name="events" value="*" checked' in html  # a new endpoint gets all events
    assert 'value="invoice.paid"> <code>invoice.paid</code>' in html


def test_adding_an_endpoint_shows_its_secret_once(owner, merchant):
    response = add(owner, events=["invoice.paid", "invoice.created"], description="Books")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    endpoint = only_endpoint(merchant)
    assert (endpoint.url, endpoint.description) == (URL, "Books")
    assert endpoint.events == ["invoice.created", "invoice.paid"]
    assert endpoint.status == "enabled"
    secret = secret_in(html)
    assert secret and "shown only this once" in html
    assert html.count(secret) == 1
    assert secret not in endpoint.secret_sealed
    later = html_of(owner)
    assert secret_in(later) is None and secret not in later
    assert "<code>invoice.created</code>, <code>invoice.paid</code>" in later


def test_all_events_is_shown_and_kept_when_nothing_or_all_is_ticked(owner, merchant):
    add(owner, events=["*", "invoice.paid"])
    assert only_endpoint(merchant).events == ["*"]
    assert ">All events</td>" in html_of(owner)


@pytest.mark.parametrize(
    ("url", "field"), [("ftp://x", "url"), ("https://user:pw@example.com/", "url")]
)
def test_a_refused_url_is_shown_next_to_the_field_and_nothing_is_saved(owner, url, field):
    response = add(owner, url=url, description="Kept")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Nothing was saved" in html
    assert re.search(r'id="wh-new-url-error">[^<]+</p>', html)
    assert 'aria-invalid="true"' in html and f'value="{url}"' in html and 'value="Kept"' in html
    assert secret_in(html) is None
    assert WebhookEndpoint.select().count() == 0


def test_the_ftp_message_is_the_domains(owner):
    html = add(owner, url="ftp://x").get_data(as_text=True)
    assert '<p class="error" id="wh-new-url-error">Use an https:// URL.</p>' in html


def test_an_unknown_event_type_is_refused(owner):
    response = add(owner, events=["invoice.exploded"])
    assert response.status_code == 422
    assert "Unknown event types: invoice.exploded." in response.get_data(as_text=True)
    assert WebhookEndpoint.select().count() == 0


def test_editing_changes_url_description_and_events(app, owner, merchant):
    endpoint = make_endpoint(app, merchant)
    action = f"{PAGE}/{endpoint.id}"
    state = form_state(html_of(owner), action=action)
    assert state["url"] == URL and state.getlist("events") == ["*"]
    state.setlist("url", ["https://new.example.com/hook"])
    state.setlist("description", ["Accounting"])
    state.setlist("events", ["subscription.created"])
    response = owner.client.post(action, data=state, follow_redirects=True)
    assert "The endpoint https://new.example.com/hook is saved." in response.get_data(as_text=True)
    endpoint = WebhookEndpoint.get_by_id(endpoint.id)
    assert endpoint.url == "https://new.example.com/hook"
    assert (endpoint.description, endpoint.events) == ("Accounting", ["subscription.created"])


def test_a_refused_edit_shows_the_message_in_that_form_and_saves_nothing(app, owner, merchant):
    endpoint = make_endpoint(app, merchant, description="Before")
    response = owner.post(f"{PAGE}/{endpoint.id}", {"url": "ftp://x", "description": "After"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="wh-{endpoint.id}-url-error">Use an https:// URL.</p>' in html
    assert "<details open>" in html
    stored = WebhookEndpoint.get_by_id(endpoint.id)
    assert (stored.url, stored.description, stored.events) == (URL, "Before", ["*"])


def test_disable_and_enable(app, owner, merchant):
    endpoint = make_endpoint(app, merchant)
    path = f"{PAGE}/{endpoint.id}/status"
    response = owner.post(path, {"status": "disabled"}, follow_redirects=True)
    assert "is disabled" in response.get_data(as_text=True)
    assert WebhookEndpoint.get_by_id(endpoint.id).status == "disabled"
    assert ">Enable<" in response.get_data(as_text=True)
    owner.post(path, {"status": "enabled"})
    assert WebhookEndpoint.get_by_id(endpoint.id).status == "enabled"


def test_delete_takes_the_deliveries_with_it(app, owner, merchant):
    endpoint = make_endpoint(app, merchant)
    make_deliveries(app, endpoint)
    response = owner.post(f"{PAGE}/{endpoint.id}/delete")
    assert response.status_code == 303
    assert WebhookEndpoint.select().count() == 0
    assert WebhookDelivery.select().count() == 0
    assert "No endpoints yet." in html_of(owner)


def test_rolling_the_secret_shows_the_new_one_once(app, owner, merchant):
    with app.app_context(), db.connection_context(), write_transaction():
        endpoint, old = hooks.create_endpoint(merchant.company, url=URL)
    response = owner.post(f"{PAGE}/{endpoint.id}/roll")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    new = secret_in(html)
    assert new and new != old and html.count(new) == 1
    assert "The old secret no longer signs anything." in html
    assert WebhookEndpoint.get_by_id(endpoint.id).secret_sealed != endpoint.secret_sealed
    assert new not in html_of(owner)


def test_a_test_event_shows_in_the_recent_deliveries(app, owner, merchant):
    endpoint = make_endpoint(app, merchant)
    response = owner.post(f"{PAGE}/{endpoint.id}/test", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert f"A test.webhook event is on its way to {URL}." in html
    (delivery,) = WebhookDelivery.select()
    assert (delivery.endpoint_id, delivery.event_type) == (endpoint.id, "test.webhook")
    assert (delivery.status, delivery.attempts) == ("pending", 0)
    assert f"/merchant/webhooks/deliveries/{delivery.id}/resend" in html


def test_resend_queues_the_same_event_again(app, owner, merchant):
    endpoint = make_endpoint(app, merchant)
    (first,) = make_deliveries(app, endpoint)
    response = owner.post(f"{PAGE}/deliveries/{first.id}/resend", follow_redirects=True)
    assert f"The test.webhook event is queued again for {URL}." in response.get_data(as_text=True)
    again = WebhookDelivery.get(WebhookDelivery.id != first.id)
    assert (again.event_id, again.endpoint_id) == (first.event_id, endpoint.id)
    assert WebhookEvent.select().count() == 1
    # A second click while that copy is still on its way queues nothing more.
    response = owner.post(f"{PAGE}/deliveries/{first.id}/resend")
    assert response.status_code == 409
    assert "still being delivered to this endpoint" in response.get_data(as_text=True)
    assert WebhookDelivery.select().count() == 2


def test_recent_deliveries_are_the_last_20_newest_first(app, owner, merchant):
    endpoint = make_endpoint(app, merchant)
    made = make_deliveries(app, endpoint, 22)
    html = html_of(owner)
    shown = re.findall(r"/merchant/webhooks/deliveries/([^/]+)/resend", html)
    newest = sorted(made, key=lambda d: (d.created_at, d.id), reverse=True)[:20]
    assert shown == [d.id for d in newest]
    for header in ("Event", "Endpoint", "Status", "Response code", "Attempts", "When (UTC)"):
        assert f'<th scope="col">{header}</th>' in html


def test_the_page_query_count_does_not_grow_with_deliveries(app, owner, merchant):
    endpoint = make_endpoint(app, merchant)
    make_deliveries(app, endpoint)
    html_of(owner)
    with count_queries() as one:
        html_of(owner)
    make_deliveries(app, endpoint, 29)
    make_endpoint(app, merchant, url="https://second.example.com/hook")
    with count_queries() as thirty:
        html_of(owner)
    assert len(thirty) == len(one)


# --- another company's endpoints and deliveries ----------------------------------------------


@pytest.fixture
def foreign(app, other_merchant):
    endpoint = make_endpoint(app, other_merchant, url="https://globex.example.com/hook")
    (delivery,) = make_deliveries(app, endpoint)
    return endpoint, delivery


def foreign_state():
    endpoints = [(e.id, e.url, e.status, e.events, e.secret_sealed) for e in WebhookEndpoint]
    deliveries = [(d.id, d.event_id) for d in WebhookDelivery.select().order_by(WebhookDelivery.id)]
    return endpoints, deliveries


@pytest.mark.parametrize(
    "template",
    [
        "/merchant/webhooks/{endpoint}",
        "/merchant/webhooks/{endpoint}/status",
        "/merchant/webhooks/{endpoint}/delete",
        "/merchant/webhooks/{endpoint}/roll",
        "/merchant/webhooks/{endpoint}/test",
        "/merchant/webhooks/deliveries/{delivery}/resend",
    ],
)
def test_another_companys_ids_are_not_found_and_unchanged(owner, foreign, template):
    endpoint, delivery = foreign
    before = foreign_state()
    path = template.format(endpoint=endpoint.id, delivery=delivery.id)
    data = {"url": URL, "status": "disabled"}
    assert owner.post(path, data).status_code == 404
    assert foreign_state() == before


def test_the_page_never_shows_another_companys_webhooks(owner, foreign):
    html = html_of(owner)
    assert "globex.example.com" not in html and foreign[1].id not in html
    assert "No endpoints yet." in html and "No deliveries yet." in html


def test_unknown_and_overlong_ids_are_not_found(owner):
    assert owner.post(f"{PAGE}/nope/roll").status_code == 404
    assert owner.post(f"{PAGE}/{'x' * 200}/test").status_code == 404
    assert owner.post(f"{PAGE}/deliveries/nope/resend").status_code == 404
