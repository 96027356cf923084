"""Team: the company's merchant users; the owner invites people by email (a one-time link
to set a password) and can withdraw an invitation that was not used yet."""

from flask import abort, current_app, flash, redirect, url_for
from flask_login import current_user

from portal.access import merchant_users as accounts
from portal.db import write_transaction
from portal.errors import DomainError, NotFound, ValidationFailed
from portal.models import MerchantInvite, MerchantUser, utcnow

from . import bp
from .forms import InviteForm
from .session import company, owner_only, signed_in
from .shell import render_page


def _page(form=None, status=200):
    comp = company()
    users = list(
        MerchantUser.select()
        .where(MerchantUser.company == comp)
        .order_by(MerchantUser.created_at, MerchantUser.id)
    )
    pending = list(
        MerchantInvite.select()
        .where(
            (MerchantInvite.company == comp)
            & MerchantInvite.used_at.is_null()
            & MerchantInvite.revoked_at.is_null()
            & (MerchantInvite.expires_at > utcnow())
        )
        .order_by(MerchantInvite.created_at.desc())
    )
    return render_page(
        "merchant/team.html",
        status=status,
        users=users,
        pending=pending,
        form=form or InviteForm(formdata=None),
    )


@bp.route("/merchant/team")
@signed_in
def team():
    return _page()


@bp.route("/merchant/team/invite", methods=["POST"])
@owner_only
def invite():
    form = InviteForm()
    if not form.validate_on_submit():
        return _page(form=form, status=422)
    comp = company()
    try:
        with write_transaction():
            row, raw = accounts.invite(comp, current_user.user, form.email.data)
            accounts.queue_invitation(
                comp, row, raw, current_user.email, current_app.config["PORTAL_BASE_URL"]
            )
    except ValidationFailed as exc:
        form.email.errors = [exc.fields.get("email", exc.message)]
        return _page(form=form, status=422)

    flash(f"Invitation sent to {row.email}. The link works once, for 48 hours.")
    return redirect(url_for("merchant.team"), 303)


@bp.route("/merchant/team/invites/<invite_id>/revoke", methods=["POST"])
@owner_only
def revoke_invite(invite_id):
    with write_transaction():
        changed = (
            MerchantInvite.update(revoked_at=utcnow())
            .where(
                (MerchantInvite.id == invite_id)
                & (MerchantInvite.company == company())
                & MerchantInvite.used_at.is_null()
                & MerchantInvite.revoked_at.is_null()
            )
            .execute()
        )
    if not changed:
        abort(404)
    flash("Invitation withdrawn.")
    return redirect(url_for("merchant.team"), 303)


@bp.route("/merchant/team/members/<user_id>/remove", methods=["POST"])
@owner_only
def remove_member(user_id):
    try:
        with write_transaction():
            user = accounts.remove_member(company(), current_user.user, user_id[:64])
    except NotFound:
        abort(404)
    except DomainError as exc:
        flash(exc.message)
        return redirect(url_for("merchant.team"), 303)
    flash(f"{user.email} was removed and signed out everywhere.")
    return redirect(url_for("merchant.team"), 303)
