"""The merchant session cookie, Flask-Login integration and the signed-in guards."""

import hashlib
from functools import wraps

from flask import abort, current_app, g, redirect, request, url_for
from flask_login import UserMixin, current_user
from itsdangerous import BadSignature, URLSafeTimedSerializer

from portal.access import sessions
from portal.access.signin import lifetimes
from portal.models import Company

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


def _development() -> bool:
    return current_app.config["PORTAL_ENV"] == "development"


def cookie_name() -> str:
    # __Host- cookies must be Secure, which plain-http development cannot send back.
    return "merchant_sid" if _development() else "__Host-merchant_sid"


def device_cookie_name() -> str:
    return "merchant_device" if _development() else "__Host-merchant_device"


def current_session():
    if "merchant_session" not in g:
        raw = request.cookies.get(cookie_name(), "")
        g.merchant_session = sessions.load_merchant_session(raw, lifetimes()) if raw else None
    return g.merchant_session


def load_merchant_user():
    row = current_session()
    return MerchantPrincipal(row) if row else None


def _set(response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        secure=not _development(),
        httponly=True,
        samesite="Lax",
    )


def set_session_cookie(response, raw: str, user_id: str) -> None:
    _set(response, cookie_name(), raw, int(lifetimes().absolute.total_seconds()))
    # Remembers that this browser signed in as this user: its failed attempts then do not
    # count against the account, so guessing from elsewhere cannot lock the owner out.
    _set(response, device_cookie_name(), _device_serializer().dumps(user_id), DEVICE_MAX_AGE)


def clear_session_cookie(response) -> None:
    response.delete_cookie(
        cookie_name(), path="/", secure=not _development(), httponly=True, samesite="Lax"
    )
    # Not "cookies": that would also wipe the device cookie that keeps the owner's browser
    # out of the per-account sign-in limit. The session cookie is deleted above.
    response.headers["Clear-Site-Data"] = '"cache", "storage"'


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


def signed_in(view):
    """Only for a signed-in merchant user; others go to the sign-in page."""

    @wraps(view)
    def guarded(*args, **kwargs):
        if not current_user.is_authenticated:
            response = redirect(url_for("merchant.sign_in"), 303)
            if request.headers.get("HX-Request"):
                response.headers["HX-Redirect"] = response.location
            return response
        return view(*args, **kwargs)

    return guarded


def owner_only(view):
    """Owner actions (inviting people); other users get 403."""

    @wraps(view)
    def guarded(*args, **kwargs):
        if not current_user.is_owner:
            abort(403)
        return view(*args, **kwargs)

    return signed_in(guarded)
