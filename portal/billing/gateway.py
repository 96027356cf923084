"""The payment gateway interface and the built-in test gateway (the only simulated party).

Only brand, last four, expiry and a fingerprint ever leave the gateway; card numbers and
CVCs stay inside ``tokenize_card`` and are never stored or logged.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date
from typing import Protocol


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


def luhn_ok(number: str) -> bool:
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


class SandboxGateway:
    """In-process stand-in for a card processor. Behaviour is encoded in the opaque refs,
    so any worker process can charge an instrument another one created."""

    def __init__(self):
        self._pending: dict[str, Instrument] = {}
        self._charges: dict[str, ChargeResult] = {}
        self.charge_calls: list[tuple[str, int, str, str]] = []

    def _instrument(self, kind, brand, last_four, declines, fingerprint, **extra) -> Instrument:
        behaviour = "decline" if declines else "ok"
        return Instrument(
            gateway_ref=f"tgw_{behaviour}_{secrets.token_hex(8)}",
            type=kind,
            brand=brand,
            last_four=last_four,
            fingerprint=fingerprint,
            **extra,
        )

    def create_instrument(self, token: str) -> Instrument:
        if token in self._pending:
            return self._pending.pop(token)
        if token not in NAMED_TOKENS:
            raise GatewayError("This payment token is unknown or was already used.")
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
        if not number.isdigit() or not 12 <= len(number) <= 19 or not luhn_ok(number):
            raise GatewayError("Your card number is not valid.", "number")
        today = date.today()
        if not 1 <= exp_month <= 12 or (exp_year, exp_month) < (today.year, today.month):
            raise GatewayError("Your card has expired.", "expiry")
        if not cvc.isdigit() or len(cvc) not in (3, 4):
            raise GatewayError("Your security code is not valid.", "cvc")
        if number in DECLINED_AT_VERIFICATION:
            raise GatewayError("Your card was declined.", "number")
        fingerprint = hashlib.sha256(f"card:{number}".encode()).hexdigest()[:16]
        instrument = self._instrument(
            "PAYMENT_CARD",
            card_brand(number),
            number[-4:],
            number in DECLINED_ON_CHARGE,
            fingerprint,
            expiration_month=exp_month,
            expiration_year=exp_year,
        )
        token = f"tok_{secrets.token_hex(12)}"
        self._pending[token] = instrument
        return token

    def tokenize_bank_account(self, holder: str, routing: str, account: str) -> str:
        if not (routing.isdigit() and len(routing) == 9):
            raise GatewayError("A routing number has 9 digits.", "routing_number")
        if not (account.isdigit() and 4 <= len(account) <= 17):
            raise GatewayError("An account number has 4 to 17 digits.", "account_number")
        fingerprint = hashlib.sha256(f"bank:{routing}:{account}".encode()).hexdigest()[:16]
        instrument = self._instrument(
            "BANK_ACCOUNT",
            None,
            account[-4:],
            False,
            fingerprint,
            bank_name="Test Bank",
            account_type="CHECKING",
            masked_account_number=f"••••{account[-4:]}",
        )
        token = f"btok_{secrets.token_hex(12)}"
        self._pending[token] = instrument
        return token

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


_gateway: PaymentGateway = SandboxGateway()


def get_gateway() -> PaymentGateway:
    return _gateway


def set_gateway(gateway: PaymentGateway) -> None:
    global _gateway
    _gateway = gateway
