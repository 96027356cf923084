"""Flask extensions, created once and bound in the app factory."""

from flask import request
from flask_compress import Compress
from flask_htmx import HTMX
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from portal import ratelimit_storage  # noqa: F401  (registers lazymemory://)


def _client_key() -> str:
    return get_remote_address() or "unknown"


limiter = Limiter(key_func=_client_key, headers_enabled=False)
csrf = CSRFProtect()
compress = Compress()
htmx = HTMX()  # tells a page request from an htmx request, for every audience
login_manager = LoginManager()


@login_manager.user_loader
def _no_cookie_sessions(_user_id):
    # Sign-in state lives in our own server-side session cookie, never in Flask's.
    return None


@login_manager.request_loader
def _load_user(_request):
    if request.blueprint == "customer":
        from portal.customer.session import load_portal_user

        return load_portal_user()
    if request.blueprint == "merchant":
        from portal.merchant.session import load_merchant_user

        return load_merchant_user()
    return None


def api_key_identity() -> str:
    """Rate-limit bucket for the merchant API: the hashed key, else the client address."""
    from portal.security import sha256_hex

    key = request.headers.get("x-easy-api-key")
    return f"key:{sha256_hex(key)}" if key else f"ip:{_client_key()}"
