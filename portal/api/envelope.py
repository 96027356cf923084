"""The JSON envelope of the wire format: success, list and error shapes."""

from datetime import UTC, datetime

from flask import jsonify


def iso_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{datetime.now(UTC).microsecond // 1000:03d}Z"
    )


def success(data, *, message: str = "OK", status: int = 200, pagination: dict | None = None):
    body = {"success": True, "timestamp": iso_now(), "data": data, "message": message}
    if pagination is not None:
        body["pagination"] = pagination
    response = jsonify(body)
    response.status_code = status
    return response


def error(status: int, code: str, message: str, details: dict | None = None):
    body = {
        "success": False,
        "timestamp": iso_now(),
        "error": {"code": code, "message": message, "details": details},
    }
    response = jsonify(body)
    response.status_code = status
    return response


class ApiError(Exception):
    """An HTTP-level refusal (auth, malformed request) raised from API plumbing."""

    def __init__(self, status: int, code: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details

    def response(self):
        return error(self.status, self.code, self.message, self.details)
