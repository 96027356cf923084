"""Blueprint: merchant sign-in and the settings pages (portal settings with live preview,
dunning, branding, custom domains, API keys, activity, team).

Merchant pages live on the portal's own host only; the logo is the one route a custom
domain may serve, because the customer portal shows it there.
"""

from flask import Blueprint, abort, g, request, url_for

from portal.portal_settings.branding import logo_version

bp = Blueprint("merchant", __name__)
PUBLIC_ASSETS = {"merchant.logo"}


LOOK_UP = object()


@bp.app_template_global()
def brand_logo_url(company_id: str, digest=LOOK_UP) -> str | None:
    """The company's logo URL for the portal header (versioned for caching), or None.
    Pages that read the logo's ``digest`` already (None: no logo) pass it: no query."""
    version = logo_version(company_id) if digest is LOOK_UP else (digest or "")[:12]
    return url_for("merchant.logo", company_id=company_id, v=version) if version else None


@bp.before_request
def _base_host_only():
    if g.get("host_company") is not None and request.endpoint not in PUBLIC_ASSETS:
        abort(404)


@bp.after_request
def _no_store(response):
    if request.endpoint not in PUBLIC_ASSETS:
        # Keys, settings and activity must not sit in shared or browser caches.
        response.headers["Cache-Control"] = "no-store"
        response.vary.add("HX-Request")
    return response


from . import (  # noqa: E402,F401  (importing registers the routes)
    activity_views,
    auth_views,
    branding_views,
    domain_views,
    dunning_views,
    key_views,
    settings_views,
    team_views,
    webhook_views,
)
