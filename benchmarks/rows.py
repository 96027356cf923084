"""Row dictionaries for the benchmark dataset (plain values, ready for ``insert_many``)."""

import random
import secrets
from datetime import timedelta

from portal.models import MODELS, Coupon, Price, Product, new_id

FIRST_NAMES = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Linus")
LAST_NAMES = ("Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Cerf")
CITIES = (
    ("Portland", "OR", "97201"),
    ("Austin", "TX", "73301"),
    ("Denver", "CO", "80202"),
    ("Boston", "MA", "02108"),
    ("Chicago", "IL", "60601"),
)
BATCH = 500
PLANS = (("Starter", 1500), ("Team", 4900), ("Business", 9900), ("Enterprise", 19900))
BRANDS = (("VISA", "4242"), ("MASTERCARD", "4444"), ("AMERICAN_EXPRESS", "0005"))


def customer_row(company_id: str, index: int, email: str) -> dict:
    city, region, postal = CITIES[index % len(CITIES)]
    return {
        "company": company_id,
        "first_name": FIRST_NAMES[index % len(FIRST_NAMES)],
        "last_name": LAST_NAMES[(index * 7) % len(LAST_NAMES)],
        "email": email,
        "phone": f"+1 555 {index % 1000:03d} {index % 10000:04d}",
        "address_line1": f"{index % 900 + 1} Market Street",
        "address_line2": None,
        "city": city,
        "region": region,
        "postal_code": postal,
        "country": "US",
        "tax_id": None,
        "tags": None,
        "version": 1,
    }


def method_row(company_id: str, customer_id: str, k: int, rng: random.Random) -> dict:
    """A sandbox card whose gateway ref charges successfully (``tgw_ok_``)."""
    brand, last_four = BRANDS[k % len(BRANDS)]
    return {
        "company": company_id,
        "customer": customer_id,
        "type": "PAYMENT_CARD",
        "gateway_ref": f"tgw_ok_{secrets.token_hex(8)}",
        "name": "Card on file",
        "brand": brand,
        "last_four": last_four,
        "expiration_month": rng.randint(1, 12),
        "expiration_year": 2030 + k % 4,
        "bank_name": None,
        "account_type": None,
        "masked_account_number": None,
        "fingerprint": secrets.token_hex(8),
        "enabled": True,
        "is_default": k == 0,
    }


def _line(company_id, invoice_id, at, description, quantity, unit, price_id, period) -> dict:
    return {
        "id": new_id(),
        "company": company_id,
        "invoice": invoice_id,
        "description": description,
        "quantity": quantity,
        "unit_amount": unit,
        "amount": quantity * unit,
        "proration": False,
        "period_start": period[0],
        "period_end": period[1],
        "price": price_id,
        "created_at": at,
        "updated_at": at,
    }


def invoice_rows(company_id, customer_id, method_id, sub_id, period, discounted, status, rng):
    """One invoice and its lines; subtotal = Σ lines, total = subtotal − 20 % discount."""
    price, quantity, start, end = period
    at = start + timedelta(seconds=rng.randint(0, 59))
    invoice_id = new_id()
    lines = [
        _line(
            company_id,
            invoice_id,
            at,
            f"Hosting plan × {quantity} ({start:%b %-d} – {end:%b %-d, %Y})",
            quantity,
            price.unit_amount,
            price.id,
            (start, end),
        )
    ]
    if rng.random() < 0.2:
        extra = rng.randint(1, 40) * 25
        lines.append(
            _line(
                company_id,
                invoice_id,
                at + timedelta(microseconds=1),
                "Additional bandwidth",
                1,
                extra,
                None,
                (start, end),
            )
        )
    subtotal = sum(line["amount"] for line in lines)
    discount = (subtotal * 20 + 50) // 100 if discounted else 0
    total = subtotal - discount
    paid = status == "PAID"
    invoice = {
        "id": invoice_id,
        "company": company_id,
        "customer": customer_id,
        "subscription": sub_id,
        "payment_method": method_id,
        "status": status,
        "payment_failed": not paid,
        "currency": "USD",
        "subtotal": subtotal,
        "discount_amount": discount,
        "credit_applied": 0,
        "total": total,
        "amount_due": total,
        "amount_paid": total if paid else 0,
        "due_date": None,
        "period_start": start,
        "period_end": end,
        "paid_at": at + timedelta(minutes=5) if paid else None,
        "version": 1,
        "created_at": at,
        "updated_at": at,
    }
    return invoice, lines


class Writer:
    """Buffers rows per model; a full buffer flushes every model, parents first (FK order)."""

    def __init__(self):
        self.pending: dict = {}
        self.counts: dict[str, int] = {}

    def add(self, model, row: dict) -> None:
        rows = self.pending.setdefault(model, [])
        rows.append(row)
        if len(rows) >= BATCH:
            self.flush()

    def flush(self) -> None:
        for model in MODELS:
            rows = self.pending.pop(model, None)
            if rows:
                model.insert_many(rows).execute()
                name = model.__name__
                self.counts[name] = self.counts.get(name, 0) + len(rows)


def stamp(row: dict, at) -> dict:
    return {"id": new_id(), "created_at": at, "updated_at": at, **row}


def catalog(company, now) -> tuple[list, Coupon]:
    """Four monthly plans (and yearly twins), one 20 %-off-forever coupon."""
    monthly = []
    for name, cents in PLANS:
        product = Product.create(company=company, name=name, description=f"{name} hosting plan")
        price = Price.create(
            company=company,
            product=product,
            type="recurring",
            currency="USD",
            unit_amount=cents,
            interval="month",
            interval_count=1,
        )
        Price.create(
            company=company,
            product=product,
            type="recurring",
            currency="USD",
            unit_amount=cents * 10,
            interval="year",
            interval_count=1,
        )
        Product.update(default_price_id=price.id).where(Product.id == product.id).execute()
        monthly.append(price)
    coupon = Coupon.create(company=company, name="Loyalty 20%", duration="forever", percent_off=20)
    return monthly, coupon
