"""The exceptions acrx raises on purpose. Each maps to one exit code in acrx.exitcodes."""

from __future__ import annotations


class AcrxError(Exception):
    """A failure with a message meant for the user (exit 1)."""

    hint: str | None = None

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        if hint is not None:
            self.hint = hint


class UsageError(AcrxError):
    """Bad flags or a bad config file: nothing was changed (exit 2)."""

    def __init__(self, message: str, field: str | None = None, hint: str | None = None):
        self.field = field
        super().__init__(f"{field}: {message}" if field else message, hint)


class PreflightError(UsageError):
    """The live state rules the requested setup out before any write (exit 2)."""


class CloudError(AcrxError):
    """An API call failed; carries what the cloud said, never credentials."""

    def __init__(self, code: str | None, message: str, request_id: str | None = None,
                 http_status: int | None = None, action: str | None = None,
                 access_denied_detail: dict | None = None):
        self.code = code
        self.cloud_message = message
        self.request_id = request_id
        self.http_status = http_status
        self.action = action
        self.access_denied_detail = access_denied_detail
        where = f"{action}: " if action else ""
        rid = f" (request id {request_id})" if request_id and request_id != "None" else ""
        super().__init__(f"{where}{code or 'error'}: {message}{rid}")


class VerificationFailed(AcrxError):
    """acrx verify found a failing layer (exit 4)."""


class ChangesPending(AcrxError):
    """plan --detailed-exitcode found changes (exit 3); not an error to print."""
