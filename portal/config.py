"""Configuration: defaults plus PORTAL_* environment variables, parsed in one place."""

import os
import secrets
from pathlib import Path

ENVIRONMENTS = ("development", "production", "testing")
# Where queued e-mail is sent from: a delivery thread of the serving process (the
# single-process default of development and tests) or a separate `flask deliver-mail --loop`
# process that requests wake at once (production).
MAIL_DELIVERY_MODES = ("thread", "worker")
WEAK_SECRETS = {"dev", "secret", "changeme", "development", "test", "password"}
MIN_SECRET_LENGTH = 32
# The locale of money, dates and country names on pages, e-mails and documents.
LOCALE = "en_US"


class ConfigError(RuntimeError):
    """The configuration cannot be used; the app refuses to start."""


def instance_dir() -> Path:
    """Folder for the SQLite file and the generated development secret."""
    path = Path(os.environ.get("PORTAL_INSTANCE_DIR", Path.cwd() / "instance"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _secret_key(env: str) -> str:
    key = os.environ.get("PORTAL_SECRET_KEY", "")
    if key:
        if key.lower() in WEAK_SECRETS or len(key) < MIN_SECRET_LENGTH:
            raise ConfigError(
                f"PORTAL_SECRET_KEY is too weak: use at least {MIN_SECRET_LENGTH} random characters"
            )
        return key
    if env == "production":
        raise ConfigError("PORTAL_SECRET_KEY is required when PORTAL_ENV=production")
    if env == "testing":
        return secrets.token_urlsafe(48)
    # Development keeps one generated key so sessions survive a restart.
    path = instance_dir() / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number") from None


def load(overrides: dict | None = None) -> dict:
    """Build the Flask config mapping from the environment, then apply overrides."""
    overrides = dict(overrides or {})
    env = overrides.get("PORTAL_ENV") or os.environ.get("PORTAL_ENV", "development")
    if env not in ENVIRONMENTS:
        raise ConfigError(f"PORTAL_ENV must be one of {', '.join(ENVIRONMENTS)}")
    config = {
        "PORTAL_ENV": env,
        "PORTAL_DATABASE_URL": os.environ.get("PORTAL_DATABASE_URL")
        or f"sqlite:///{instance_dir() / 'portal.db'}",
        "PORTAL_BASE_URL": os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        "PORTAL_SMTP_URL": os.environ.get("PORTAL_SMTP_URL", ""),
        "PORTAL_MAIL_FROM": os.environ.get("PORTAL_MAIL_FROM", "billing@localhost"),
        "PORTAL_MAIL_DELIVERY": os.environ.get(
            "PORTAL_MAIL_DELIVERY", "worker" if env == "production" else "thread"
        ),
        "RATELIMIT_STORAGE_URI": os.environ.get("PORTAL_RATELIMIT_STORAGE_URL", "lazymemory://"),
        "PORTAL_API_RATE_LIMIT": os.environ.get("PORTAL_API_RATE_LIMIT", "600 per minute"),
        "PORTAL_LINK_TTL_MINUTES": _int("PORTAL_LINK_TTL_MINUTES", 15),
        "PORTAL_HANDOFF_TTL_MINUTES": _int("PORTAL_HANDOFF_TTL_MINUTES", 5),
        "PORTAL_RECOVERY_LINK_TTL_HOURS": _int("PORTAL_RECOVERY_LINK_TTL_HOURS", 72),
        "PORTAL_SESSION_IDLE_MINUTES": _int("PORTAL_SESSION_IDLE_MINUTES", 30),
        "PORTAL_SESSION_MAX_HOURS": _int("PORTAL_SESSION_MAX_HOURS", 12),
        "PORTAL_LINK_RATE_LIMIT_EMAIL": os.environ.get(
            "PORTAL_LINK_RATE_LIMIT_EMAIL", "5 per hour"
        ),
        "PORTAL_EMAIL_CHANGE_RATE_LIMIT": os.environ.get(
            "PORTAL_EMAIL_CHANGE_RATE_LIMIT", "5 per hour"
        ),
        "PORTAL_TOKENIZER_RATE_LIMIT": os.environ.get(
            "PORTAL_TOKENIZER_RATE_LIMIT", "30 per minute"
        ),
        "PORTAL_LINK_RATE_LIMIT_IP": os.environ.get("PORTAL_LINK_RATE_LIMIT_IP", "20 per minute"),
        "PORTAL_CONSUME_RATE_LIMIT_IP": os.environ.get(
            "PORTAL_CONSUME_RATE_LIMIT_IP", "30 per minute"
        ),
        "PORTAL_MERCHANT_SIGNIN_RATE_LIMIT_IP": os.environ.get(
            "PORTAL_MERCHANT_SIGNIN_RATE_LIMIT_IP", "10 per minute"
        ),
        "PORTAL_MERCHANT_SIGNIN_RATE_LIMIT_ACCOUNT": os.environ.get(
            "PORTAL_MERCHANT_SIGNIN_RATE_LIMIT_ACCOUNT", "10 per hour"
        ),
        "PORTAL_PROXY_HOPS": _int("PORTAL_PROXY_HOPS", 0),
        # Loopback webhook receivers (and plain http to them) for development and tests;
        # production refuses them unless this is set to 1.
        "PORTAL_WEBHOOKS_ALLOW_LOOPBACK": os.environ.get(
            "PORTAL_WEBHOOKS_ALLOW_LOOPBACK", "0" if env == "production" else "1"
        )
        == "1",
        "MAX_CONTENT_LENGTH": 256 * 1024,
        "JSON_SORT_KEYS": False,
        # Brotli for browsers, gzip for the rest; PDFs are compressed already.
        "COMPRESS_ALGORITHM": ["br", "gzip"],
        "COMPRESS_BR_LEVEL": 5,
        "COMPRESS_MIN_SIZE": 500,
        "DEBUG": False,
    }
    if "SECRET_KEY" not in overrides:
        config["SECRET_KEY"] = _secret_key(env)
    config.update(overrides)
    if config["PORTAL_MAIL_DELIVERY"] not in MAIL_DELIVERY_MODES:
        raise ConfigError(f"PORTAL_MAIL_DELIVERY must be one of {', '.join(MAIL_DELIVERY_MODES)}")
    secure = config["PORTAL_ENV"] != "development"
    config.setdefault("SESSION_COOKIE_SECURE", secure)
    config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    config.setdefault("SESSION_COOKIE_NAME", "__Host-csrf" if secure else "csrf")
    return config
