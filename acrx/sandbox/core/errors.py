"""Typed errors of the fake cloud; rendered into the wire shape in one place (server.py)."""

from __future__ import annotations


class ApiError(Exception):
    """An error the cloud answers with: a code, a message and an HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400, *,
                 access_denied_detail: dict | None = None, retry_after_ms: int | None = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.access_denied_detail = access_denied_detail
        self.retry_after_ms = retry_after_ms


def missing_parameter(name: str) -> ApiError:
    return ApiError("MissingParameter", f"The input parameter \"{name}\" that is mandatory for processing this request is not supplied.", 400)


def invalid_parameter(name: str, detail: str = "") -> ApiError:
    msg = f"The specified parameter \"{name}\" is not valid."
    return ApiError(f"InvalidParameter.{name}" if name else "InvalidParameter", f"{msg} {detail}".strip(), 400)


def no_permission(action: str, resource: str, principal_arn: str, policy_type: str = "ImplicitDeny") -> ApiError:
    detail = {
        "PolicyType": "AccountLevelIdentityBasedPolicy",
        "NoPermissionType": policy_type,
        "AuthPrincipalType": "SubUser" if ":user/" in principal_arn else "AssumedRoleUser",
        "AuthPrincipalDisplayName": principal_arn.rsplit("/", 1)[-1],
        "AuthAction": action,
        "AuthResource": resource,
    }
    return ApiError(
        "NoPermission",
        "You are not authorized to do this action. You should be authorized by RAM.",
        403,
        access_denied_detail=detail,
    )


def throttled() -> ApiError:
    return ApiError("Throttling.User", "Request was denied due to user flow control.", 400)


def service_unavailable() -> ApiError:
    return ApiError("ServiceUnavailable", "The request has failed due to a temporary failure of the server.", 503)
