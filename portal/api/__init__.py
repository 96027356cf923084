"""Blueprint: the /v1/api JSON API (merchant key routes and portal-session routes)."""

from . import (  # noqa: F401  (importing registers the routes)
    access,
    coupons,
    customers,
    dunning_config,
    invoices,
    keys,
    openapi,
    payments,
    portal_config,
    portal_events,
    portal_invoices,
    portal_methods,
    portal_pause,
    portal_resubscribe,
    portal_subscriptions,
    prices,
    products,
    subscriptions,
    webhooks,
)
from .core import bp

__all__ = ["bp"]
