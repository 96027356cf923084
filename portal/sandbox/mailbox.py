"""Development mailbox: read what the outbox would have sent, without an SMTP server.

Registered only when PORTAL_ENV is "development" (it shows every customer's sign-in links).
Message HTML is shown inside a sandboxed iframe (no scripts, unique origin) and the pages run
under a CSP that allows no script at all, so message content cannot execute here.
"""

import re

from flask import Blueprint, Flask, abort, render_template

from portal.models import OutboxMessage

bp = Blueprint("devmail", __name__, url_prefix="/dev/mailbox")

# Inline styles let the e-mail's own inline CSS render in the preview; scripts stay forbidden.
DEV_CSP = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "frame-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_LINK = re.compile(r"https?://[^\s<>\"']+")


def register_devmail(app: Flask) -> bool:
    """Mount /dev/mailbox in development only; return whether it was mounted."""
    if app.config.get("PORTAL_ENV") != "development":
        return False
    if bp.name not in app.blueprints:
        app.register_blueprint(bp)
    return True


@bp.after_request
def _strict_csp(response):
    response.headers["Content-Security-Policy"] = DEV_CSP
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("")
def mailbox():
    M = OutboxMessage
    messages = M.select().order_by(M.created_at.desc(), M.id.desc()).limit(200)
    return render_template("devmail/mailbox.html", messages=list(messages), message=None)


@bp.get("/<message_id>")
def message(message_id: str):
    found = OutboxMessage.get_or_none(OutboxMessage.id == message_id)
    if found is None:
        abort(404)
    links = list(dict.fromkeys(_LINK.findall(found.text_body)))
    return render_template("devmail/mailbox.html", messages=None, message=found, links=links)
