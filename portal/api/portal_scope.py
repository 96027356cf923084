"""Helpers for portal-session JSON routes: the signed-in customer and the config's switches."""

from flask import g

from portal.access.activity import record_event
from portal.models import Customer
from portal.portal_settings.config import get_config, settings_of
from portal.self_service import scope


def customer() -> Customer:
    return Customer.get_by_id(g.portal_session.customer_id)


def settings() -> dict:
    if "portal_settings" not in g:
        g.portal_settings = settings_of(get_config(g.company))
    return g.portal_settings


def require(flag: str, what: str) -> None:
    """A section the merchant switched off is refused with FEATURE_DISABLED."""
    scope.require(settings(), flag, what)


def own(model, object_id: str, label: str):
    """A row of the signed-in customer; anything else is NOT_FOUND."""
    session = g.portal_session
    return scope.own(model, session.company_id, session.customer_id, object_id, label)


def event(action: str, details: dict | None = None, subscription_id: str | None = None) -> None:
    session = g.portal_session
    record_event(session.company_id, session.customer_id, action, details, subscription_id)
