"""The benchmark dataset: one company with 10,000 customers, 30,000 subscriptions and 300,000
invoices (with lines), plus one heavy customer with 1,000 invoices and 20 payment methods.

Rows are written with bulk ``insert_many`` in batches inside one transaction per phase, so the
full size builds in a few minutes on SQLite and PostgreSQL. Values are consistent with what
the billing core would have written: valid foreign keys, each invoice's subtotal is the sum
of its lines and its total is subtotal minus discount.

    python -m benchmarks.dataset --database-url sqlite:////tmp/portal-bench/bench.db
"""

import argparse
import random
import secrets
import time
from dataclasses import asdict, dataclass
from datetime import timedelta

from portal.access.merchants import create_merchant
from portal.billing.periods import boundary
from portal.cli.commands import init_schema
from portal.db import bind, db, is_sqlite
from portal.models import (
    MODELS,
    Company,
    Customer,
    Discount,
    Invoice,
    InvoiceLine,
    PaymentMethod,
    PortalConfig,
    Subscription,
    SubscriptionItem,
    utcnow,
)
from portal.portal_settings.config import DEFAULTS

from .rows import Writer, catalog, customer_row, invoice_rows, method_row, stamp

COMPANY_NAME = "Bench Hosting"
OWNER_EMAIL = "owner@bench.example"
HEAVY_EMAIL = "heavy@bench.example"
# What the load test exercises: plan switches, quantity changes, both kinds of methods.
PORTAL_SETTINGS = {
    **DEFAULTS,
    "allow_plan_switch": True,
    "allow_quantity_updates": True,
    "accepted_payment_methods": ["card", "bank_account"],
}


@dataclass(frozen=True)
class Size:
    customers: int = 10_000
    subs_per_customer: int = 3
    invoices_per_sub: int = 10
    heavy_invoices: int = 1_000
    heavy_methods: int = 20
    due_soon: float = 0.0  # share of subscriptions whose period ends during a load test
    due_window: int = 60  # seconds over which those renewals are spread


class Builder:
    def __init__(self, company, size: Size, rng: random.Random):
        self.company, self.size, self.rng = company, size, rng
        self.writer = Writer()
        self.now = utcnow()
        self.plans, self.coupon = catalog(company, self.now)
        self.next_number = 1

    def number(self) -> str:
        value, self.next_number = self.next_number, self.next_number + 1
        return f"{self.company.invoice_prefix}-{value:06d}"

    def customer(self, index: int, email: str, methods: int) -> tuple[str, list[str]]:
        at = self.now - timedelta(days=420, minutes=index)
        row = stamp(customer_row(self.company.id, index, email), at)
        self.writer.add(Customer, row)
        method_ids = []
        for k in range(methods):
            method = stamp(method_row(self.company.id, row["id"], k, self.rng), at)
            self.writer.add(PaymentMethod, method)
            method_ids.append(method["id"])
        return row["id"], method_ids

    def subscription(self, customer_id: str, method_id: str, periods: int) -> None:
        """A monthly subscription whose ``periods`` invoices are its whole history."""
        rng, size = self.rng, self.size
        price = rng.choice(self.plans)
        quantity = rng.choice((1, 1, 1, 2, 3, 5))
        anchor = boundary(self.now, "month", 1, -(periods - 1)) - timedelta(
            days=rng.randint(1, 27), seconds=rng.randint(0, 86_399)
        )
        end = boundary(anchor, "month", 1, periods)
        status = rng.choices(("active", "past_due", "canceled"), (92, 3, 5))[0]
        due = status == "active" and rng.random() < size.due_soon
        if due:  # renews while the load test runs
            end = self.now + timedelta(seconds=rng.uniform(3, max(size.due_window, 4)))
        discounted = rng.random() < 0.1
        sub = stamp(
            {
                "company": self.company.id,
                "customer": customer_id,
                "payment_method": method_id,
                "status": status,
                "currency": "USD",
                "current_period_start": boundary(anchor, "month", 1, periods - 1),
                "current_period_end": end,
                "billing_cycle_anchor": end if due else anchor,
                "canceled_at": self.now - timedelta(days=3) if status == "canceled" else None,
                "ended_at": self.now - timedelta(days=3) if status == "canceled" else None,
                "version": 1,
            },
            anchor,
        )
        self.writer.add(Subscription, sub)
        self.writer.add(
            SubscriptionItem,
            stamp(
                {
                    "company": self.company.id,
                    "subscription": sub["id"],
                    "price": price.id,
                    "quantity": quantity,
                },
                anchor,
            ),
        )
        if discounted:
            self.writer.add(
                Discount,
                stamp(
                    {
                        "company": self.company.id,
                        "subscription": sub["id"],
                        "coupon": self.coupon.id,
                        "start": anchor,
                    },
                    anchor,
                ),
            )
        for k in range(periods):
            start = boundary(anchor, "month", 1, k)
            last = k == periods - 1
            self.invoice(
                customer_id,
                method_id,
                sub["id"],
                (price, quantity, start, boundary(anchor, "month", 1, k + 1)),
                discounted,
                "OPEN" if last and status == "past_due" else "PAID",
            )

    def invoice(self, customer_id, method_id, sub_id, period, discounted, status) -> None:
        invoice, lines = invoice_rows(
            self.company.id, customer_id, method_id, sub_id, period, discounted, status, self.rng
        )
        invoice["number"] = self.number()
        self.writer.add(Invoice, invoice)
        for line in lines:
            self.writer.add(InvoiceLine, line)

    def usage_invoice(self, customer_id, method_id, index: int) -> None:
        """A one-off usage invoice of the heavy customer, one every ~day going back."""
        start = self.now - timedelta(days=index + 1, hours=self.rng.randint(0, 20))
        usage = (self.plans[0], self.rng.randint(1, 40), start, start + timedelta(days=1))
        self.invoice(customer_id, method_id, None, usage, False, "PAID")


