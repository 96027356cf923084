"""The cookie side of the server-side sessions, one implementation for the customer portal
and the merchant settings pages (the rows behind the cookies: portal/access/sessions.py).

Outside development every cookie is ``__Host-``-prefixed, Secure, HttpOnly and SameSite=Lax;
plain-http development cannot send a Secure cookie back, so there it drops both.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from flask import current_app, redirect, request
from flask_login import current_user


def _development() -> bool:
    return current_app.config["PORTAL_ENV"] == "development"


def host_only(base: str) -> str:
    """The cookie name: ``__Host-<base>`` wherever cookies are Secure."""
    return base if _development() else f"__Host-{base}"


def set_cookie(response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        secure=not _development(),
        httponly=True,
        samesite="Lax",
    )


@dataclass(frozen=True)
class SessionCookie:
    """The cookie that carries one kind of session's random id."""

    base: str
    # What else the browser drops on sign-out (the Clear-Site-Data header's value).
    clear_site_data: str

    def name(self) -> str:
        return host_only(self.base)

    def read(self) -> str:
        return request.cookies.get(self.name(), "")

    def set(self, response, raw: str, max_age: int) -> None:
        set_cookie(response, self.name(), raw, max_age)

    def clear(self, response) -> None:
        response.delete_cookie(
            self.name(), path="/", secure=not _development(), httponly=True, samesite="Lax"
        )
        response.headers["Clear-Site-Data"] = self.clear_site_data


def signed_in_guard(signed_out_target: Callable[[], str]):
    """A view decorator: signed-out requests go to ``signed_out_target()`` (a 303, and an
    ``HX-Redirect`` for htmx so the whole page moves, not just the region)."""

    def decorator(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            if not current_user.is_authenticated:
                response = redirect(signed_out_target(), 303)
                if request.headers.get("HX-Request"):
                    response.headers["HX-Redirect"] = response.location
                return response
            return view(*args, **kwargs)

        return guarded

    return decorator
