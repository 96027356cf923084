"""Rendering form inputs: a blank text-like input is rendered once per process.

An unbound form's inputs (the add-card form, say) come out the same on every request, and
WTForms takes a fifth of a millisecond per input to build them (its attribute escaping is
pure Python). Anything that varies per request (a value, an error, the choices of a select)
is rendered afresh every time.
"""

from markupsafe import Markup
from wtforms.widgets import HiddenInput, Input

MAX_REMEMBERED = 1024
_remembered: dict[tuple, Markup] = {}


def _blank(field) -> bool:
    # Hidden inputs carry per-request values (the CSRF token renders with data None).
    return (
        isinstance(field.widget, Input)
        and not isinstance(field.widget, HiddenInput)
        and not field.errors
        and not field.raw_data
        and field.data in (None, "")
        and field._value() == ""
    )


def render_input(field, **attributes) -> Markup:
    """``field(**attributes)``, remembered while the field is blank."""
    if not _blank(field):
        return field(**attributes)
    key = (
        type(field),
        type(field.widget),
        field.id,
        field.name,
        tuple(sorted(vars(field.flags).items())),
        tuple(sorted((k, repr(v)) for k, v in (field.render_kw or {}).items())),
        tuple(sorted((k, repr(v)) for k, v in attributes.items())),
    )
    html = _remembered.get(key)
    if html is None:
        html = field(**attributes)
        if len(_remembered) < MAX_REMEMBERED:
            _remembered[key] = html
    return html


def install(app) -> None:
    app.add_template_global(render_input)
