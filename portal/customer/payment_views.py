"""Payment methods: list, add a card or bank account, make default, remove (after a
confirmation step: its own page without JavaScript, in the method's row with htmx)."""

from flask import abort, current_app, flash, g, make_response, request
from flask_babel import gettext as _
from flask_login import current_user

from portal.access.activity import record_event
from portal.billing import instruments
from portal.billing.gateway import GatewayError, get_gateway
from portal.billing.invoices import display_status
from portal.customer import bp
from portal.customer.session import signed_in
from portal.db import write_transaction
from portal.errors import DomainError, NotFound
from portal.extensions import htmx
from portal.i18n import N_
from portal.models import PaymentMethod

from . import overview
from .forms import BankForm, CardForm, NonceForm
from .shell import (
    claim_nonce,
    new_nonce,
    own_row,
    page_or_region,
    render_portal,
    render_region,
    require_section,
    settings,
)

TEMPLATE = "customer/payment_methods.html"
CONFIRM_TEMPLATE = "customer/remove_method_confirm.html"
TOKENIZE_IN_BROWSER = N_(
    "Card details go straight to the payment processor: turn on JavaScript to add a card."
)
REGION = "methods_region"
GATEWAY_FIELDS = {
    "number": "number",
    "expiry": "expiry",
    "cvc": "cvc",
    "token": "number",  # a refused token: the card number is what to enter again
    "routing_number": "routing_number",
    "account_number": "account_number",
}
# Where a refused token (a spent one, or a card or account already saved) is shown.
TOKEN_FIELDS = {"PAYMENT_CARD": "number", "BANK_ACCOUNT": "account_number"}


def _context(card_form=None, bank_form=None, error=None, kept=None) -> dict:
    customer_id = current_user.customer_id
    accepted = settings()["accepted_payment_methods"]
    if card_form is None and "card" in accepted:
        card_form = CardForm(prefix="card", formdata=None)
    if bank_form is None and "bank_account" in accepted:
        bank_form = BankForm(prefix="bank", formdata=None)
    return {
        "methods": overview.methods(customer_id),
        "past_due": [
            i for i in overview.unpaid_invoices(customer_id) if display_status(i) == "PAST_DUE"
        ],
        "card_form": card_form,
        "bank_form": bank_form,
        "action_form": NonceForm(formdata=None),
        "nonce": new_nonce,
        "error": error,
        "card_fallback": sandbox_card_fallback(),
        "kept": kept,  # the method whose removal was just called off: its link gets focus
    }


def _done():
    acted_on = g.get("acted_on")
    return page_or_region(TEMPLATE, REGION, "customer.payment_methods", acted_on, **_context())


def _failed(**context):
    """The region again with its errors: in place for htmx, as the whole page otherwise."""
    if htmx:
        return render_region(TEMPLATE, REGION, **_context(**context))
    return render_portal(TEMPLATE, status=422, **_context(**context))


def _own_method(method_id: str) -> PaymentMethod:
    return own_row(PaymentMethod, method_id, "payment method")


def _require_kind(kind: str) -> None:
    require_section("payment_methods_enabled")
    if kind not in settings()["accepted_payment_methods"]:
        abort(404)


def _attach(form, action: str, make_token, expected_type: str, label: str, **extra) -> bool:
    """Tokenize and store the instrument once; put the gateway's complaint on its field."""
    try:
        with write_transaction():
            if not claim_nonce(form.form_nonce.data, action):
                return True
            method = instruments.add_instrument(
                current_user.customer,
                make_token(),
                name=label,
                expected_type=expected_type,
                **extra,
            )
            record_event(
                current_user.company_id,
                current_user.customer_id,
                "payment_method.added",
                {"payment_method_id": method.id, "type": method.type},
            )
    except GatewayError as exc:
        form[GATEWAY_FIELDS.get(exc.field, "number")].errors.append(exc.message)
        return False
    except DomainError as exc:
        if "tokenId" in exc.fields:  # the token's card or account: shown on its number
            form[TOKEN_FIELDS[expected_type]].errors.append(exc.fields["tokenId"])
        else:
            form.form_errors.extend(exc.fields.values() or [exc.message])
        return False
    if method.type == "PAYMENT_CARD":
        flash(_("Card ending in %(last_four)s added.", last_four=method.last_four))
    else:
        flash(_("Bank account ending in %(last_four)s added.", last_four=method.last_four))
    g.acted_on = f"method-{method.id}"
    return True


