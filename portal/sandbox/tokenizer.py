"""The sandbox processor's browser tokenizer: ``POST /sandbox-gateway/tokens``.

A real processor serves this from its own origin, so card numbers go from the customer's
browser to the processor and the portal only ever sees the token. The sandbox gateway is
in-process, so its tokenizer is mounted here, outside every portal and API route: it reads
the card, answers a token (or the field at fault) and stores nothing.
"""

from flask import Blueprint, current_app, jsonify, request

from portal.billing.gateway import GatewayError, get_gateway, parse_expiry
from portal.extensions import limiter

bp = Blueprint("sandbox_tokenizer", __name__)
FIELDS = {"type": 20, "number": 23, "expiry": 7, "cvc": 4}


REQUIRED = {
    "number": "Enter your card number.",
    "expiry": "Enter the expiry date.",
    "cvc": "Enter the security code.",
}


def _refuse(fields: dict[str, str], status: int = 422):
    """Every field at fault with its message, so the form can mark them all at once."""
    message = next(iter(fields.values()))
    response = jsonify({"error": {"message": message, "fields": fields}})
    response.status_code = status
    return response


def _missing(body: dict) -> dict[str, str]:
    problems = {name: text for name, text in REQUIRED.items() if not body.get(name, "").strip()}
    if "expiry" not in problems and parse_expiry(body["expiry"]) is None:
        problems["expiry"] = "Use the format MM/YY."
    return problems


@bp.route("/sandbox-gateway/tokens", methods=["POST"])
@limiter.limit(lambda: current_app.config["PORTAL_TOKENIZER_RATE_LIMIT"], methods=["POST"])
def create_token():
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or set(body) - set(FIELDS):
        return _refuse({"body": "Send a JSON object with type, number, expiry and cvc."}, 400)
    if any(
        not isinstance(body.get(k, ""), str) or len(body.get(k, "")) > n for k, n in FIELDS.items()
    ):
        return _refuse({"body": "Every field is a short string."}, 400)
    if body.get("type") != "card":
        return _refuse({"type": "Only cards are tokenized here."})
    problems = _missing(body)
    if problems:
        return _refuse(problems)
    try:
        token = get_gateway().tokenize_card(
            body["number"], *parse_expiry(body["expiry"]), body["cvc"]
        )
    except GatewayError as exc:
        return _refuse({exc.field: exc.message})
    response = jsonify({"token": token})
    response.status_code = 201
    return response


@bp.after_request
def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response
