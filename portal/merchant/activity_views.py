"""Activity: the company's portal events (sign-ins, subscription and payment-method actions),
newest first, filtered by customer and action, 20 to a page, in three queries whatever the page."""

from flask import request
from peewee import JOIN

from portal.digits import page_number
from portal.models import Customer, PortalEvent

from . import bp
from .session import company, signed_in
from .shell import render_page

PER_PAGE = 20
MAX_PAGE = 10_000


def _page_number() -> int:
    return page_number(request.args.get("page"), MAX_PAGE)


def _filtered(comp, who: str, action: str):
    query = (
        PortalEvent.select(PortalEvent, Customer)
        .join(Customer, JOIN.LEFT_OUTER)
        .where(PortalEvent.company == comp)
    )
    if action:
        query = query.where(PortalEvent.action == action)
    if "@" in who:
        query = query.where(Customer.email == who.lower())
    elif who:
        query = query.where(PortalEvent.customer == who)
    return query


def _page_of(query, page: int) -> list[PortalEvent]:
    newest_first = query.order_by(PortalEvent.created_at.desc(), PortalEvent.id.desc())
    return list(newest_first.paginate(page, PER_PAGE))


def _actions(comp) -> list[str]:
    """Every action the company has events for: the filter's choices."""
    query = PortalEvent.select(PortalEvent.action).where(PortalEvent.company == comp)
    return [row.action for row in query.distinct().order_by(PortalEvent.action)]


def details_text(details) -> str:
    """A short, plain rendering of an event's details for the table."""
    if not isinstance(details, dict):
        return ""
    return ", ".join(f"{key}: {value}" for key, value in sorted(details.items()))[:160]


@bp.route("/merchant/activity")
@signed_in
def activity():
    comp = company()
    who = request.args.get("customer", "").strip()[:254]
    action = request.args.get("action", "").strip()[:60]
    page = _page_number()
    query = _filtered(comp, who, action)
    total = query.count()
    return render_page(
        "merchant/activity.html",
        events=_page_of(query, page),
        total=total,
        page=page,
        pages=max(1, -(-total // PER_PAGE)),
        actions=_actions(comp),
        who=who,
        action=action,
        details_text=details_text,
    )