@bp.route("/portal/payment-methods")
@signed_in
def payment_methods():
    require_section("payment_methods_enabled")
    if htmx:  # "Keep it" on a removal confirmation: the region again, focus back on the row
        kept = request.args.get("kept")
        return _varies(render_region(TEMPLATE, REGION, **_context(kept=kept)))
    return _varies(render_portal(TEMPLATE, **_context()))


def _varies(rendered):
    """The same address answers a region (htmx) or a page: caches must tell them apart."""
    response = make_response(rendered)
    response.headers["Vary"] = "HX-Request"
    return response


@bp.route("/portal/payment-methods/card", methods=["POST"])
@signed_in
def add_card():
    _require_kind("card")
    form = CardForm(prefix="card")
    if raw_card_posted(form):
        form.form_errors.append(TOKENIZE_IN_BROWSER)
    elif form.validate_on_submit() and _attach(
        form, "add_card", _card_token(form), "PAYMENT_CARD", form.name.data
    ):
        return _done()
    form.number.data = form.cvc.data = ""  # card data is never echoed back into a page
    return _failed(card_form=form)


def raw_card_posted(form: CardForm) -> bool:
    """In production the portal takes a token only: a posted card number or security code
    is refused before anything reads it (the sandbox accepts them without JavaScript)."""
    return not sandbox_card_fallback() and bool(form.number.data or form.cvc.data)


def sandbox_card_fallback() -> bool:
    return current_app.config["PORTAL_ENV"] != "production"


def _card_token(form: CardForm):
    """The browser's token, or (sandbox, no JavaScript) one the gateway makes here."""
    if form.token.data:
        return lambda: form.token.data
    number, cvc = form.number.data, form.cvc.data
    month, year = form.expiry_parts()
    return lambda: get_gateway().tokenize_card(number, month, year, cvc)


@bp.route("/portal/payment-methods/bank-account", methods=["POST"])
@signed_in
def add_bank_account():
    _require_kind("bank_account")
    form = BankForm(prefix="bank")
    if form.validate_on_submit():

        def tokenize():
            return get_gateway().tokenize_bank_account(
                form.holder.data, form.routing_number.data, form.account_number.data
            )

        account_type = form.account_type.data  # the gateway cannot know checking from savings
        if _attach(
            form, "add_bank", tokenize, "BANK_ACCOUNT", form.holder.data, account_type=account_type
        ):
            return _done()
    form.account_number.data = ""
    return _failed(bank_form=form)


def _method_action(method_id: str, action: str, work, message: str):
    require_section("payment_methods_enabled")
    method = _own_method(method_id)
    form = NonceForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        with write_transaction():
            if claim_nonce(form.form_nonce.data, action):
                work(method)
                record_event(
                    current_user.company_id,
                    current_user.customer_id,
                    f"payment_method.{action}",
                    {"payment_method_id": method.id},
                )
    except (DomainError, NotFound) as exc:
        return _failed(error=exc.plain)
    flash(_(message, last_four=method.last_four))
    if action != "removed":
        g.acted_on = f"method-{method.id}"
    return _done()


@bp.route("/portal/payment-methods/<method_id>/default", methods=["POST"])
@signed_in
def make_default(method_id):
    return _method_action(
        method_id,
        "made_default",
        instruments.make_default,
        N_("The method ending in %(last_four)s is now your default."),
    )


@bp.route("/portal/payment-methods/<method_id>/remove")
@signed_in
def remove_method_confirm(method_id):
    """Ask before removing: the confirmation page, or (htmx) its region in the method's row.
    Nothing changes here; the form it shows posts to ``remove_method``."""
    require_section("payment_methods_enabled")
    method = _own_method(method_id)
    context = {"method": method, "nonce": new_nonce}
    if htmx:
        return _varies(render_region(CONFIRM_TEMPLATE, "confirm_region", **context))
    return _varies(render_portal(CONFIRM_TEMPLATE, **context))


@bp.route("/portal/payment-methods/<method_id>/remove", methods=["POST"])
@signed_in
def remove_method(method_id):
    return _method_action(
        method_id,
        "removed",
        instruments.remove,
        N_("The method ending in %(last_four)s was removed."),
    )
