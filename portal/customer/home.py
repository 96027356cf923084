"""Portal overview: subscriptions, default payment method, unpaid invoices, billing details."""

from flask_login import current_user

from portal.billing import credit
from portal.customer import bp
from portal.customer.session import signed_in

from . import overview
from .shell import render_portal


@bp.route("/portal")
@signed_in
def home():
    customer_id = current_user.customer_id
    methods = overview.methods(customer_id)
    credits = credit.balances(customer_id)
    return render_portal(
        "customer/home.html",
        credits=credits,
        subscriptions=overview.subscriptions(customer_id, held=credits),
        default_method=next((m for m in methods if m.is_default), None),
        unpaid=overview.unpaid_invoices(customer_id),
    )
