"""The portal's language: which one a customer page is in, and the footer picker that changes
it (a signed-in customer's choice is saved on the customer, a visitor's in a cookie)."""

from flask import g, has_request_context, redirect, request, url_for
from flask_login import current_user

from portal import i18n
from portal.access import links as access
from portal.customer import bp
from portal.customer.session import COMPANY_COOKIE
from portal.db import write_transaction
from portal.models import Company, Customer
from portal.session_cookies import set_cookie

LANGUAGE_COOKIE = "portal_language"
# Customer pages are everything but these: they stay English.
ENGLISH_BLUEPRINTS = ("api", "merchant", "sandbox_tokenizer", "devmail")
ENGLISH_PATHS = ("/v1/", "/merchant", "/dev/", "/sandbox-gateway/")


def select_locale() -> str | None:
    """Flask-Babel's locale selector: None (English) off the customer pages."""
    if not has_request_context() or not customer_facing():
        return None
    saved, settings = _preference()
    return i18n.choose(saved, request.accept_languages, settings)


def customer_facing() -> bool:
    return request.blueprint not in ENGLISH_BLUEPRINTS and not request.path.startswith(
        ENGLISH_PATHS
    )


def _preference() -> tuple[str | None, dict]:
    """(the saved choice, the merchant's settings): the signed-in customer's, else this
    browser's cookie with the company of the page, the domain or the last sign-in."""
    user = current_user if request.blueprint == "customer" else g.get("_login_user")
    if getattr(user, "customer_id", None) is not None and user.is_authenticated:
        from portal.customer.shell import settings

        return user.customer.locale or request.cookies.get(LANGUAGE_COOKIE), settings()
    company = _visited_company()
    return request.cookies.get(LANGUAGE_COOKIE), _settings_of(company)


def _visited_company() -> Company | None:
    if g.get("host_company") is not None:
        return g.host_company
    company_id = access.plausible_id(
        (request.view_args or {}).get("company_id") or request.cookies.get(COMPANY_COOKIE)
    )
    if not company_id:
        return None
    cache = g.setdefault("language_company", {})
    if company_id not in cache:
        cache[company_id] = Company.get_or_none(Company.id == company_id)
    return cache[company_id]


def _settings_of(company: Company | None) -> dict:
    if company is None:
        return {}
    from portal.customer.signin_views import portal_settings

    return portal_settings(company)


@bp.app_template_global()
def picker_languages(company=None) -> tuple[str, ...]:
    """The languages the footer picker offers on this page (empty: no picker)."""
    if getattr(current_user, "customer_id", None) is not None and current_user.is_authenticated:
        from portal.customer.shell import settings

        offered = i18n.offered(settings())
    else:
        offered = i18n.offered(_settings_of(company or _visited_company()))
    return offered if len(offered) > 1 else ()


@bp.app_template_global()
def picker_return_path() -> str:
    """Where the picker brings the visitor back to: this page, if a GET can show it again."""
    if request.method != "GET":
        return ""
    return request.full_path.rstrip("?")


def _back_to(target: str | None) -> str:
    """A path on this site only: never another host, never a scheme."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return url_for("customer.home")
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return url_for("customer.home")
    return target


@bp.route("/portal/language", methods=["POST"])
def set_language():
    """Save the chosen language (signed in: on the customer; else in a cookie), then 303 back."""
    language = request.form.get("language", "")
    response = redirect(_back_to(request.form.get("next")), 303)
    if language not in i18n.LANGUAGES:
        return response
    user = current_user
    if getattr(user, "customer_id", None) is not None and user.is_authenticated:
        with write_transaction():
            Customer.update(locale=language).where(
                (Customer.id == user.customer_id) & (Customer.company == user.company_id)
            ).execute()
    set_cookie(response, LANGUAGE_COOKIE, language, 365 * 24 * 3600)
    return response
