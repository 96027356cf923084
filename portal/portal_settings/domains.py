"""Custom domains: claim a hostname, prove control with a DNS TXT record, release it.

The DNS lookup sits behind ``TxtResolver`` so tests (and unusual deployments) can answer it
themselves. A domain serves the portal only once verified; removing it deletes the claim, so
whoever adds it next starts again with a fresh token and a fresh proof.
"""

import re
from datetime import timedelta
from typing import Protocol

from peewee import IntegrityError

from portal.db import db, write_transaction
from portal.digits import is_ascii_digits
from portal.errors import Conflict, ValidationFailed
from portal.models import CustomDomain, PortalConfig, utcnow
from portal.security import random_token

RECORD_PREFIX = "_portal-verify"
VALUE_PREFIX = "portal-verify="
# A claim nobody verified for this long no longer blocks another account from the hostname.
STALE_CLAIM = timedelta(days=7)
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
RESERVED_SUFFIXES = (".localhost", ".local", ".internal", ".invalid", ".test", ".example")


class DnsUnavailable(Exception):
    """The lookup itself failed (timeout, no resolver): say so, do not call it "not found"."""


class TxtResolver(Protocol):
    def txt(self, name: str) -> list[str]:
        """Every TXT string published at ``name``; [] when there is none."""


class DnsTxtResolver:
    """Looks TXT records up in the DNS with dnspython (5-second budget)."""

    def __init__(self, lifetime: float = 5.0):
        self.lifetime = lifetime

    def txt(self, name: str) -> list[str]:
        import dns.exception
        import dns.resolver

        try:
            answer = dns.resolver.resolve(name, "TXT", lifetime=self.lifetime)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        except dns.exception.DNSException as exc:
            raise DnsUnavailable(str(exc)) from None
        return [b"".join(record.strings).decode("utf-8", "replace") for record in answer]


def record_name(domain: CustomDomain) -> str:
    return f"{RECORD_PREFIX}.{domain.hostname}"


def record_value(domain: CustomDomain) -> str:
    return f"{VALUE_PREFIX}{domain.verification_token}"


def normalize_hostname(value: str, base_host: str, allow_reserved: bool = False) -> str:
    """The hostname in lower-case ASCII (IDNA), or ValidationFailed saying what is wrong.
    Reserved names (.localhost, .test, ...) are for trying things out outside production."""
    host = (value or "").strip().lower().rstrip(".")
    if "://" in host or "/" in host or ":" in host or "@" in host:
        raise ValidationFailed.field(
            "hostname", "Enter only the hostname, without https:// or a path."
        )
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValidationFailed.field("hostname", "This is not a valid hostname.") from None
    labels = host.split(".")
    if (
        len(host) > 253
        or len(labels) < 2
        or not all(_LABEL.fullmatch(label) for label in labels)
        or is_ascii_digits(labels[-1])
    ):
        raise ValidationFailed.field(
            "hostname", "Enter a hostname such as billing.example.com (letters, digits, hyphens)."
        )
    if host == base_host.split(":")[0] or (host.endswith(RESERVED_SUFFIXES) and not allow_reserved):
        raise ValidationFailed.field("hostname", "This hostname cannot be used for a portal.")
    return host


def add_domain(
    company, hostname: str, base_host: str, *, allow_reserved=False, now=None
) -> CustomDomain:
    """Claim ``hostname`` for ``company`` with a fresh verification token."""
    now = now or utcnow()
    host = normalize_hostname(hostname, base_host, allow_reserved)
    with write_transaction():
        existing = CustomDomain.get_or_none(CustomDomain.hostname == host)
        if existing is not None:
            if existing.company_id == company.id:
                raise ValidationFailed.field("hostname", "You have already added this hostname.")
            if existing.verified or existing.created_at > now - STALE_CLAIM:
                raise Conflict("This hostname is already used by another account.")
            existing.delete_instance()
        try:
            with db.atomic():
                return CustomDomain.create(
                    company=company, hostname=host, verification_token=random_token(24)
                )
        except IntegrityError:
            raise Conflict("This hostname is already used by another account.") from None


def owned_domain(company, domain_id: str) -> CustomDomain | None:
    if not domain_id or len(domain_id) > 64:
        return None
    return CustomDomain.get_or_none(
        (CustomDomain.id == domain_id) & (CustomDomain.company == company)
    )


def verify_domain(domain: CustomDomain, resolver: TxtResolver, now=None) -> bool:
    """Look for the TXT record; mark the domain verified when it is there."""
    if domain.verified:
        return True
    answers = resolver.txt(record_name(domain))
    if record_value(domain) not in (answer.strip() for answer in answers):
        return False
    CustomDomain.update(verified=True, verified_at=now or utcnow()).where(
        CustomDomain.id == domain.id
    ).execute()
    domain.verified = True
    return True


def portal_domain_id(company) -> str | None:
    row = PortalConfig.get_or_none(PortalConfig.company == company)
    return (row.settings or {}).get("custom_domain_id") if row else None


def remove_domain(company, domain: CustomDomain) -> None:
    """Release the hostname; refused while the portal uses it."""
    with write_transaction():
        if portal_domain_id(company) == domain.id:
            raise Conflict(
                "The portal uses this domain. Choose another portal domain (or none) first."
            )
        CustomDomain.delete().where(
            (CustomDomain.id == domain.id) & (CustomDomain.company == company)
        ).execute()


def domains_of(company) -> list[CustomDomain]:
    return list(
        CustomDomain.select()
        .where(CustomDomain.company == company)
        .order_by(CustomDomain.created_at, CustomDomain.id)
    )
