"""The domain's English messages the portal pages show (refusals, field errors, gateway
answers), marked here for the catalogues: the domain and the JSON API keep English, and the
pages translate a message when they render it (the ``t`` filter, portal/i18n.py).
tests/unit/i18n/test_catalogues.py checks that each one still occurs in the domain's code."""

from portal.i18n import N_

MESSAGES = (
    # self_service/ and billing/: what a customer may not do
    N_("Subscriptions are turned off for this portal."),
    N_("Plan changes are turned off for this portal."),
    N_("Quantity changes are turned off for this portal."),
    N_("Cancellations are turned off for this portal."),
    N_("Pausing is turned off for this portal."),
    N_("That plan is not available here."),
    N_("This offer is no longer available."),
    N_("This subscription can't be changed here. Please contact us."),
    N_("This subscription has already ended."),
    N_("This subscription has several items; change it with us directly."),
    N_("This subscription is not scheduled to cancel."),
    N_("This subscription has ended and can no longer be changed."),
    N_("This subscription is set to cancel. Resume it before changing its plan."),
    N_("This subscription changed since it was loaded. Refresh the preview and try again."),
    N_("This subscription has an unpaid invoice: pay it first."),
    N_("This subscription can't be paused or resumed here. Please contact us."),
    N_("This subscription is set to cancel; keep it first to pause it."),
    N_("This subscription isn't paused."),
    N_("A plan change is waiting for your renewal; cancel it first to pause."),
    N_("That pause would skip more renewals in a row than we allow: choose a shorter one."),
    N_("This subscription has no change waiting for its renewal."),
    N_("Starting a subscription again is turned off for this portal."),
    N_("This subscription is still running and not set to end."),
    N_("This subscription was already started again."),
    N_("This subscription has several items; start it again with us directly."),
    N_("There is no payment method to charge. Nothing was changed."),
    N_("A disabled payment method cannot be the default."),
    N_("This is the only payment method for an active subscription. Add another one first."),
    N_("This payment method is disabled."),
    # billing/gateway.py: the processor's answers
    N_("This payment token has expired: enter the details again."),
    N_("This payment token is unknown or was already used."),
    N_("Your card has expired."),
    N_("Your card number is not valid."),
    N_("Your card was declined."),
    N_("Your security code is not valid."),
    N_("The payment failed."),
    N_("There was no payment method to charge."),
    N_("The payment date has passed."),
    # billing/billing_info.py: billing details
    N_("Some billing details are not valid."),
    N_("These details were changed elsewhere. Review the current values and save again."),
    N_("This is not a valid EU VAT number (for example DE123456789)."),
    N_("This is not a valid UK VAT number (for example GB123456789)."),
    N_("This is not a valid US EIN (for example 12-3456789)."),
    N_("This is not a valid Australian Business Number (for example 51 824 753 556)."),
    N_("Enter 3 to 40 letters, digits, spaces, dots, dashes or slashes."),
    N_("This field is required."),
    N_("Enter text."),
    N_("Remove control characters."),
    N_("Enter a phone number using digits, spaces, +, ( ) and -."),
    N_("Choose a country from the list."),
    N_("This is already your billing email."),
    # portal_settings/config.py: the default cancellation reasons (a merchant's own are shown
    # as written)
    N_("Too expensive"),
    N_("Missing features I need"),
    N_("Switching to another service"),
    N_("Not using it enough"),
    N_("Technical problems"),
    N_("Other"),
    # portal/web.py: the branded error pages
    N_("This request was refused"),
    N_("You don't have permission to do that, or the request came from outside this portal."),
    N_("We can't find that page"),
    N_("The link may be incomplete, or what it pointed to is no longer here."),
    N_("This changed in the meantime"),
    N_(
        "Something was updated after this page loaded, so your change wasn't made. "
        "Reload the page to see the latest and try again."
    ),
    N_("This link has expired"),
    N_("Links like this one work only for a limited time."),
    N_("Something went wrong on our side"),
    N_("Nothing was charged twice. Please try again in a moment."),
)
