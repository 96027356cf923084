"""A retention offer in the customer's words and language: '20% off for 3 months', '€5.00
off once'. The same terms as billing.coupons.describe (which the JSON API keeps in
English), written with the catalogue's plural forms and the locale's numbers."""

from decimal import Decimal

from babel.numbers import format_decimal
from flask_babel import gettext as _
from flask_babel import ngettext

from portal.billing.money import format_money
from portal.i18n import formatting_locale


def offer_text(coupon, currency: str) -> str:
    if coupon.percent_off is not None:
        value = Decimal(coupon.percent_off).normalize()
        percent = format_decimal(value, locale=formatting_locale())
        what = _("%(percent)s%% off", percent=percent)
    else:
        amount = format_money(coupon.amount_off or 0, coupon.currency or currency)
        what = _("%(amount)s off", amount=amount)
    if coupon.duration == "forever":
        return _("%(what)s forever", what=what)
    if coupon.duration == "repeating":
        months = coupon.duration_in_months or 1
        return ngettext(
            "%(what)s for %(num)d month", "%(what)s for %(num)d months", months, what=what
        )
    return _("%(what)s your next invoice", what=what)
