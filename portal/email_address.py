"""What counts as an e-mail address, one shape for the JSON API and every form.

Only a shape check (something@domain.tld, no spaces or angle brackets): whether the address
works is proven by the mail that reaches it, never by a pattern.
"""

from wtforms import EmailField
from wtforms.validators import DataRequired, Length, Regexp

from portal.i18n import N_

MAX_LENGTH = 254
PATTERN = r"[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+"

# For WTForms fields, which do not strip the value before validating it.
FORM_SHAPE = Regexp(rf"^\s*{PATTERN}\s*$", message=N_("Enter a valid email address."))


def form_field(label: str, required: str, **render_kw) -> EmailField:
    """A required e-mail field of a form: at most MAX_LENGTH characters, of the one shape."""
    validators = [DataRequired(required), Length(max=MAX_LENGTH), FORM_SHAPE]
    return EmailField(label, validators=validators, render_kw=render_kw)
