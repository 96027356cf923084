"""GET /customer-portal/events: what customers did in the portal, for the merchant."""

from flask import g
from pydantic import Field

from portal.models import PortalEvent
from portal.timefmt import iso

from .core import ListQuery, TextFilter, api_route, paginate
from .schemas import Shape


class EventQuery(ListQuery):
    customer_id: TextFilter = Field(None, max_length=64)
    subscription_id: TextFilter = Field(None, max_length=64)
    action: TextFilter = Field(None, max_length=60)


class Event(Shape):
    id: str
    company_id: str
    customer_id: str | None
    subscription_id: str | None
    action: str
    details: dict | None
    created_at: str


def render_many(rows: list[PortalEvent]) -> list[dict]:
    return [
        {
            "id": e.id,
            "company_id": e.company_id,
            "customer_id": e.customer_id,
            "subscription_id": e.subscription_id,
            "action": e.action,
            "details": e.details,
            "created_at": iso(e.created_at),
        }
        for e in rows
    ]


@api_route(
    "/customer-portal/events",
    "GET",
    tag="Customer portal",
    summary="Portal sign-ins and actions, newest first (filters: customer_id, action, "
    "subscription_id)",
    query=EventQuery,
    response=Event,
    paginated=True,
)
def list_events(query: EventQuery):
    select = PortalEvent.select().where(PortalEvent.company == g.company)
    filters = (
        (PortalEvent.customer, query.customer_id),
        (PortalEvent.subscription_id, query.subscription_id),
        (PortalEvent.action, query.action),
    )
    return paginate(select, query, render_many, filters=filters)
