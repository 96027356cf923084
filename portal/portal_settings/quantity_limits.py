"""Per-product quantity limits of the portal config: the fewest and most units a customer
may choose in the portal for a product's prices (the merchant API is not limited)."""

from portal.models import Product

MAX_LIMITS = 100


def with_defaults(limits: list[dict]) -> list[dict]:
    """Each limit as stored: a minimum of 1 and no maximum unless given."""
    return [
        {
            "product_id": limit["product_id"],
            "minimum": limit.get("minimum", 1),
            "maximum": limit.get("maximum"),
        }
        for limit in limits
    ]


def check_quantity_limits(company, limits: list[dict], most: int) -> dict:
    """Errors of ``quantity_limits`` (``most``: the portal's own quantity ceiling)."""
    ids = [limit["product_id"] for limit in limits]
    if len(ids) > MAX_LIMITS or len(set(ids)) != len(ids):
        return {"quantity_limits": f"List each product once, at most {MAX_LIMITS}."}
    for limit in limits:
        low, high = limit["minimum"], limit["maximum"]
        if not 1 <= low <= most or (high is not None and not low <= high <= most):
            return {
                "quantity_limits": f"Each minimum is 1 to {most} and each maximum from the "
                f"minimum to {most} (or null for {most})."
            }
    ours = Product.select().where((Product.company == company) & Product.id.in_(ids))
    if ids and ours.count() != len(ids):
        return {"quantity_limits": "Every product_id must be a product of this account."}
    return {}


def quantity_range(settings: dict, product_id: str, most: int) -> tuple[int, int]:
    """(fewest, most) units the portal allows for ``product_id``'s prices."""
    for limit in settings["quantity_limits"]:
        if limit["product_id"] == product_id:
            return limit["minimum"], limit["maximum"] or most
    return 1, most
