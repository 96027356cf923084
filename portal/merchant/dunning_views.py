"""The dunning settings page: every field of the dunning config in one form (a plain form post,
no JavaScript needed), validated like the JSON API, and the retry timeline of a payment that
fails today, for the saved settings or, with "Preview", for the values in the form."""

from flask import flash, redirect, request, url_for

from portal.billing.dunning_config import get_config, settings_of
from portal.errors import ValidationFailed
from portal.models import utcnow

from . import bp
from .dunning_form import SECTIONS, preview, read_form, save, shown, validated
from .session import company, signed_in
from .shell import render_page

TEMPLATE = "merchant/dunning.html"


def _stored() -> dict:
    return settings_of(get_config(company()))


def _page(settings: dict, text=None, errors=None, previewing=False, status=200):
    """The form shows ``text`` (what was posted) or ``settings``; the timeline ``settings``."""
    return render_page(
        TEMPLATE,
        status=status,
        sections=SECTIONS,
        values=text if text is not None else shown(settings),
        errors=errors or {},
        previewing=previewing,
        timeline=preview(settings, utcnow()),
    )


@bp.route("/merchant/dunning")
@signed_in
def dunning():
    return _page(_stored())


@bp.route("/merchant/dunning", methods=["POST"])
@signed_in
def save_dunning():
    """Save every field at once, or with "Preview" only show the timeline of the values in
    the form; nothing is saved when any field is refused."""
    stored = _stored()
    try:
        if request.form.get("action") == "preview":
            settings, text = validated(stored, request.form)
            return _page(settings, text=text, previewing=True)
        save(company(), stored, request.form)
    except ValidationFailed as exc:
        text = read_form(request.form)[1]
        return _page(stored, text=text, errors=exc.fields or {"dunning": exc.message}, status=422)
    flash("Dunning settings saved.")
    return redirect(url_for("merchant.dunning"), 303)
