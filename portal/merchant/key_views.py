"""API keys: list them, create one (its full value is shown once, in that response only),
revoke one (the API refuses it from then on)."""

from flask import abort, flash, redirect, url_for
from flask_login import current_user

from portal.access.merchants import create_api_key
from portal.db import write_transaction
from portal.models import ApiKey, utcnow

from . import bp
from .forms import KeyForm
from .session import company, signed_in
from .shell import render_page

TEMPLATE = "merchant/keys.html"


def _form(submitted: bool = True):
    """Only the owner may create secret keys (full API access); members get publishable ones."""
    form = KeyForm() if submitted else KeyForm(formdata=None)
    if not current_user.is_owner:
        form.key_type.choices = [c for c in form.key_type.choices if c.value != "secret"]
    return form


def _page(form=None, created=None, status=200):
    keys = list(
        ApiKey.select()
        .where(ApiKey.company == company())
        .order_by(ApiKey.revoked_at.is_null(False), ApiKey.created_at.desc(), ApiKey.id)
    )
    return render_page(
        TEMPLATE, status=status, form=form or _form(submitted=False), keys=keys, created=created
    )


@bp.route("/merchant/keys")
@signed_in
def keys():
    return _page()


@bp.route("/merchant/keys", methods=["POST"])
@signed_in
def create_key():
    form = _form()
    if not form.validate_on_submit():
        return _page(form=form, status=422)
    with write_transaction():
        key, plaintext = create_api_key(
            company(), form.key_type.data, livemode=form.mode.data == "live"
        )
    # Rendered, not redirected: the plaintext must never be stored, not even in the session.
    return _page(created=(key, plaintext))


@bp.route("/merchant/keys/<key_id>/revoke", methods=["POST"])
@signed_in
def revoke_key(key_id):
    with write_transaction():
        key = (
            ApiKey.get_or_none((ApiKey.id == key_id) & (ApiKey.company == company()))
            if len(key_id) <= 64
            else None
        )
        if key is None:
            abort(404)
        ApiKey.update(revoked_at=utcnow()).where(
            (ApiKey.id == key.id) & ApiKey.revoked_at.is_null()
        ).execute()
    flash(f"The key {key.prefix}…{key.last_four} is revoked; requests using it now get 401.")
    return redirect(url_for("merchant.keys"), 303)
