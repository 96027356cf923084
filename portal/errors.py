"""Domain errors: small named exceptions carrying a user-facing message.

The billing core raises them; each blueprint turns them into HTML or a JSON envelope.
"""


class DomainError(Exception):
    code = "CONFLICT"
    status = 409

    def __init__(self, message: str, *, fields: dict | None = None, details: dict | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        self.details = details

    @property
    def plain(self) -> str:
        """The message as a page shows it beside its form: a single field's own message
        (without the field name the JSON API prefixes), else the whole message."""
        if len(self.fields) == 1:
            return next(iter(self.fields.values()))
        return self.message


class ValidationFailed(DomainError):
    code = "VALIDATION_ERROR"
    status = 422

    @classmethod
    def field(cls, name: str, message: str) -> "ValidationFailed":
        return cls(f"{name}: {message}", fields={name: message})


class NotFound(DomainError):
    code = "NOT_FOUND"
    status = 404


class Conflict(DomainError):
    code = "CONFLICT"
    status = 409


class PaymentDeclined(DomainError):
    code = "PAYMENT_DECLINED"
    status = 402


class FeatureDisabled(DomainError):
    code = "FEATURE_DISABLED"
    status = 403


class PermissionDenied(DomainError):
    code = "PERMISSION_DENIED"
    status = 403


class RateLimited(DomainError):
    code = "RATE_LIMITED"
    status = 429
