"""The portal's languages: Flask-Babel set up once, which language a page or an e-mail is in,
and the CLDR locale that money, dates and numbers are formatted with.

Customer pages, customer e-mails and the invoice PDF are translated (gettext catalogues in
``portal/translations``); the merchant pages, the JSON API and the CLI stay English: the
locale selector the factory installs answers English for them.
"""

import re
from collections.abc import Callable, Iterable
from contextlib import contextmanager

from flask import Flask, current_app, has_app_context
from flask_babel import Babel, force_locale, get_locale, gettext

from portal.config import LOCALE

LANGUAGES = ("en", "de", "es")
DEFAULT_LANGUAGE = "en"
# Each language named in itself, for the language picker.
NAMES = {"en": "English", "de": "Deutsch", "es": "Español"}
# The CLDR locale each language formats with: English keeps the one format it always had.
FORMAT_LOCALES = {"en": LOCALE, "de": "de_DE", "es": "es_ES"}

babel = Babel()


def lazy_marker(message: str) -> str:
    """Marks a message for extraction without translating it (the domain keeps English; the
    portal pages translate it when they show it)."""
    return message


N_ = lazy_marker

# Domain messages with numbers in them: the domain formats them in English, so a page finds
# the numbers again and shows the translated template with them.
NUMBERED = (
    N_("Choose a quantity from %(low)s to %(high)s."),
    N_("Choose 1 to %(most)s billing periods."),
)


def _numbers_pattern(template: str) -> re.Pattern:
    parts = re.split(r"%\((\w+)\)s", template)  # literal, name, literal, name, ...
    return re.compile(
        "".join(
            re.escape(part) if index % 2 == 0 else f"(?P<{part}>[0-9]{{1,9}})"
            for index, part in enumerate(parts)
        )
    )


_NUMBERED_PATTERNS = tuple((_numbers_pattern(t), t) for t in NUMBERED)


def install(app: Flask, locale_selector: Callable[[], str | None]) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    babel.init_app(app, locale_selector=locale_selector)
    app.jinja_env.globals["html_lang"] = current_language
    app.jinja_env.globals["language_names"] = NAMES
    app.jinja_env.filters["t"] = translate


def translate(message):
    """A message known only at run time (a flash, a form error, a marked domain message) in
    the current language; unknown ones as they are. Never %-formatted, but for the
    ``NUMBERED`` templates, which get back the numbers the message held."""
    if not message:
        return message
    translated = gettext(message)
    if translated != message:
        return translated
    for pattern, template in _NUMBERED_PATTERNS:
        found = pattern.fullmatch(message)
        if found:
            return gettext(template, **found.groupdict())
    return message


def current_language() -> str:
    """The language of what is being rendered now; English outside any request or e-mail."""
    if not has_app_context() or "babel" not in current_app.extensions:
        return DEFAULT_LANGUAGE
    locale = get_locale()
    language = locale.language if locale is not None else DEFAULT_LANGUAGE
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def formatting_locale() -> str:
    """The CLDR locale for money, dates and numbers in the current language."""
    return FORMAT_LOCALES[current_language()]


def offered(settings: dict) -> tuple[str, ...]:
    """The languages the merchant offers, known ones only, in LANGUAGES order."""
    chosen = settings.get("supported_locales") or LANGUAGES
    return tuple(lang for lang in LANGUAGES if lang in chosen) or (DEFAULT_LANGUAGE,)


def default_of(settings: dict) -> str:
    choices = offered(settings)
    default = settings.get("default_locale") or DEFAULT_LANGUAGE
    return default if default in choices else choices[0]


def choose(saved: str | None, accept, settings: dict) -> str:
    """The saved preference if offered, else the best Accept-Language match among the
    offered languages (``accept``: werkzeug's LanguageAccept, or None; de-AT counts as de),
    else the default."""
    choices = offered(settings)
    if saved in choices:
        return saved
    for tag, quality in accept or ():  # werkzeug's LanguageAccept: best quality first
        primary = tag.split("-")[0].split("_")[0].lower()
        if quality > 0 and primary in choices:
            return primary
    return default_of(settings)


def customer_language(customer, settings: dict, fallback: str | None = None) -> str:
    """What a customer's e-mails and documents are written in (there is no request):
    their saved choice, else ``fallback`` (the language of the page that asked), else the
    merchant's default; only an offered one."""
    saved = getattr(customer, "locale", None)
    return choose(saved if saved in offered(settings) else fallback, None, settings)


@contextmanager
def language(lang: str) -> Iterable[None]:
    """Render in ``lang`` (an e-mail, a PDF); a no-op outside an app with Flask-Babel."""
    if not has_app_context() or "babel" not in current_app.extensions:
        yield
        return
    with force_locale(lang if lang in LANGUAGES else DEFAULT_LANGUAGE):
        yield
