"""Portal overview: subscriptions, default payment method, unpaid invoices, billing details."""

from flask_login import current_user

from portal.customer import bp, shell_query
from portal.customer.session import signed_in

from . import overview
from .shell import render_portal, shell


@bp.route("/portal")
@signed_in
def home():
    customer_id = current_user.customer_id
    credits = shell_query.credits(shell())
    return render_portal(
        "customer/home.html",
        credits=credits,
        subscriptions=overview.subscriptions(customer_id, held=credits),
        default_method=shell_query.default_method(shell()),
        unpaid=overview.unpaid_invoices(customer_id),
    )
