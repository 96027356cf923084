"""The official `easylabs` client works against a real server running this app."""

import threading

import easylabs
import pytest
from easylabs.error import AuthenticationError, InvalidRequestError, NotFoundError
from werkzeug.serving import make_server


@pytest.fixture
def api_url(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/v1/api"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


@pytest.fixture
def easy(api_url, merchant):
    client = easylabs.Client(api_key=merchant.secret, internal_api_url=api_url)
    yield client
    client._http._client.close()


def test_client_refuses_a_bad_key(api_url):
    with pytest.raises(AuthenticationError):
        easylabs.Client(api_key="sk_test_not-a-real-key", internal_api_url=api_url)


def test_validate_key_on_construction(easy):
    assert easy.basis_theory_public_api_key == ""


def build(easy) -> dict:
    made = {}
    made["customer"] = customer = easy.customers.create(
        first_name="Ada", last_name="Lovelace", email="ada@example.com"
    )
    made["product"] = easy.products.create(name="Pro plan")
    made["price"] = price = easy.product_prices.create(
        product_id=made["product"].id,
        currency="USD",
        unit_amount=1500,
        recurring=True,
        interval="month",
        interval_count=1,
    )
    made["card"] = card = easy.payment_instruments.create(
        type="PAYMENT_CARD", name="Ada's Visa", identity_id=customer.id, token_id="tok_visa"
    )
    made["coupon"] = easy.coupons.create(name="Quarter off", duration="forever", percent_off=25)
    made["subscription"] = easy.subscriptions.create(
        identity_id=customer.id,
        instrument_id=card.id,
        coupon_id=made["coupon"].id,
        items=[{"price_id": price.id, "quantity": 1}],
    )
    return made


def test_full_journey(easy):
    made = build(easy)
    customer, product, price = made["customer"], made["product"], made["price"]
    card, coupon, subscription = made["card"], made["coupon"], made["subscription"]
    assert (card.brand, card.last_four) == ("VISA", "4242")
    assert subscription.status == "active"
    assert subscription.identity_id == customer.id
    assert [item.price_id for item in subscription.items] == [price.id]
    assert easy.customers.retrieve(customer.id).email == "ada@example.com"
    assert [c.id for c in easy.customers.list()] == [customer.id]
    assert easy.products.retrieve(product.id).price_ids == [price.id]
    assert [p.id for p in easy.products.list()] == [product.id]
    assert easy.product_prices.retrieve(price.id).unit_amount == 1500
    assert [p.id for p in easy.product_prices.list(ids=[price.id])] == [price.id]
    assert easy.coupons.retrieve(coupon.id).percent_off == 25
    assert [c.id for c in easy.coupons.list()] == [coupon.id]
    assert [i.id for i in easy.customers.payment_instruments(customer.id)] == [card.id]
    assert easy.subscriptions.retrieve(subscription.id).status == "active"
    assert [s.id for s in easy.subscriptions.list()] == [subscription.id]
    page = easy.customers.subscriptions(customer.id)
    assert page["total"] == 1 and [s.id for s in page["data"]] == [subscription.id]
    invoice = easy.invoices.retrieve(subscription.latest_invoice_id)
    assert (invoice.status, invoice.total) == ("PAID", 1125)

    canceled = easy.subscriptions.cancel(subscription.id, at_period_end=True)
    assert canceled.cancel_at_period_end is True
    assert canceled.status == "active"
    assert easy.subscriptions.retrieve(subscription.id).cancel_at_period_end is True


def test_errors_map_to_the_clients_exceptions(easy):
    with pytest.raises(NotFoundError) as missing:
        easy.customers.retrieve("no-such-customer")
    assert (missing.value.status, missing.value.code) == (404, "NOT_FOUND")
    with pytest.raises(InvalidRequestError) as invalid:
        easy.customers.create(first_name="", last_name="Lovelace")
    assert invalid.value.code == "VALIDATION_ERROR"
    assert "first_name" in invalid.value.details["fields"]


def test_idempotency_key_through_the_client(easy):
    first = easy.products.create(name="Pro plan", idempotency_key="prod-1")
    again = easy.products.create(name="Pro plan", idempotency_key="prod-1")
    assert again.id == first.id
    assert len(easy.products.list()) == 1
