"""Helpers for portal-session JSON routes: the signed-in customer and the config's switches."""

from flask import g

from portal.access.activity import record_event
from portal.errors import FeatureDisabled, NotFound
from portal.models import Customer
from portal.portal_settings.config import get_config, settings_of


def customer() -> Customer:
    return Customer.get_by_id(g.portal_session.customer_id)


def settings() -> dict:
    if "portal_settings" not in g:
        g.portal_settings = settings_of(get_config(g.company))
    return g.portal_settings


def require(flag: str, what: str) -> None:
    """A section the merchant switched off is refused with FEATURE_DISABLED."""
    if not settings()[flag]:
        raise FeatureDisabled(f"{what} are turned off for this portal.")


def own(model, object_id: str, label: str):
    """A row of the signed-in customer; anything else is 'not found'."""
    row = None
    # NUL is refused up front: PostgreSQL cannot even compare text holding it.
    if isinstance(object_id, str) and len(object_id) <= 64 and "\x00" not in object_id:
        row = model.get_or_none(
            (model.id == object_id)
            & (model.company == g.portal_session.company_id)
            & (model.customer == g.portal_session.customer_id)
        )
    if row is None:
        raise NotFound(f"No such {label}: {object_id!s:.64}")
    return row


def event(action: str, details: dict | None = None, subscription_id: str | None = None) -> None:
    session = g.portal_session
    record_event(session.company_id, session.customer_id, action, details, subscription_id)
