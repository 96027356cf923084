"""Helpers of the hosted portal tests that only they use: the CSRF refusal's text, and a
snapshot of every table to prove a refused request changed nothing. The billing data comes
from ``builders``, the pages and forms from ``browsing``."""

from portal.models import MODELS, ApiKey, PortalSession

CSRF_ERROR = "The CSRF token is missing."
# Stamps that authentication refreshes on any request, even one that is refused.
TOUCHED = {(ApiKey, "last_used_at"), (PortalSession, "last_seen_at")}


def snapshot() -> dict:
    """Every row of every model, bar the TOUCHED stamps."""
    rows = {}
    for model in MODELS:
        fields = [f for f in model._meta.sorted_fields if (model, f.name) not in TOUCHED]
        rows[model.__name__] = list(model.select(*fields).order_by(model.id).tuples())
    return rows


def changed_tables(before: dict, after: dict) -> list[str]:
    return [name for name in before if before[name] != after[name]]