def build(url: str, size: Size, seed: int = 7) -> dict:
    """Create the company and every row; returns what the benchmark needs to know."""
    started = time.monotonic()
    bind(url)
    init_schema()
    rng = random.Random(seed)
    with db.connection_context():
        company, _, _ = create_merchant(COMPANY_NAME, OWNER_EMAIL, secrets.token_urlsafe(24))
        PortalConfig.create(company=company, settings=dict(PORTAL_SETTINGS))
        builder = Builder(company, size, rng)
        with db.atomic():
            for index in range(size.customers):
                email = f"customer{index:05d}@bench.example"
                customer_id, methods = builder.customer(index, email, 1)
                for _ in range(size.subs_per_customer):
                    builder.subscription(customer_id, methods[0], size.invoices_per_sub)
                if index % 1000 == 999:
                    builder.writer.flush()
            heavy_id, methods = builder.customer(size.customers, HEAVY_EMAIL, size.heavy_methods)
            for _ in range(3):
                builder.subscription(heavy_id, methods[0], 24)
            for index in range(max(size.heavy_invoices - 72, 0)):
                builder.usage_invoice(heavy_id, methods[index % len(methods)], index)
            builder.writer.flush()
            Company.update(next_invoice_number=builder.next_number).where(
                Company.id == company.id
            ).execute()
        if not is_sqlite():
            db.execute_sql("ANALYZE")
    counts = builder.writer.counts
    return {**describe(), "rows": counts, "seconds": round(time.monotonic() - started, 1)}


def describe() -> dict:
    """Ids of an existing bench dataset (call with the database bound and connected)."""
    company = Company.get(Company.name == COMPANY_NAME)
    heavy = Customer.get((Customer.company == company) & (Customer.email == HEAVY_EMAIL))
    sample = (
        Customer.select(Customer.email)
        .where((Customer.company == company) & (Customer.email != HEAVY_EMAIL))
        .order_by(Customer.email)
        .limit(1000)
    )
    newest = (
        Invoice.select(Invoice.id)
        .where(Invoice.customer == heavy)
        .order_by(Invoice.created_at.desc())
        .first()
    )
    return {
        "company_id": company.id,
        "heavy_customer_id": heavy.id,
        "heavy_invoices": Invoice.select().where(Invoice.customer == heavy).count(),
        "heavy_invoice_id": newest.id,
        "emails": [row.email for row in sample],
    }


def exists(url: str) -> bool:
    bind(url)
    init_schema()
    with db.connection_context():
        return Company.select().where(Company.name == COMPANY_NAME).exists()


def wipe(url: str) -> None:
    """Empty every table so a fresh dataset can be built; refuses foreign data."""
    bind(url)
    init_schema()
    with db.connection_context():
        others = Company.select().where(Company.name != COMPANY_NAME).count()
        if others:
            raise SystemExit(f"refusing to wipe {url}: it holds {others} other companies")
        if is_sqlite():
            with db.atomic():
                for model in reversed(MODELS):
                    model.delete().execute()
        else:
            tables = ", ".join(f'"{m._meta.table_name}"' for m in MODELS)
            db.execute_sql(f"TRUNCATE {tables} CASCADE")


def counts() -> dict[str, int]:
    """Row counts of the tables the benchmark is about (database bound and connected)."""
    models = (Customer, Subscription, Invoice, InvoiceLine, PaymentMethod)
    return {model.__name__: model.select().count() for model in models}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    for field, default in asdict(Size()).items():
        parser.add_argument(f"--{field.replace('_', '-')}", type=type(default), default=default)
    args = parser.parse_args(argv)
    size = Size(**{k: getattr(args, k) for k in asdict(Size())})
    info = build(args.database_url, size)
    print(f"built in {info['seconds']} s: {info['rows']}")


if __name__ == "__main__":
    main()
