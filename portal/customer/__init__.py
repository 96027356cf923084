"""Blueprint: the hosted customer portal (sign-in pages, sessions, portal pages)."""

from flask import Blueprint

bp = Blueprint("customer", __name__)

from . import pages, signin_views  # noqa: E402,F401  (importing registers the routes)
