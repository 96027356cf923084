"""App-wide web plumbing: trailing slashes on the API, security headers, error pages."""

import re

from flask import Flask, abort, current_app, g, render_template, request
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from portal.api.envelope import error
from portal.portal_settings.tenancy import allowed_base_hosts, custom_domain_company

API_PREFIX = "/v1/api"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


HTTP_CODES = {
    400: "BAD_REQUEST",
    401: "AUTHENTICATION_REQUIRED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "RATE_LIMITED",
}

# The portal's error pages in the merchant's brand: a heading and one sentence per status.
BRANDED_ERRORS = {
    403: (
        "This request was refused",
        "You don't have permission to do that, or the request came from outside this portal.",
    ),
    404: (
        "We can't find that page",
        "The link may be incomplete, or what it pointed to is no longer here.",
    ),
    409: (
        "This changed in the meantime",
        "Something was updated after this page loaded, so your change wasn't made. "
        "Reload the page to see the latest and try again.",
    ),
    410: (
        "This link has expired",
        "Links like this one work only for a limited time.",
    ),
    500: (
        "Something went wrong on our side",
        "Nothing was charged twice. Please try again in a moment.",
    ),
}
PLAIN_500 = "Something went wrong on our side. Please try again."
_ROW_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class StripApiTrailingSlash:
    """Serve ``/v1/api/x/`` exactly like ``/v1/api/x``: the official client follows no redirects."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith(API_PREFIX + "/") and len(path) > len(API_PREFIX) + 1:
            environ["PATH_INFO"] = path.rstrip("/") or path
        return self.wsgi_app(environ, start_response)


def install_web_basics(app: Flask) -> None:
    app.wsgi_app = StripApiTrailingSlash(app.wsgi_app)
    base_hosts = allowed_base_hosts(app.config["PORTAL_BASE_URL"], app.config["PORTAL_ENV"])

    @app.before_request
    def _refuse_cross_site_posts():
        """Fetch Metadata: browsers say when a form post comes from another site."""
        unsafe = request.method not in ("GET", "HEAD", "OPTIONS")
        cross_site = request.headers.get("Sec-Fetch-Site") == "cross-site"
        if unsafe and cross_site and not request.path.startswith(API_PREFIX):
            abort(403)
        return None

    @app.before_request
    def _refuse_nul_in_pages():
        """A NUL character is never valid text, and PostgreSQL cannot store or even compare
        it: refuse it in any page's query, path or form (the JSON API has its own check)."""
        if request.path.startswith(API_PREFIX):
            return None
        values = list((request.view_args or {}).values())
        for source in (request.args, request.form):
            for name, value in source.items(multi=True):
                values += [name, value]
        if any(isinstance(v, str) and "\x00" in v for v in values):
            abort(400, description="The text sent contains a NUL character, which is not allowed.")
        return None

    @app.before_request
    def _resolve_host():
        """Pages answer only on the portal's own host or a verified custom domain."""
        if request.path.startswith((API_PREFIX, "/static/", "/assets/")):
            return None
        if not _resolve_host_company(base_hosts):
            abort(421)
        return None

    @app.after_request
    def _security_headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if app.config["PORTAL_ENV"] == "production":
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        if request.path.startswith((API_PREFIX, "/portal")):
            # Billing data must not sit in shared or browser caches.
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if _wants_json():
            code = HTTP_CODES.get(exc.code, "BAD_REQUEST")
            response = error(exc.code or 400, code, exc.description or exc.name)
            if getattr(exc, "valid_methods", None):  # a 405 must say what is allowed
                response.headers["Allow"] = ", ".join(exc.valid_methods)
            return response
        if exc.code == 429:
            retry = exc.get_headers() and dict(exc.get_headers()).get("Retry-After", "60")
            return render_template("errors/429.html", retry_after=retry or 60), 429
        branded = _branded_error_page(exc.code, base_hosts)
        return branded if branded is not None else exc

    @app.errorhandler(500)
    def _server_error(_error):
        if _wants_json():
            return error(500, "INTERNAL_ERROR", "Something went wrong on our side.")
        branded = _branded_error_page(500, base_hosts)
        return branded if branded is not None else (PLAIN_500, 500)


def _wants_json() -> bool:
    return request.path.startswith(API_PREFIX)


def _resolve_host_company(base_hosts: set[str]) -> bool:
    """Set ``g.host_company`` (the custom domain's company, None on the portal's own host);
    False when the host is neither."""
    host = request.host.lower()
    known = host in base_hosts
    g.host_company = None if known else custom_domain_company(host)
    return known or g.host_company is not None


# --- the portal's branded error pages --------------------------------------------------------


def _branded_error_page(status: int | None, base_hosts: set[str]):
    """The error page of a customer-facing page in the merchant's brand: inside the portal
    shell for a signed-in customer, in the public layout for a visitor whose company is known.
    None means the neutral page. Never raises: an error page that fails (the database is
    down, say) gives way to the neutral one, and never shows what went wrong."""
    if status not in BRANDED_ERRORS or not _maybe_portal_page():
        return None
    try:
        return _render_branded(status, base_hosts)
    except Exception:  # whatever failed, the neutral page still answers
        current_app.logger.exception("The branded %s page failed; sent the neutral one", status)
        return None


def _maybe_portal_page() -> bool:
    """Cheap first look, no database: a customer page, not the API, a merchant page, an
    asset or the brand stylesheet (those keep their own error answers)."""
    if request.blueprint not in (None, "customer") or request.endpoint == "customer.brand_css":
        return False
    path = request.path
    elsewhere = ("/merchant/", API_PREFIX, "/static/", "/assets/")
    return path != "/merchant" and not path.startswith(elsewhere)


def _render_branded(status: int, base_hosts: set[str]):
    # A request refused before the host check (a cross-site post) resolves its host here.
    if "host_company" not in g and not _resolve_host_company(base_hosts):
        return None
    path = request.path
    if not (path == "/portal" or path.startswith("/portal/") or g.host_company is not None):
        return None  # the public pages on the portal's own host (/p/<id>, /) stay neutral
    heading, message = BRANDED_ERRORS[status]
    if _signed_in_customer():
        from portal.customer.shell import render_portal

        html, _status = render_portal(
            "customer/error.html", status=status, heading=heading, message=message
        )
        # A signed-in page stays out of caches, also outside /portal (a custom domain's /x).
        return html, status, {"Cache-Control": "no-store"}
    company = _visitor_company()
    if company is None:
        return None
    from portal.customer.session import sign_in_url_for

    return render_template(
        "errors/public.html",
        company=company,
        heading=heading,
        message=message,
        sign_in_url=sign_in_url_for(company.id),
    ), status


def _signed_in_customer() -> bool:
    """Flask-Login loads portal sessions for the customer blueprint's routes; an address no
    route matched (``/portal/typo``) has no blueprint, so its session is looked up here."""
    if request.blueprint == "customer":
        return current_user.is_authenticated
    from portal.customer.session import load_portal_user

    user = load_portal_user()
    if user is None:
        return False
    current_app.login_manager._update_request_context_with_user(user)
    return True


def _visitor_company():
    """The signed-out visitor's company: the custom domain's, else the one this browser last
    signed in to (the ``portal_company`` cookie); None when neither is known."""
    if g.host_company is not None:
        return g.host_company
    from portal.customer.session import COMPANY_COOKIE
    from portal.models import Company

    company_id = request.cookies.get(COMPANY_COOKIE, "")
    if not _ROW_ID.fullmatch(company_id):
        return None
    return Company.get_or_none(Company.id == company_id)
