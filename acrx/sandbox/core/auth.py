"""Authenticate a call: find the key, check its signature, token and freshness."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from datetime import datetime, timezone

from acrx.sandbox.core import signing
from acrx.sandbox.core.errors import ApiError
from acrx.sandbox.core.identity import Credential, Principal

MAX_SKEW_S = 15 * 60


def _signature_mismatch(string_to_sign: str | None = None) -> ApiError:
    # The cloud appends its string to sign after a colon; the legacy core SDK splits on it.
    suffix = f" server string to sign is:{string_to_sign}" if string_to_sign else ""
    return ApiError("SignatureDoesNotMatch", "Specified signature does not match our calculation." + suffix, 400)


class NonceCache:
    """Signature nonces seen recently: a replayed request is refused, as the cloud does."""

    def __init__(self, size: int = 20000):
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def use(self, nonce: str) -> bool:
        with self._lock:
            if nonce in self._seen:
                return False
            self._seen[nonce] = None
            if len(self._seen) > self._size:
                self._seen.popitem(last=False)
            return True


class Authenticator:
    def __init__(self, world):
        self.world = world
        self.nonces = NonceCache()

    def authenticate(self, method: str, raw_path: str, query: dict[str, str], form: dict[str, str],
                     headers: dict[str, str], body: bytes) -> Principal | None:
        """The caller's principal, None for an unsigned call, or ApiError."""
        authorization = headers.get("authorization", "")
        if authorization.startswith(signing.ACS3):
            return self._acs3(method, raw_path, query, headers, body, authorization)
        if authorization.startswith("acs "):
            return self._roa_v1(method, raw_path, query, headers, authorization)
        if "Signature" in query or "Signature" in form:
            return self._rpc_v1(method, {**query, **form})
        return None

    # -- schemes --------------------------------------------------------------------------
    def _acs3(self, method, raw_path, query, headers, body, authorization) -> Principal:
        parts = signing.parse_acs3_authorization(authorization)
        if parts is None:
            raise ApiError("IncompleteSignature", "The Authorization header is malformed.", 400)
        cred = self._credential(parts["Credential"], headers.get("x-acs-security-token"))
        payload_hash = headers.get("x-acs-content-sha256", "")
        if payload_hash != hashlib.sha256(body).hexdigest():
            raise ApiError("SignatureDoesNotMatch", "x-acs-content-sha256 does not match the request body.", 400)
        signed = parts["SignedHeaders"]
        for needed in ("host", "x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-signature-nonce"):
            if needed in headers and needed not in signed.split(";"):
                raise ApiError("IncompleteSignature", f"The header {needed} must be signed.", 400)
        expected = signing.acs3_signature(cred.secret, method, raw_path, query, headers, signed, payload_hash)
        if not signing.constant_time_equal(expected, parts["Signature"]):
            raise _signature_mismatch()
        self._fresh(headers.get("x-acs-date"), headers.get("x-acs-signature-nonce"), iso=True)
        return cred.principal

    def _rpc_v1(self, method, params) -> Principal:
        params = dict(params)
        signature = params.pop("Signature", "")
        if "AccessKeyId" not in params:
            raise ApiError("MissingAccessKeyId", "AccessKeyId is mandatory for this action.", 400)
        cred = self._credential(params["AccessKeyId"], params.get("SecurityToken"))
        expected = signing.rpc_v1_signature(cred.secret, method, params)
        if not signing.constant_time_equal(expected, signature):
            raise _signature_mismatch(signing.rpc_v1_string_to_sign(method, params))
        self._fresh(params.get("Timestamp"), params.get("SignatureNonce"), iso=True)
        return cred.principal

    def _roa_v1(self, method, raw_path, query, headers, authorization) -> Principal:
        access_key_id, _, signature = authorization[4:].partition(":")
        cred = self._credential(access_key_id, headers.get("x-acs-security-token"))
        expected = signing.roa_v1_signature(cred.secret, method, raw_path, query, headers)
        if not signing.constant_time_equal(expected, signature):
            raise _signature_mismatch()
        self._fresh(None, headers.get("x-acs-signature-nonce"), iso=False)
        return cred.principal

    # -- shared checks --------------------------------------------------------------------
    def _credential(self, access_key_id: str, token: str | None) -> Credential:
        cred = self.world.keyring.get(access_key_id)
        if cred is None:
            raise ApiError("InvalidAccessKeyId.NotFound", "Specified access key is not found.", 404)
        if not cred.active:
            raise ApiError("InvalidAccessKeyId.Inactive", "Specified access key is disabled.", 403)
        if cred.security_token is not None:
            if not token:
                raise ApiError("MissingSecurityToken", "SecurityToken is mandatory for this access key.", 400)
            if not signing.constant_time_equal(token, cred.security_token):
                raise ApiError("InvalidSecurityToken.MismatchWithAccessKey",
                               "Specified SecurityToken mismatch with the AccessKey.", 400)
            if cred.expires_at is not None and self.world.clock.now() >= cred.expires_at:
                raise ApiError("InvalidSecurityToken.Expired", "Specified SecurityToken is expired.", 400)
        elif token:
            raise ApiError("InvalidSecurityToken.MismatchWithAccessKey",
                           "Specified SecurityToken mismatch with the AccessKey.", 400)
        return cred

    def _fresh(self, timestamp: str | None, nonce: str | None, *, iso: bool) -> None:
        if timestamp and iso:
            try:
                signed_at = datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
            except ValueError:
                raise ApiError("InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted.", 400) from None
            # Signing time is the caller's wall clock, not the sandbox clock that tests advance.
            if abs(time.time() - signed_at) > MAX_SKEW_S:
                raise ApiError("InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.", 400)
        if nonce and not self.nonces.use(nonce):
            raise ApiError("SignatureNonceUsed", "Specified signature nonce was used already.", 400)
