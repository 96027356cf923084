"""The flask commands an operator runs: init-db, create-merchant and seed-demo."""

import re
from datetime import datetime

import pytest
from playhouse.migrate import SchemaMigrator, migrate

from portal.billing.invoices import LineSpec, create_invoice, display_status
from portal.cli.demo import seed_demo
from portal.cli.demo_data import OWNER_EMAIL, PEOPLE
from portal.db import db
from portal.models import (
    MODELS,
    ApiKey,
    Company,
    Coupon,
    Customer,
    Discount,
    Invoice,
    MerchantUser,
    PaymentMethod,
    Price,
    Product,
    Subscription,
)
from portal.portal_settings.config import get_config, settings_of


def run(app, *args):
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result.output


def printed(output: str, label: str) -> str:
    match = re.search(rf"^{label}:\s+(\S+)", output, re.MULTILINE)
    assert match, f"{label!r} not in output:\n{output}"
    return match.group(1)


def key_info(client, key):
    response = client.get("/v1/api/validate-key", headers={"x-easy-api-key": key})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["data"]


def test_init_db_can_run_again_without_losing_data(app, merchant):
    assert "up to date" in run(app, "init-db")
    assert "up to date" in run(app, "init-db")
    with db.connection_context():
        tables = set(db.get_tables())
        assert {model._meta.table_name for model in MODELS} <= tables
        assert Company.get_by_id(merchant.id).name == "Acme Cloud"


def test_init_db_upgrades_an_older_schema_and_snapshots_old_invoices(app, client, merchant):
    """A database from before invoices kept their parties: init-db adds the columns and
    gives each old invoice its parties as they are at the upgrade."""
    customer = merchant.ok("POST", "/customer", {"first_name": "Old", "last_name": "Timer"})
    with db.connection_context(), db.atomic():
        row = Customer.get_by_id(customer["id"])
        line = LineSpec("Plan", 1, 900, 900)
        invoice_id = create_invoice(
            company=row.company, customer=row, currency="USD", lines=[line]
        ).id
    with db.connection_context():
        migrator = SchemaMigrator.from_database(db)
        migrate(migrator.drop_column("invoice", "seller"), migrator.drop_column("invoice", "buyer"))
        assert "buyer" not in {c.name for c in db.get_columns("invoice")}
    run(app, "init-db")
    with db.connection_context():
        assert {"seller", "buyer"} <= {c.name for c in db.get_columns("invoice")}
        invoice = Invoice.get_by_id(invoice_id)
        assert invoice.buyer["name"] == "Old Timer" and invoice.seller["name"] == "Acme Cloud"


def test_create_merchant_prints_keys_that_authenticate(app, client):
    output = run(
        app,
        "create-merchant",
        "--name",
        "Initech",
        "--owner-email",
        "Bill@Initech.example",
        "--password",
        "a long enough password",
    )
    company_id = printed(output, "company_id")
    secret, publishable = printed(output, "secret key"), printed(output, "publishable key")
    for key, key_type in ((secret, "secret"), (publishable, "publishable")):
        info = key_info(client, key)
        assert (info["company_id"], info["key_type"]) == (company_id, key_type)
    with db.connection_context():
        assert MerchantUser.get(MerchantUser.email == "bill@initech.example").company_id == (
            company_id
        )


def demo_counts(company_id: str) -> dict:
    def count(model):
        return model.select().where(model.company == company_id).count()

    return {model.__name__: count(model) for model in MODELS if "company" in model._meta.fields}


@pytest.fixture
def seeded(app, client):
    output = run(app, "seed-demo")
    return output, printed(output, "company_id")


def test_seed_demo_prints_what_a_developer_needs(app, client, seeded):
    output, company_id = seeded
    assert key_info(client, printed(output, "secret key"))["company_id"] == company_id
    assert key_info(client, printed(output, "publishable key"))["key_type"] == "publishable"
    assert printed(output, "API base URL") == "http://portal.test/v1/api"
    assert OWNER_EMAIL in output
    assert PEOPLE[0].email in output
    assert "Portal sign-in and merchant settings links are printed below" in output


def test_seed_demo_builds_a_believable_company(seeded):
    company_id = seeded[1]
    with db.connection_context():
        assert Company.get_by_id(company_id).name == "Northwind Studio"
        assert Product.select().where(Product.company == company_id).count() == 3
        intervals = sorted(p.interval for p in Price.select().where(Price.company == company_id))
        assert intervals == ["month"] * 3 + ["year"] * 3
        coupon = Coupon.get(Coupon.company == company_id)
        assert (coupon.percent_off, coupon.duration, coupon.duration_in_months) == (
            20,
            "repeating",
            3,
        )
        customers = list(Customer.select().where(Customer.company == company_id))
        assert len(customers) == 12
        assert all(c.tags == {"demo": True} and c.email and c.city for c in customers)
        methods = PaymentMethod.select().where(PaymentMethod.company == company_id)
        assert {m.brand for m in methods} >= {"VISA", "MASTERCARD", "AMERICAN_EXPRESS"}
        assert [m.type for m in methods].count("BANK_ACCOUNT") == 1
        assert Discount.select().where(Discount.company == company_id).exists()


