"""What every signed-in merchant page shares: navigation, the page/region render helpers,
the portal's public sign-in URL and the TXT resolver in use."""

from flask import current_app, render_template
from jinja2_fragments.flask import render_block

from portal.portal_settings.domains import DnsTxtResolver, TxtResolver
from portal.portal_settings.tenancy import origin_for

from .session import company

NAV = (
    ("merchant.settings", "Portal settings"),
    ("merchant.dunning", "Dunning"),
    ("merchant.branding_page", "Branding"),
    ("merchant.domains_page", "Custom domains"),
    ("merchant.keys", "API keys"),
    ("merchant.webhooks", "Webhooks"),
    ("merchant.activity", "Activity"),
    ("merchant.team", "Team"),
)


def _shell() -> dict:
    return {"company": company(), "nav": NAV}


def render_page(template: str, status: int = 200, **context):
    return render_template(template, **{**_shell(), **context}), status


def render_region(template: str, block: str, **context):
    """Only the named block of a page: the region htmx swaps in place."""
    return render_block(template, block, **{**_shell(), **context})


def share_url(company) -> str:
    """The sign-in page customers can be sent to: the portal domain's root, else /p/<id>."""
    base = current_app.config["PORTAL_BASE_URL"]
    origin = origin_for(company.id, base)
    return f"{origin}/" if origin != base else f"{base}/p/{company.id}"


def txt_resolver() -> TxtResolver:
    """The configured resolver (tests set PORTAL_TXT_RESOLVER), else real DNS."""
    return current_app.config.get("PORTAL_TXT_RESOLVER") or DnsTxtResolver()
