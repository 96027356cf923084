"""App-wide web plumbing: trailing slashes on the API, security headers, error pages."""

from flask import Flask, abort, g, render_template, request
from werkzeug.exceptions import HTTPException

from portal.api.envelope import error
from portal.tenancy import allowed_base_hosts, custom_domain_company

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
        host = request.host.lower()
        g.host_company = None
        if host in base_hosts:
            return None
        g.host_company = custom_domain_company(host)
        if g.host_company is None:
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
        return exc

    @app.errorhandler(500)
    def _server_error(_error):
        if _wants_json():
            return error(500, "INTERNAL_ERROR", "Something went wrong on our side.")
        return ("Something went wrong on our side. Please try again.", 500)


def _wants_json() -> bool:
    return request.path.startswith(API_PREFIX)
