"""Sign-in rate limits, shared by the hosted pages and the JSON API (same buckets), and the
per-customer limit on e-mail change confirmations."""

from flask import current_app, g, request
from limits import parse

from portal.extensions import _client_key, limiter
from portal.security import sha256_hex


def _email_key() -> str:
    """Bucket per (company, address): the address comes from the form or the JSON body."""
    email = request.form.get("email")
    host_company = g.get("host_company")
    company = (request.view_args or {}).get("company_id") or (
        host_company.id if host_company else ""
    )
    if email is None and request.endpoint == "customer.renew_link":
        email, company = _renewal_address()
    elif email is None:
        body = request.get_json(silent=True)
        if isinstance(body, dict):
            email, company = body.get("email"), body.get("company_id", "")
    if not isinstance(email, str) or not email.strip():
        return f"ip:{_client_key()}"
    return f"email:{company}:{sha256_hex(email.strip().lower())}"


def _renewal_address() -> tuple[str | None, str]:
    """A renewal form carries no address: it goes to the link's customer, so count it there."""
    from portal.access import links as access
    from portal.access.signin import lifetimes
    from portal.models import Customer

    token = (request.view_args or {}).get("token", "")
    try:
        row = access.read_link(current_app.config["SECRET_KEY"], token, lifetimes())
    except access.LinkSpent as spent:
        row = spent.row
    except access.LinkInvalid:
        return None, ""
    customer = Customer.get_or_none(Customer.id == row.customer_id)
    return (customer.email if customer else None), row.company_id


def configured_limit(setting: str, scope: str, methods=("POST",), **options):
    """A limit shared by every route it decorates, at the rate of the ``setting`` config
    value (read per request, so tests and deployments can change it)."""
    return limiter.shared_limit(
        lambda: current_app.config[setting],
        scope=scope,
        methods=list(methods) if methods else None,
        **options,
    )


link_email_limit = configured_limit(
    "PORTAL_LINK_RATE_LIMIT_EMAIL", "link-email", key_func=_email_key
)
link_ip_limit = configured_limit("PORTAL_LINK_RATE_LIMIT_IP", "link-ip")
consume_limit = configured_limit("PORTAL_CONSUME_RATE_LIMIT_IP", "consume-ip", methods=None)


def allow_email_change(customer_id: str) -> bool:
    """Count one confirmation e-mail for this customer; False once over the limit, so a
    signed-in session cannot be used to send mail to arbitrary addresses without end."""
    if not limiter.enabled:
        return True
    item = parse(current_app.config["PORTAL_EMAIL_CHANGE_RATE_LIMIT"])
    return limiter.limiter.hit(item, "email-change", customer_id)
