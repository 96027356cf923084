"""Small security primitives shared by API keys, tokens and sessions."""

import hashlib
import secrets


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def random_token(nbytes: int = 32) -> str:
    """URL-safe random string with ``nbytes`` of entropy from the OS CSPRNG."""
    return secrets.token_urlsafe(nbytes)