def test_seed_demo_covers_every_state_the_portal_shows(seeded):
    company_id = seeded[1]
    with db.connection_context():
        subs = list(Subscription.select().where(Subscription.company == company_id))
        assert {s.status for s in subs} >= {"active", "past_due", "canceled"}
        assert any(s.cancel_at_period_end and s.status == "active" for s in subs)
        invoices = list(Invoice.select().where(Invoice.company == company_id))
        assert {display_status(i) for i in invoices} >= {"PAID", "OPEN", "PAST_DUE"}
        paid = sorted((i for i in invoices if i.status == "PAID"), key=lambda i: i.created_at)
        months = {(i.created_at.year, i.created_at.month) for i in paid}
        assert len(months) >= 4, "a few months of history"
        # Numbers follow dates, as they would have if the invoices were really issued then.
        by_date = sorted(invoices, key=lambda i: i.created_at)
        assert [i.number for i in by_date] == sorted(i.number for i in invoices)


def test_seed_demo_again_reuses_the_company_with_fresh_keys(app, client, seeded):
    first_output, company_id = seeded
    with db.connection_context():
        before = demo_counts(company_id)
    second_output = run(app, "seed-demo")
    assert printed(second_output, "company_id") == company_id
    new_secret = printed(second_output, "secret key")
    assert new_secret != printed(first_output, "secret key")
    assert key_info(client, new_secret)["company_id"] == company_id
    with db.connection_context():
        after = demo_counts(company_id)
        assert Company.select().where(Company.name == "Northwind Studio").count() == 1
    assert after == {**before, "ApiKey": before["ApiKey"] + 2}


def demo_portal_settings(company_id: str) -> dict:
    with db.connection_context():
        return settings_of(get_config(Company.get_by_id(company_id)))


def test_seed_demo_turns_on_the_portal_features_it_shows(client, seeded):
    output, company_id = seeded
    settings = demo_portal_settings(company_id)
    assert settings["allow_plan_switch"] is True
    assert settings["allow_quantity_updates"] is True
    assert settings["accepted_payment_methods"] == ["card", "bank_account"]
    assert settings["cancellation_reasons_enabled"] is True
    with db.connection_context():
        coupon = Coupon.get(Coupon.company == company_id)
    assert settings["retention_coupon_id"] == coupon.id
    # Stored as the config rules store it: the API reads back the same settings.
    response = client.get(
        "/v1/api/customer-portal-config",
        headers={"x-easy-api-key": printed(output, "secret key")},
    )
    assert response.status_code == 200, response.get_json()
    shown = response.get_json()["data"]
    assert {name: shown[name] for name in settings} == settings
    assert shown["version"] == 2  # the defaults, then the demo's one change


def test_seed_demo_again_keeps_the_portal_settings_the_merchant_changed(app, client, seeded):
    output, company_id = seeded
    response = client.patch(
        "/v1/api/customer-portal-config",
        json={"allow_plan_switch": False, "retention_coupon_id": None},
        headers={"x-easy-api-key": printed(output, "secret key")},
    )
    assert response.status_code == 200, response.get_json()
    before = demo_portal_settings(company_id)
    assert before["allow_plan_switch"] is False and before["retention_coupon_id"] is None
    assert printed(run(app, "seed-demo"), "company_id") == company_id
    after = demo_portal_settings(company_id)
    assert after == before
    assert after["allow_quantity_updates"] is True  # the demo's other settings stay on too


def test_seed_demo_refuses_to_run_in_production(app):
    app.config["PORTAL_ENV"] = "production"
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code != 0
    assert "production" in result.output
    with db.connection_context():
        assert not Company.select().exists()
        assert not ApiKey.select().exists()


@pytest.mark.parametrize(
    "now",
    [
        datetime(2025, 3, 1, 0, 30),  # right after a short month
        datetime(2024, 2, 29, 12, 0),  # leap day
        datetime(2025, 1, 31, 23, 59),  # month end
    ],
)
def test_seed_demo_history_holds_on_awkward_dates(app, now):
    with db.connection_context():
        company = seed_demo(now=now).company
        subs = list(Subscription.select().where(Subscription.company == company))
        assert {s.status for s in subs} == {"active", "past_due", "canceled"}
        assert [s.cancel_at_period_end for s in subs].count(True) == 1
        invoices = Invoice.select().where(Invoice.company == company)
        assert max(i.created_at for i in invoices) <= now
        assert all(
            s.current_period_start <= now < s.current_period_end
            for s in subs
            if s.status != "canceled"
        )
