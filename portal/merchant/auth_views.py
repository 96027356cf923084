"""Merchant sign-in and sign-out, and accepting an invitation.

A failed sign-in looks the same whether the address is unknown or the password is wrong
(same status, same page, same time). Attempts are limited per client address, and failures
per account from browsers that have not signed in to that account before — so guessing from
elsewhere slows down, while the owner's own browser is never locked out.
"""

from flask import redirect, render_template, request, url_for
from flask_login import current_user

from portal.access import merchant_users as accounts
from portal.access import sessions
from portal.access.signin import lifetimes
from portal.db import write_transaction
from portal.errors import DomainError
from portal.extensions import _client_key, limiter
from portal.models import MerchantUser
from portal.ratelimits import configured_limit
from portal.security import sha256_hex

from . import bp
from .forms import SetPasswordForm, SignInForm
from .session import (
    clear_session_cookie,
    cookie_name,
    device_user_id,
    set_session_cookie,
)

FAILED = "Email address or password is incorrect."


def _account_key() -> str:
    email = accounts.normal_email(request.form.get("email", ""))
    return f"merchant-account:{sha256_hex(email)}"


def _known_device() -> bool:
    """This browser signed in to the account it now tries before (signed device cookie)."""
    user_id = device_user_id()
    if user_id is None:
        return False
    email = accounts.normal_email(request.form.get("email", ""))
    user = MerchantUser.get_or_none(MerchantUser.email == email)
    return user is not None and user.id == user_id


ip_limit = configured_limit(
    "PORTAL_MERCHANT_SIGNIN_RATE_LIMIT_IP", "merchant-signin-ip", key_func=_client_key
)
account_limit = configured_limit(
    "PORTAL_MERCHANT_SIGNIN_RATE_LIMIT_ACCOUNT",
    "merchant-signin-account",
    key_func=_account_key,
    exempt_when=_known_device,
    deduct_when=lambda response: response.status_code == 401,
)


def _start(user: MerchantUser, target: str):
    """A fresh session id at every sign-in; the one this browser held before ends."""
    with write_transaction():
        sessions.end_merchant_session(request.cookies.get(cookie_name(), ""))
        _row, raw = sessions.start_merchant_session(user, request.user_agent.string, lifetimes())
    response = redirect(target, 303)
    set_session_cookie(response, raw, user.id)
    return response


@bp.route("/merchant/sign-in", methods=["GET", "POST"])
@ip_limit
@account_limit
def sign_in():
    if request.method == "GET" and current_user.is_authenticated:
        return redirect(url_for("merchant.settings"), 303)
    form = SignInForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is not None:
            return _start(user, url_for("merchant.settings"))
        form.password.data = ""
        return render_template("merchant/sign_in.html", form=form, failed=FAILED), 401
    status = 422 if request.method == "POST" else 200
    return render_template("merchant/sign_in.html", form=form, failed=None), status


@bp.route("/merchant")
def root():
    return redirect(url_for("merchant.settings"), 303)


@bp.route("/merchant/sign-out", methods=["POST"])
def sign_out():
    if current_user.is_authenticated:
        with write_transaction():
            sessions.end_merchant_session(request.cookies.get(cookie_name(), ""))
    response = redirect(url_for("merchant.sign_in", signed_out=1), 303)
    clear_session_cookie(response)
    return response


@bp.route("/merchant/invite/<token>", methods=["GET", "POST"])
@limiter.limit("30 per minute", key_func=_client_key)
def accept_invite(token):
    """GET only shows the form (mail scanners open links); the POST uses the link up."""
    row = accounts.read_invite(token)
    if row is None:
        return render_template("merchant/invite_invalid.html"), 404
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            with write_transaction():
                user = accounts.accept_invite(row, form.password.data)
        except DomainError as exc:
            if not exc.fields:
                return render_template("merchant/invite_invalid.html"), 404
            form.password.errors.append(exc.fields["password"])
        else:
            return _start(user, url_for("merchant.settings"))
    status = 422 if request.method == "POST" else 200
    return render_template("merchant/accept_invite.html", form=form, invite=row), status
