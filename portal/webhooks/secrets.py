"""Signing secrets: shown to the merchant once, stored encrypted.

The secret itself must be recoverable (every delivery is signed with it, and the platform's
verifier takes the secret as the HMAC key), so it cannot be hashed like an API key. It is
sealed with Fernet under a key derived from ``PORTAL_SECRET_KEY``: a database dump alone
reveals nothing usable. Changing ``PORTAL_SECRET_KEY`` means rolling every endpoint's secret.
"""

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app

from portal.security import random_token

PREFIX = "whsec_"


def new_secret() -> str:
    return PREFIX + random_token(32)


def seal(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def unseal(sealed: str) -> str:
    """The secret; ValueError when it was sealed under another PORTAL_SECRET_KEY."""
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise ValueError("the signing secret was sealed under another PORTAL_SECRET_KEY") from None


def signature(secret: str, body: bytes) -> str:
    """The ``x-easy-webhook-signature`` header value for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _fernet() -> Fernet:
    key = current_app.config["SECRET_KEY"]
    key = key.encode() if isinstance(key, str) else key
    derived = hmac.new(key, b"portal webhook signing secrets", hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(derived))
