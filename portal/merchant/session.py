"""The merchant session cookie, Flask-Login integration and the signed-in guards."""

import hashlib
from functools import wraps

from flask import abort, current_app, g, request, url_for
from flask_login import UserMixin, current_user
from itsdangerous import BadSignature, URLSafeTimedSerializer

from portal.access import sessions
from portal.access.signin import lifetimes
from portal.models import Company
from portal.session_cookies import SessionCookie, host_only, set_cookie, signed_in_guard

DEVICE_SALT = "merchant-device-v1"
DEVICE_MAX_AGE = 365 * 24 * 3600


class MerchantPrincipal(UserMixin):
    """The signed-in merchant user; every query of the settings pages starts from its company."""

    def __init__(self, session):
        self.session = session
        self.user = session.user
        self.company_id = session.company_id
        self.email = session.user.email
        self.role = session.user.role

    def get_id(self) -> str:
        return self.session.id

    @property
    def is_owner(self) -> bool:
        return self.role == "owner"


# Not "cookies" on sign-out: that would also wipe the device cookie that keeps the owner's
# browser out of the per-account sign-in limit.
SESSION_COOKIE = SessionCookie("merchant_sid", clear_site_data='"cache", "storage"')


def cookie_name() -> str:
    return SESSION_COOKIE.name()


def device_cookie_name() -> str:
    return host_only("merchant_device")


def current_session():
    if "merchant_session" not in g:
        raw = SESSION_COOKIE.read()
        g.merchant_session = sessions.load_merchant_session(raw, lifetimes()) if raw else None
    return g.merchant_session


def load_merchant_user():
    row = current_session()
    return MerchantPrincipal(row) if row else None


def set_session_cookie(response, raw: str, user_id: str) -> None:
    SESSION_COOKIE.set(response, raw, int(lifetimes().absolute.total_seconds()))
    # Remembers that this browser signed in as this user: its failed attempts then do not
    # count against the account, so guessing from elsewhere cannot lock the owner out.
    set_cookie(response, device_cookie_name(), _device_serializer().dumps(user_id), DEVICE_MAX_AGE)


def clear_session_cookie(response) -> None:
    SESSION_COOKIE.clear(response)


def _device_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        current_app.config["SECRET_KEY"],
        salt=DEVICE_SALT,
        signer_kwargs={"digest_method": hashlib.sha256},
    )


def device_user_id() -> str | None:
    """The user id this browser proved earlier, from its signed device cookie."""
    raw = request.cookies.get(device_cookie_name(), "")
    if not raw or len(raw) > 300:
        return None
    try:
        value = _device_serializer().loads(raw, max_age=DEVICE_MAX_AGE)
    except BadSignature:
        return None
    return value if isinstance(value, str) else None


def company() -> Company:
    """The signed-in merchant's company (one query per request)."""
    if "merchant_company" not in g:
        g.merchant_company = Company.get_by_id(current_user.company_id)
    return g.merchant_company


# Only for a signed-in merchant user; others go to the sign-in page.
signed_in = signed_in_guard(lambda: url_for("merchant.sign_in"))


def owner_only(view):
    """Owner actions (inviting people); other users get 403."""

    @wraps(view)
    def guarded(*args, **kwargs):
        if not current_user.is_owner:
            abort(403)
        return view(*args, **kwargs)

    return signed_in(guarded)
