"""ClientToken: the same token with the same parameters answers the first result; the same token
with other parameters is refused.

Sources: "How to ensure idempotence" for ECS (alibabacloud.com/help/doc-detail/25693.html) and
for VPC (help.aliyun.com/knowledge_detail/36569.html): "If you provide a ClientToken that was
already used but other request parameters changed, [the service] returns
IdempotentParameterMismatch"; with the same parameters "the client receives the same result as
the first time, with no effect on the server's state". SignatureNonce, Timestamp and Signature
change on every retry and do not count. The SDK models (CreateRouteEntryRequest,
CreateVpcPeerConnectionRequest, CreateCenRequest, AddZoneRequest, ...) say the token is
"unique among different requests", ASCII only, and (PrivateZone) at most 64 characters.

Stricter readings where the documents say nothing ([?]):
- the token is scoped to the calling account and the product, not to one action or region: a
  token reused by another create of the same product counts as "other parameters";
- a token is remembered for the life of the sandbox (the cloud's retention window is not
  documented), and the first result is replayed even if that resource was deleted since;
- only successful calls are remembered: a failed create changed nothing, so a retry runs again;
- a token over 64 characters or not printable ASCII is refused as InvalidParameter.
Which actions honour a token is declared per route (`client_token=True`), from the SDK models.
"""

from __future__ import annotations

import copy
import hashlib
import threading

from acrx.sandbox.core.errors import ApiError

# Common parameters that differ on every attempt or only say who signs (not what is asked).
_NOT_PARAMETERS = frozenset({
    "Signature", "SignatureMethod", "SignatureVersion", "SignatureNonce", "SignatureType", "Timestamp",
    "AccessKeyId", "SecurityToken", "Format", "Version", "Action", "ClientToken",
})
MAX_TOKEN_LENGTH = 64


def token_of(req) -> str | None:
    token = req.params.get("ClientToken")
    if not token:
        return None
    if len(token) > MAX_TOKEN_LENGTH or not all(" " < ch <= "~" for ch in token):
        raise ApiError("InvalidParameter", "The specified parameter ClientToken is not valid: at most "
                       f"{MAX_TOKEN_LENGTH} printable ASCII characters.", 400)  # [?] exact code
    return token


def request_digest(req) -> str:
    """What "the same parameters" means: the action, the region and every business parameter."""
    parts = [req.action, req.region or ""]
    parts += [f"{k}={v}" for k, v in sorted(req.params.items()) if k not in _NOT_PARAMETERS]
    if req.body and not req.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        parts.append(hashlib.sha256(req.body).hexdigest())
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


class TokenLedger:
    """Tokens seen per (account, service): the request's digest and the first result."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, str, str], tuple[str, object]] = {}

    def replay(self, req, token: str):
        """The first result for this token, a copy; None when the token is new."""
        with self._lock:
            seen = self._seen.get((req.account, req.service, token))
        if seen is None:
            return None
        digest, result = seen
        if digest != request_digest(req):
            raise ApiError("IdempotentParameterMismatch", "The request uses the same client token as a "
                           "previous, but non-identical request.", 400)  # [?] status: 400 as for ECS
        return copy.deepcopy(result)

    def remember(self, req, token: str, result) -> None:
        with self._lock:
            self._seen.setdefault((req.account, req.service, token), (request_digest(req), copy.deepcopy(result)))

    def tokens(self) -> list[str]:
        """Every token remembered (for tests: did each create send one?)."""
        with self._lock:
            return [token for (_, _, token) in self._seen]

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()
