"""The API objects of customers, subscriptions and invoices, with the rows they need loaded
in one query per kind for a whole list. The API returns them and webhook events carry them,
so an event's ``data`` is exactly what ``GET`` would have answered at that moment."""

from flask import current_app

from portal.models import Customer, Discount, Invoice, PaymentMethod, Subscription, utcnow
from portal.models import SubscriptionItem as Item
from portal.portal_settings.tenancy import origin_for

from . import wire
from .invoices import lines_by_invoice


def default_method_ids(customer_ids: list[str]) -> dict[str, str]:
    rows = PaymentMethod.select(PaymentMethod.id, PaymentMethod.customer).where(
        PaymentMethod.customer.in_(customer_ids),
        PaymentMethod.is_default == True,  # noqa: E712
    )
    return {row.customer_id: row.id for row in rows}


def customers(rows: list[Customer]) -> list[dict]:
    defaults = default_method_ids([c.id for c in rows]) if rows else {}
    return [wire.customer(c, defaults.get(c.id)) for c in rows]


def subscriptions(rows: list[Subscription]) -> list[dict]:
    """One query for all items and one for all active discounts."""
    ids = [s.id for s in rows]
    items: dict[str, list] = {sid: [] for sid in ids}
    discounts: dict[str, dict] = {}
    if ids:
        for item in (
            Item.select().where(Item.subscription.in_(ids)).order_by(Item.created_at, Item.id)
        ):
            items[item.subscription_id].append(item)
        now = utcnow()
        active = Discount.select().where(
            Discount.subscription.in_(ids)
            & Discount.ended_at.is_null()
            & (Discount.end.is_null() | (Discount.end > now))
        )
        for discount in active.order_by(Discount.start, Discount.id):
            discounts[discount.subscription_id] = wire.discount(discount)  # latest wins
    return [wire.subscription(s, items[s.id], discounts.get(s.id)) for s in rows]


def invoices(rows: list[Invoice]) -> list[dict]:
    """One query fetches every line of the list."""
    lines = lines_by_invoice([inv.id for inv in rows])
    origins = {company: origin(company) for company in {inv.company_id for inv in rows}}
    return [wire.invoice(inv, lines[inv.id], origins[inv.company_id]) for inv in rows]


def origin(company_id: str) -> str:
    """The company's verified portal domain when it chose one: links use it everywhere."""
    return origin_for(company_id, current_app.config["PORTAL_BASE_URL"])
