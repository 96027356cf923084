"""Log redaction: tokens, codes, keys and card-like numbers never reach a log line."""

import logging
import re

SECRET_PATTERNS = (
    # Every path that carries a one-time secret: sign-in links, handoffs, e-mail change
    # confirmations and merchant invitations.
    (
        re.compile(r"(/(?:portal/(?:access|handoff|confirm-email)|merchant/invite)/)[^\s/?\"']+"),
        r"\1[redacted]",
    ),
    (re.compile(r"\b(sk|pk)_(test|live)_[A-Za-z0-9_\-]+"), r"\1_\2_[redacted]"),
    (re.compile(r"\bwhsec_[A-Za-z0-9_\-]+"), "whsec_[redacted]"),  # webhook signing secrets
    (re.compile(r"\b\d(?:[ -]?\d){12,18}\b"), "[redacted-number]"),
)


def redact(text: str) -> str:
    for pattern, replacement in SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text.replace("\r", "\\r").replace("\n", "\\n")


def install_redaction() -> None:
    """Redact every log record as it is created, whichever logger or handler prints it."""
    current = logging.getLogRecordFactory()
    if getattr(current, "redacting", False):
        return

    def factory(*args, **kwargs):
        record = current(*args, **kwargs)
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return record

    factory.redacting = True
    logging.setLogRecordFactory(factory)
