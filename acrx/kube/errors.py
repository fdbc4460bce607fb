"""Errors from the Kubernetes API, in acrx's terms: the HTTP status and reason, never a token."""

from __future__ import annotations

from acrx.errors import AcrxError


class KubeError(AcrxError):
    """A Kubernetes API call failed. `status` is the HTTP status (None when no answer came)."""

    def __init__(self, operation: str, message: str, *, status: int | None = None,
                 reason: str | None = None, hint: str | None = None):
        self.operation = operation
        self.status = status
        self.reason = reason
        self.kube_message = message
        code = f"{status} {reason}" if status and reason else (str(status) if status else (reason or "error"))
        super().__init__(f"kubernetes {operation}: {code}: {message}", hint)

    @property
    def not_found(self) -> bool:
        return self.status == 404

    @property
    def conflict(self) -> bool:
        return self.status == 409


class KubeconfigError(KubeError):
    """The kubeconfig cannot be used (malformed, no current context, unsupported auth)."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__("kubeconfig", message, hint=hint)
