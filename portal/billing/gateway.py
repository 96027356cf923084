"""The payment gateway interface and the built-in test gateway (the only simulated party).

Only brand, last four, expiry and a fingerprint ever leave the gateway; card numbers and
CVCs stay inside ``tokenize_card`` and are never stored or logged.
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from portal.digits import is_ascii_digits


@dataclass(frozen=True)
class Instrument:
    gateway_ref: str
    type: str  # PAYMENT_CARD | BANK_ACCOUNT
    last_four: str
    fingerprint: str
    brand: str | None = None
    expiration_month: int | None = None
    expiration_year: int | None = None
    bank_name: str | None = None
    account_type: str | None = None
    masked_account_number: str | None = None


@dataclass(frozen=True)
class ChargeResult:
    succeeded: bool
    gateway_ref: str
    failure_message: str | None = None


@dataclass(frozen=True)
class RefundResult:
    succeeded: bool
    gateway_ref: str
    failure_message: str | None = None


class GatewayError(Exception):
    """The gateway refused an instrument; ``field`` names the form field at fault."""

    def __init__(self, message: str, field: str = "token"):
        super().__init__(message)
        self.message, self.field = message, field


class PaymentGateway(Protocol):
    def create_instrument(self, token: str) -> Instrument: ...

    def tokenize_card(self, number: str, exp_month: int, exp_year: int, cvc: str) -> str: ...

    def tokenize_bank_account(self, holder: str, routing: str, account: str) -> str: ...

    def charge(
        self, gateway_ref: str, amount: int, currency: str, idempotency_key: str
    ) -> ChargeResult: ...

    def refund(
        self, charge_ref: str, amount: int, currency: str, idempotency_key: str
    ) -> RefundResult: ...


def luhn_ok(number: str) -> bool:
    """The card number's check digit is right (``number`` holds ASCII digits only)."""
    digits = [int(d) for d in number]
    checksum = 0
    for index, digit in enumerate(reversed(digits)):
        if index % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        checksum += digit
    return checksum % 10 == 0


def card_brand(number: str) -> str:
    if number.startswith("4"):
        return "VISA"
    if number[:2] in {"51", "52", "53", "54", "55"} or "2221" <= number[:4] <= "2720":
        return "MASTERCARD"
    if number[:2] in {"34", "37"}:
        return "AMERICAN_EXPRESS"
    if number.startswith("6011") or number.startswith("65"):
        return "DISCOVER"
    return "UNKNOWN"


_EXPIRY = re.compile(r"\s*(0[1-9]|1[0-2])\s*/\s*((?:[0-9]{2}){1,2})\s*")


def parse_expiry(text: str) -> tuple[int, int] | None:
    """``MM/YY`` or ``MM/YYYY`` as (month, four-digit year); None when it is neither."""
    match = _EXPIRY.fullmatch(text or "")
    if match is None:
        return None
    month, year = match.groups()
    return int(month), int(year) + (2000 if len(year) == 2 else 0)


# Test tokens: (type, brand, last four, charges decline)
NAMED_TOKENS = {
    "tok_visa": ("PAYMENT_CARD", "VISA", "4242", False),
    "tok_mastercard": ("PAYMENT_CARD", "MASTERCARD", "4444", False),
    "tok_amex": ("PAYMENT_CARD", "AMERICAN_EXPRESS", "0005", False),
    "tok_chargeDeclined": ("PAYMENT_CARD", "VISA", "0341", True),
    "tok_bank_account": ("BANK_ACCOUNT", None, "6789", False),
}
DECLINED_AT_VERIFICATION = {"4000000000000002"}
DECLINED_ON_CHARGE = {"4000000000000341"}


TOKEN_MAX_AGE_SECONDS = 3600


