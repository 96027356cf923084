"""Model → wire dicts, one function per object, field names as the platform spells them."""

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


def _stamps(obj) -> dict:
    return {"created_at": iso(obj.created_at), "updated_at": iso(obj.updated_at)}


def customer(c: Customer, default_payment_method_id: str | None = None) -> dict:
    address = {
        "line1": c.address_line1,
        "line2": c.address_line2,
        "city": c.city,
        "region": c.region,
        "postal_code": c.postal_code,
        "country": c.country,
    }
    return {
        "id": c.id,
        "company_id": c.company_id,
        "email": c.email,
        "entity": {
            "first_name": c.first_name,
            "last_name": c.last_name,
            "company_name": c.company_name,
            "email": c.email,
            "phone": c.phone,
            "personal_address": address,
        },
        "tags": c.tags or {},
        "tax_id": c.tax_id,
        "default_payment_instrument_id": default_payment_method_id,
        **_stamps(c),
    }


def product(p: Product, price_ids: list[str]) -> dict:
    return {
        "id": p.id,
        "company_id": p.company_id,
        "name": p.name,
        "description": p.description,
        "active": p.active,
        "default_price_id": p.default_price_id,
        "price_ids": price_ids,
        "metadata": p.metadata or {},
        **_stamps(p),
    }


def price(p: Price) -> dict:
    return {
        "id": p.id,
        "product_id": p.product_id,
        "active": p.active,
        "type": p.type,
        "recurring": p.type == "recurring",
        "currency": p.currency,
        "unit_amount": p.unit_amount,
        "interval": p.interval,
        "interval_count": p.interval_count,
        "description": p.description,
        "metadata": p.metadata or {},
        **_stamps(p),
    }


def coupon(c: Coupon) -> dict:
    from portal.billing.coupons import is_valid

    return {
        "id": c.id,
        "name": c.name,
        "duration": c.duration,
        "duration_in_months": c.duration_in_months,
        "percent_off": float(c.percent_off) if c.percent_off is not None else None,
        "amount_off": c.amount_off,
        "currency": c.currency,
        "max_redemptions": c.max_redemptions,
        "times_redeemed": c.times_redeemed,
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
        "enabled": m.enabled,
        "brand": m.brand,
        "last_four": m.last_four,
        "expiration_month": m.expiration_month,
        "expiration_year": m.expiration_year,
        "bank_name": m.bank_name,
        "masked_account_number": m.masked_account_number,
        "account_type": m.account_type,
        "name": m.name,
        "fingerprint": m.fingerprint,
        "is_default": m.is_default,
        **_stamps(m),
    }


def subscription(s: Subscription, items: list, discount: dict | None) -> dict:
    return {
        "id": s.id,
        "identity_id": s.customer_id,
        "instrument_id": s.payment_method_id,
        "status": s.status,
        "currency": s.currency,
        "items": [
            {
                "id": i.id,
                "subscription_id": s.id,
                "price_id": i.price_id,
                "quantity": i.quantity,
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
        "latest_invoice_id": s.latest_invoice_id,
        "credit_balance": s.credit_balance,
        "discount": discount,
        "metadata": s.metadata or {},
        "version": s.version,
        **_stamps(s),
    }


def discount(d) -> dict:
    return {
        "id": d.id,
        "subscription_id": d.subscription_id,
        "coupon_id": d.coupon_id,
        "start": iso(d.start),
        "end": iso(d.end),
        **_stamps(d),
    }


def invoice(inv: Invoice, lines: list, base_url: str) -> dict:
    from portal.billing.invoices import amount_remaining, display_status
    from portal.portal_settings.tenancy import hosted_invoice_url

    return {
        "id": inv.id,
        "number": inv.number,
        "status": display_status(inv),
        "customer_id": inv.customer_id,
        "subscription_id": inv.subscription_id,
        "payment_instrument_id": inv.payment_method_id,
        "currency": inv.currency,
        "subtotal": inv.subtotal,
        "discount_amount": inv.discount_amount,
        "credit_applied": inv.credit_applied,
        "total": inv.total,
        "amount_due": inv.amount_due,
        "amount_paid": inv.amount_paid,
        "amount_remaining": amount_remaining(inv),
        "items": [
            {
                "id": line.id,
                "description": line.description,
                "quantity": line.quantity,
                "unit_amount": line.unit_amount,
                "amount": line.amount,
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
        "seller": inv.seller,
        "buyer": inv.buyer,
        **_stamps(inv),
    }
