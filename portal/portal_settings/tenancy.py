"""Which company a request's Host belongs to, and which origin a company's links use.

Links are always built from configuration (PORTAL_BASE_URL or the company's verified
custom domain), never from the request's Host or X-Forwarded-* headers.
"""

from urllib.parse import urlsplit

from portal.models import Company, CustomDomain, PortalConfig

LOOPBACK_ALIASES = ("127.0.0.1", "localhost")


def base_host(base_url: str) -> str:
    return urlsplit(base_url).netloc.lower()


def allowed_base_hosts(base_url: str, env: str) -> set[str]:
    """The portal's own host; in development also its loopback aliases on the same port."""
    host = base_host(base_url)
    hosts = {host}
    parts = urlsplit(base_url)
    if env == "development" and parts.hostname in LOOPBACK_ALIASES:
        port = f":{parts.port}" if parts.port else ""
        hosts |= {f"{alias}{port}" for alias in LOOPBACK_ALIASES}
    return hosts


def custom_domain_company(host: str) -> Company | None:
    """The company whose verified custom domain is ``host`` (port ignored)."""
    hostname = host.split(":", 1)[0].lower().rstrip(".")
    domain = (
        CustomDomain.select(CustomDomain, Company)
        .join(Company)
        .where((CustomDomain.hostname == hostname) & (CustomDomain.verified == True))  # noqa: E712
        .first()
    )
    return domain.company if domain else None


def portal_domain(company_id: str) -> CustomDomain | None:
    """The verified custom domain the company chose for its portal, if any."""
    config = PortalConfig.get_or_none(PortalConfig.company == company_id)
    domain_id = (config.settings or {}).get("custom_domain_id") if config else None
    if not domain_id:
        return None
    return CustomDomain.get_or_none(
        (CustomDomain.id == domain_id)
        & (CustomDomain.company == company_id)
        & (CustomDomain.verified == True)  # noqa: E712
    )


def origin_for(company_id: str, base_url: str) -> str:
    """Scheme and host every link of this company starts with."""
    domain = portal_domain(company_id)
    if domain is None:
        return base_url
    return f"{urlsplit(base_url).scheme}://{domain.hostname}"


def hosted_invoice_url(origin: str, invoice_id: str) -> str:
    """The invoice's page in the hosted portal (signed-out visitors are asked to sign in)."""
    return f"{origin}/portal/invoices/{invoice_id}"


def expected_host(company_id: str, base_url: str) -> str:
    return base_host(origin_for(company_id, base_url))