class SandboxGateway:
    """In-process stand-in for a card processor. Behaviour is encoded in the opaque refs,
    so any worker process can charge an instrument another one created.

    Tokens are sealed (signed with the app's secret, never holding the card number), so a
    token minted by the tokenizer in one worker attaches in another; each is good for an
    hour and once (this process remembers spent tokens; the store refuses a reused ref)."""

    def __init__(self, secret: bytes | str | None = None):
        self._charges: dict[str, ChargeResult] = {}
        self._refunds: dict[str, RefundResult] = {}
        self._spent: set[str] = set()
        self.charge_calls: list[tuple[str, int, str, str]] = []
        self.refund_calls: list[tuple[str, int, str, str]] = []
        self.use_secret(secret or secrets.token_bytes(32))

    def use_secret(self, secret: bytes | str) -> None:
        """Seal tokens with ``secret`` (the app's), so every worker reads every token."""
        key = secret.encode() if isinstance(secret, str) else secret
        self._key = hashlib.sha256(b"sandbox-gateway:" + key).digest()
        self._sealer = URLSafeTimedSerializer(self._key, salt="sandbox-gateway-token")

    def _fingerprint(self, text: str) -> str:
        # Keyed: the short fingerprint of a card number cannot be brute-forced offline.
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()[:16]

    def _instrument(self, kind, brand, last_four, declines, fingerprint, ref=None, **extra):
        behaviour = "decline" if declines else "ok"
        return Instrument(
            gateway_ref=f"tgw_{behaviour}_{ref or secrets.token_hex(8)}",
            type=kind,
            brand=brand,
            last_four=last_four,
            fingerprint=fingerprint,
            **extra,
        )

    def _seal(self, prefix: str, instrument: dict) -> str:
        return prefix + self._sealer.dumps({**instrument, "ref": secrets.token_hex(8)})

    def _unseal(self, token: str) -> Instrument:
        sealed = token.removeprefix("btok_").removeprefix("tok_")
        try:
            fields = self._sealer.loads(sealed, max_age=TOKEN_MAX_AGE_SECONDS)
        except SignatureExpired:
            raise GatewayError("This payment token has expired: enter the details again.") from None
        except BadSignature:
            raise GatewayError("This payment token is unknown or was already used.") from None
        if fields["ref"] in self._spent:
            raise GatewayError("This payment token is unknown or was already used.")
        self._spent.add(fields["ref"])
        return self._instrument(**fields)

    def create_instrument(self, token: str) -> Instrument:
        if token not in NAMED_TOKENS:
            return self._unseal(token)
        kind, brand, last_four, declines = NAMED_TOKENS[token]
        fingerprint = hashlib.sha256(token.encode()).hexdigest()[:16]
        if kind == "BANK_ACCOUNT":
            return self._instrument(
                kind,
                None,
                last_four,
                False,
                fingerprint,
                bank_name="Test Bank",
                account_type="CHECKING",
                masked_account_number=f"••••{last_four}",
            )
        return self._instrument(
            kind,
            brand,
            last_four,
            declines,
            fingerprint,
            expiration_month=12,
            expiration_year=date.today().year + 3,
        )

    def tokenize_card(self, number: str, exp_month: int, exp_year: int, cvc: str) -> str:
        number = "".join(number.split())
        if not is_ascii_digits(number) or not 12 <= len(number) <= 19 or not luhn_ok(number):
            raise GatewayError("Your card number is not valid.", "number")
        today = date.today()
        if not 1 <= exp_month <= 12 or (exp_year, exp_month) < (today.year, today.month):
            raise GatewayError("Your card has expired.", "expiry")
        if not is_ascii_digits(cvc) or len(cvc) not in (3, 4):
            raise GatewayError("Your security code is not valid.", "cvc")
        if number in DECLINED_AT_VERIFICATION:
            raise GatewayError("Your card was declined.", "number")
        return self._seal(
            "tok_",
            {
                "kind": "PAYMENT_CARD",
                "brand": card_brand(number),
                "last_four": number[-4:],
                "declines": number in DECLINED_ON_CHARGE,
                "fingerprint": self._fingerprint(f"card:{number}"),
                "expiration_month": exp_month,
                "expiration_year": exp_year,
            },
        )

    def tokenize_bank_account(self, holder: str, routing: str, account: str) -> str:
        if not (is_ascii_digits(routing) and len(routing) == 9):
            raise GatewayError("A routing number has 9 digits.", "routing_number")
        if not (is_ascii_digits(account) and 4 <= len(account) <= 17):
            raise GatewayError("An account number has 4 to 17 digits.", "account_number")
        return self._seal(
            "btok_",
            {
                "kind": "BANK_ACCOUNT",
                "brand": None,
                "last_four": account[-4:],
                "declines": False,
                "fingerprint": self._fingerprint(f"bank:{routing}:{account}"),
                "bank_name": "Test Bank",
                "account_type": "CHECKING",
                "masked_account_number": f"••••{account[-4:]}",
            },
        )

    def charge(
        self, gateway_ref: str, amount: int, currency: str, idempotency_key: str
    ) -> ChargeResult:
        # A real processor dedupes on the idempotency key; so does this one.
        if idempotency_key in self._charges:
            return self._charges[idempotency_key]
        self.charge_calls.append((gateway_ref, amount, currency, idempotency_key))
        if gateway_ref.startswith("tgw_decline_"):
            result = ChargeResult(False, f"ch_{secrets.token_hex(8)}", "Your card was declined.")
        else:
            result = ChargeResult(True, f"ch_{secrets.token_hex(8)}")
        self._charges[idempotency_key] = result
        return result

    def refund(
        self, charge_ref: str, amount: int, currency: str, idempotency_key: str
    ) -> RefundResult:
        """Sandbox refunds always succeed, once per idempotency key."""
        if idempotency_key not in self._refunds:
            self.refund_calls.append((charge_ref, amount, currency, idempotency_key))
            self._refunds[idempotency_key] = RefundResult(True, f"re_{secrets.token_hex(8)}")
        return self._refunds[idempotency_key]


_gateway: PaymentGateway = SandboxGateway()


def get_gateway() -> PaymentGateway:
    return _gateway


def set_gateway(gateway: PaymentGateway) -> None:
    global _gateway
    _gateway = gateway
