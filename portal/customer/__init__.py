"""Blueprint: the hosted customer portal (sign-in pages, sessions, portal pages)."""

from flask import Blueprint

bp = Blueprint("customer", __name__)

from . import (  # noqa: E402,F401  (importing registers the routes)
    billing_views,
    cancel_views,
    home,
    invoice_views,
    language,
    pause_views,
    payment_views,
    resubscribe_views,
    signin_views,
    subscription_views,
)
