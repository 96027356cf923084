"""Model → wire dicts, one function per object, field names as the platform spells them.
Runs of fields passed through as stored go through ``_as_stored``; what stands spelled out
is renamed or converted on the way."""

from portal.models import (
    Coupon,
    Customer,
    Invoice,
    PaymentMethod,
    Price,
    Product,
    Subscription,
)
from portal.timefmt import day, iso


def _as_stored(obj, *names: str) -> dict:
    """The fields the wire spells as the model does and carries unchanged."""
    return {name: getattr(obj, name) for name in names}


def _stamps(obj) -> dict:
    return {"created_at": iso(obj.created_at), "updated_at": iso(obj.updated_at)}


def customer(c: Customer, default_payment_method_id: str | None = None) -> dict:
    address = {
        "line1": c.address_line1,
        "line2": c.address_line2,
        **_as_stored(c, "city", "region", "postal_code", "country"),
    }
    return {
        **_as_stored(c, "id", "company_id", "email"),
        "entity": {
            **_as_stored(c, "first_name", "last_name", "company_name", "email", "phone"),
            "personal_address": address,
        },
        "tags": c.tags or {},
        "tax_id": c.tax_id,
        "default_payment_instrument_id": default_payment_method_id,
        **_stamps(c),
    }


def product(p: Product, price_ids: list[str]) -> dict:
    return {
        **_as_stored(p, "id", "company_id", "name", "description", "active", "default_price_id"),
        "price_ids": price_ids,
        "metadata": p.metadata or {},
        **_stamps(p),
    }


def price(p: Price) -> dict:
    return {
        **_as_stored(p, "id", "product_id", "active", "type"),
        "recurring": p.type == "recurring",
        **_as_stored(p, "currency", "unit_amount", "interval", "interval_count", "description"),
        "metadata": p.metadata or {},
        **_stamps(p),
    }


def coupon(c: Coupon) -> dict:
    from portal.billing.coupons import is_valid

    return {
        **_as_stored(c, "id", "name", "duration", "duration_in_months"),
        "percent_off": float(c.percent_off) if c.percent_off is not None else None,
        **_as_stored(c, "amount_off", "currency", "max_redemptions", "times_redeemed"),
        "redeem_by": iso(c.redeem_by),
        "valid": is_valid(c),
        "metadata": c.metadata or {},
        **_stamps(c),
    }


def payment_method(m: PaymentMethod) -> dict:
    return {
        "id": m.id,
        "identity_id": m.customer_id,
        "type": m.type,
        "instrument_type": m.type,
        **_as_stored(m, "enabled", "brand", "last_four", "expiration_month", "expiration_year"),
        **_as_stored(m, "bank_name", "masked_account_number", "account_type"),
        **_as_stored(m, "name", "fingerprint", "is_default"),
        **_stamps(m),
    }


def subscription(s: Subscription, items: list, discount: dict | None) -> dict:
    return {
        "id": s.id,
        "identity_id": s.customer_id,
        "instrument_id": s.payment_method_id,
        **_as_stored(s, "status", "currency"),
        "items": [
            {
                "id": i.id,
                "subscription_id": s.id,
                **_as_stored(i, "price_id", "quantity"),
                **_stamps(i),
            }
            for i in items
        ],
        "current_period_start": iso(s.current_period_start),
        "current_period_end": iso(s.current_period_end),
        "billing_cycle_anchor": iso(s.billing_cycle_anchor),
        "cancel_at_period_end": s.cancel_at_period_end,
        "canceled_at": iso(s.canceled_at),
        "ended_at": iso(s.ended_at),
        "cancellation_details": {
            "reason": s.cancellation_reason,
            "comment": s.cancellation_comment,
        },
        "pause_collection": None
        if s.pause_behavior is None
        else {"behavior": s.pause_behavior, "resumes_at": iso(s.pause_resumes_at)},
        # Items that replace the current ones at the renewal (a downgrade the portal deferred).
        "scheduled_change": None
        if not s.scheduled_change
        else {"items": s.scheduled_change, "effective_at": iso(s.current_period_end)},
        **_as_stored(s, "latest_invoice_id", "credit_balance"),
        "discount": discount,
        "metadata": s.metadata or {},
        "version": s.version,
        **_stamps(s),
    }


def discount(d) -> dict:
    return {
        **_as_stored(d, "id", "subscription_id", "coupon_id"),
        "start": iso(d.start),
        "end": iso(d.end),
        **_stamps(d),
    }


def invoice(inv: Invoice, lines: list, base_url: str) -> dict:
    from portal.billing.invoices import amount_remaining, display_status
    from portal.portal_settings.tenancy import hosted_invoice_url

    return {
        **_as_stored(inv, "id", "number"),
        "status": display_status(inv),
        **_as_stored(inv, "customer_id", "subscription_id"),
        "payment_instrument_id": inv.payment_method_id,
        "currency": inv.currency,
        **_as_stored(inv, "subtotal", "discount_amount", "credit_applied", "total"),
        **_as_stored(inv, "amount_due", "amount_paid"),
        "amount_remaining": amount_remaining(inv),
        "items": [
            {
                **_as_stored(line, "id", "description", "quantity", "unit_amount", "amount"),
                "proration": line.proration,
                "period_start": iso(line.period_start),
                "period_end": iso(line.period_end),
                "price_id": line.price_id,
            }
            for line in lines
        ],
        "due_date": day(inv.due_date),
        "period_start": iso(inv.period_start),
        "period_end": iso(inv.period_end),
        "paid_at": iso(inv.paid_at),
        "hosted_invoice_url": hosted_invoice_url(base_url, inv.id),
        "invoice_pdf_url": hosted_invoice_url(base_url, inv.id) + "/pdf",
        **_as_stored(inv, "seller", "buyer"),
        **_stamps(inv),
    }
