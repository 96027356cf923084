"""Merchant accounts: companies, owners and API keys (no Flask here)."""

import re

from argon2 import PasswordHasher

from portal.db import write_transaction
from portal.models import ApiKey, Company, MerchantUser
from portal.security import random_token, sha256_hex

KEY_TYPES = {"secret": "sk", "publishable": "pk"}
_hashers = {"standard": PasswordHasher(), "fast": PasswordHasher(time_cost=1, memory_cost=1024)}
_hasher = _hashers["standard"]


def use_fast_hashing(fast: bool) -> None:
    """Testing may hash cheaply (still argon2id); every other environment uses the defaults."""
    global _hasher
    _hasher = _hashers["fast" if fast else "standard"]


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def invoice_prefix_for(name: str) -> str:
    letters = re.sub(r"[^A-Za-z0-9]", "", name).upper()[:6] or "INV"
    return letters


def create_api_key(
    company: Company, key_type: str, *, livemode: bool = False
) -> tuple[ApiKey, str]:
    """Create a key and return it with its one-time plaintext (only the hash is stored)."""
    prefix = f"{KEY_TYPES[key_type]}_{'live' if livemode else 'test'}_"
    plaintext = prefix + random_token(24)  # 192 random bits
    key = ApiKey.create(
        company=company,
        key_type=key_type,
        livemode=livemode,
        prefix=prefix,
        key_hash=sha256_hex(plaintext),
        last_four=plaintext[-4:],
    )
    return key, plaintext


def create_merchant(name: str, owner_email: str, password: str) -> tuple[Company, str, str]:
    """Create a company with its owner, a secret key and a publishable key."""
    with write_transaction():
        company = Company.create(name=name, invoice_prefix=invoice_prefix_for(name))
        MerchantUser.create(
            company=company,
            email=owner_email.strip().lower(),
            password_hash=hash_password(password),
        )
        _, secret = create_api_key(company, "secret")
        _, publishable = create_api_key(company, "publishable")
    return company, secret, publishable
