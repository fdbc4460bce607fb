"""KubeError: one error type for the store and the server, rendered as a metav1 Status."""

from __future__ import annotations

from typing import Any


class KubeError(Exception):
    """An API error with the real HTTP code, `reason` and message text of kube-apiserver."""

    def __init__(self, status_code: int, reason: str, message: str, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.status_code = status_code
        self.reason = reason
        self.message = message
        self.details = details or {}

    def __repr__(self) -> str:
        return f"KubeError({self.status_code}, {self.reason!r}, {self.message!r})"

    def to_status(self) -> dict[str, Any]:
        status: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.status_code,
        }
        if self.details:
            status["details"] = self.details
        return status

    # Constructors named after the apimachinery helpers, so call sites read like the real server.
    @classmethod
    def not_found(cls, resource: str, name: str, group: str = "") -> "KubeError":
        qualified = f"{resource}.{group}" if group else resource
        return cls(404, "NotFound", f'{qualified} "{name}" not found',
                   {"name": name, "group": group, "kind": resource} if group else {"name": name, "kind": resource})

    @classmethod
    def already_exists(cls, resource: str, name: str, group: str = "") -> "KubeError":
        qualified = f"{resource}.{group}" if group else resource
        return cls(409, "AlreadyExists", f'{qualified} "{name}" already exists',
                   {"name": name, "group": group, "kind": resource} if group else {"name": name, "kind": resource})

    @classmethod
    def conflict(cls, resource: str, name: str, group: str = "", why: str | None = None) -> "KubeError":
        qualified = f"{resource}.{group}" if group else resource
        why = why or "the object has been modified; please apply your changes to the latest version and try again"
        return cls(409, "Conflict", f'Operation cannot be fulfilled on {qualified} "{name}": {why}',
                   {"name": name, "group": group, "kind": resource} if group else {"name": name, "kind": resource})

    @classmethod
    def bad_request(cls, message: str) -> "KubeError":
        return cls(400, "BadRequest", message)

    @classmethod
    def invalid(cls, kind: str, group: str, name: str, causes: list[tuple[str, str, str]]) -> "KubeError":
        """causes: (field, cause reason, message) such as ("spec.selector", "FieldValueRequired",
        "Required value")."""
        qualified = f"{kind}.{group}" if group else kind
        texts = [f"{field}: {message}" for field, _, message in causes]
        joined = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
        details: dict[str, Any] = {"name": name, "kind": kind,
                                   "causes": [{"reason": r, "message": m, "field": f} for f, r, m in causes]}
        if group:
            details["group"] = group
        return cls(422, "Invalid", f'{qualified} "{name}" is invalid: {joined}', details)
