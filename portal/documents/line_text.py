"""An invoice line's description in the language being rendered. The billing core stores
descriptions in English ("Unused time on Pro plan × 2", "Upgrade: full-period price
difference", "... (after discount)"); pages and PDFs show the known shapes translated and
anything else (a product's name) as written. The JSON API shows the stored text."""

import re

from flask_babel import gettext

from portal.i18n import N_, current_language

SHAPES = (
    (re.compile(r"(?P<line>.+) \(after discount\)", re.S), N_("%(line)s (after discount)")),
    (re.compile(r"Unused time on (?P<item>.+)", re.S), N_("Unused time on %(item)s")),
    (re.compile(r"Remaining time on (?P<item>.+)", re.S), N_("Remaining time on %(item)s")),
)
WHOLE = {
    "Upgrade: full-period price difference": N_("Upgrade: full-period price difference"),
    "Downgrade: full-period price difference": N_("Downgrade: full-period price difference"),
}


def line_text(description: str | None) -> str:
    if not description or current_language() == "en":
        return description or ""
    if description in WHOLE:
        return gettext(WHOLE[description])
    for shape, message in SHAPES:
        match = shape.fullmatch(description)
        if match:
            parts = {name: line_text(value) if name == "line" else value
                     for name, value in match.groupdict().items()}  # fmt: skip
            return gettext(message, **parts)
    return description
