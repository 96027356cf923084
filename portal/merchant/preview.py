"""The live preview: the portal as a made-up demo customer sees it with the current settings.

The preview customer is an in-memory object, never a database row, so nothing a merchant
looks at here can touch a real customer. Its plans come from the merchant's own catalogue
when there is one (three queries at most), else from a fixed sample.
"""

from dataclasses import dataclass
from datetime import timedelta

from portal.billing.coupons import describe, is_valid
from portal.billing.money import format_money
from portal.db import write_transaction
from portal.models import Coupon, Customer, PreviewCustomer, Price, Product, utcnow
from portal.portal_settings.branding import logo_version

DEMO_TAGS = {"demo": True, "preview": True}


@dataclass(frozen=True)
class DemoPlan:
    name: str
    amount: int
    currency: str
    interval: str

    @property
    def price_text(self) -> str:
        return f"{format_money(self.amount, self.currency)} / {self.interval}"


@dataclass(frozen=True)
class DemoCustomer:
    first_name: str = "Demo"
    last_name: str = "Customer"
    email: str = "demo.customer@example.com"
    city: str = "Springfield"
    country: str = "US"


KIND_LABELS = {"card": "cards", "bank_account": "bank accounts"}
SAMPLE_PLANS = (
    DemoPlan("Pro plan", 2900, "USD", "month"),
    DemoPlan("Business plan", 7900, "USD", "month"),
)


def sample_plans(company, settings: dict) -> list[DemoPlan]:
    """Up to three recurring prices of the products customers may change, else the sample."""
    query = (
        Price.select(Price, Product)
        .join(Product)
        .where(
            (Price.company == company)
            & (Price.active == True)  # noqa: E712
            & (Product.active == True)  # noqa: E712
            & (Price.type == "recurring")
        )
        .order_by(Price.unit_amount, Price.id)
        .limit(3)
    )
    if settings["subscription_product_ids"]:
        query = query.where(Product.id.in_(settings["subscription_product_ids"]))
    plans = [DemoPlan(p.product.name, p.unit_amount, p.currency, p.interval) for p in query]
    return plans or list(SAMPLE_PLANS)


def retention_offer(company, settings: dict, currency: str) -> str | None:
    coupon_id = settings["retention_coupon_id"]
    if not coupon_id:
        return None
    coupon = Coupon.get_or_none((Coupon.id == coupon_id) & (Coupon.company == company))
    return describe(coupon, currency) if coupon and is_valid(coupon) else None


def preview_context(company, settings: dict) -> dict:
    """What merchant/_preview.html needs: the demo customer, a plan, and the words of each flow."""
    plans = sample_plans(company, settings)
    now = utcnow()
    return {
        "p": settings,
        "demo": DemoCustomer(),
        "plan": plans[0],
        "other_plans": plans[1:],
        "renews_on": now + timedelta(days=18),
        "retention": retention_offer(company, settings, plans[0].currency),
        "kinds": " and ".join(KIND_LABELS.get(k, k) for k in settings["accepted_payment_methods"]),
        "logo_version": logo_version(company.id),
    }


def preview_customer(company) -> Customer:
    """The company's demo customer row behind "send me a test link" (created on first use)."""
    with write_transaction():
        row = PreviewCustomer.get_or_none(PreviewCustomer.company == company)
        if row is not None:
            return Customer.get_by_id(row.customer_id)
        customer = Customer.create(
            company=company, first_name="Demo", last_name="Customer (preview)", tags=DEMO_TAGS
        )
        PreviewCustomer.create(company=company, customer=customer)
        return customer
