"""The portal activity log: who did what (sign-ins, subscription and payment-method actions),
from which client. The merchant reads it on the Activity page and at GET /customer-portal/events.

The client (IP address, user agent) of the request being served is set by the app for each
request, so domain code records events without touching the request object.
"""

from contextvars import ContextVar
from dataclasses import dataclass

from portal.models import PortalEvent


@dataclass(frozen=True)
class Client:
    ip: str | None
    user_agent: str | None


CURRENT_CLIENT: ContextVar[Client | None] = ContextVar("portal_client", default=None)


def record_event(company_id, customer_id, action, details=None, subscription_id=None) -> None:
    client = CURRENT_CLIENT.get()
    PortalEvent.create(
        company=company_id,
        customer=customer_id,
        subscription_id=subscription_id,
        action=action,
        details=details,
        ip=client.ip if client else None,
        user_agent=(client.user_agent or "")[:300] or None if client else None,
    )
