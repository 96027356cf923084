"""Who may see what in the portal: a customer reaches only their own rows, and only in the
sections the merchant's config switched on. The hosted pages (as a 404) and the portal JSON
API (as NOT_FOUND or FEATURE_DISABLED) both ask here."""

from portal.errors import FeatureDisabled, NotFound
from portal.models import Invoice


def shown_invoices():
    """The invoices a customer sees: not drafts, which are the merchant's until finalized
    (a paused subscription's ``keep_as_draft`` periods)."""
    return Invoice.status != "DRAFT"


def require(settings: dict, flag: str, what: str) -> None:
    """A section the merchant switched off is refused."""
    if not settings[flag]:
        raise FeatureDisabled(f"{what} are turned off for this portal.")


def own(model, company_id: str, customer_id: str, object_id, label: str):
    """The row ``object_id`` of this customer of this company; anything else, another
    customer's row included, is simply not found."""
    row = None
    # NUL is refused up front: PostgreSQL cannot even compare text holding it.
    if isinstance(object_id, str) and len(object_id) <= 64 and "\x00" not in object_id:
        where = (
            (model.id == object_id)
            & (model.company == company_id)
            & (model.customer == customer_id)
        )
        row = model.get_or_none(where & shown_invoices() if model is Invoice else where)
    if row is None:
        raise NotFound(f"No such {label}: {object_id!s:.64}")
    return row
