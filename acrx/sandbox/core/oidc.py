"""OIDC issuers the fake STS trusts, and RS256 JWTs signed and checked with `cryptography`.

A cluster with RRSA on publishes its service-account signing key under its issuer URL, as ACK
does through an OSS bucket; AssumeRoleWithOIDC looks the key up here, never in the cluster.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SigningKey:
    """An RSA key pair; generated once per cluster (2048 bits keeps start-up fast enough)."""

    def __init__(self, private_key: rsa.RSAPrivateKey | None = None):
        self.private_key = private_key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
        der = self.private_key.public_key().public_bytes(serialization.Encoding.DER,
                                                         serialization.PublicFormat.SubjectPublicKeyInfo)
        self.kid = b64url(hashlib.sha256(der).digest())[:43]

    def __repr__(self) -> str:
        return f"SigningKey(kid={self.kid!r})"

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        return self.private_key.public_key()

    def sign(self, claims: dict) -> str:
        header = {"alg": "RS256", "typ": "JWT", "kid": self.kid}
        signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
        signature = self.private_key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{b64url(signature)}"


class JwtError(ValueError):
    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason   # invalid | expired | unknown_key


def unverified_claims(token: str) -> tuple[dict, dict]:
    try:
        header_b64, claims_b64, _ = token.split(".")
        return json.loads(b64url_decode(header_b64)), json.loads(b64url_decode(claims_b64))
    except (ValueError, TypeError):
        raise JwtError("invalid", "The OIDC token is not a well-formed JWT.") from None


def verify(token: str, keys: dict[str, rsa.RSAPublicKey], now: float | None = None) -> dict:
    header, claims = unverified_claims(token)
    if header.get("alg") != "RS256":
        raise JwtError("invalid", "The OIDC token must be signed with RS256.")
    key = keys.get(header.get("kid", ""))
    if key is None:
        raise JwtError("unknown_key", "The OIDC token is not signed by a key of its issuer.")
    signing_input, _, signature = token.rpartition(".")
    try:
        key.verify(b64url_decode(signature), signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise JwtError("unknown_key", "The OIDC token signature does not verify.") from None
    now = time.time() if now is None else now
    if "exp" not in claims or now >= float(claims["exp"]):
        raise JwtError("expired", "The OIDC token is expired.")
    if "nbf" in claims and now + 60 < float(claims["nbf"]):
        raise JwtError("invalid", "The OIDC token is not valid yet.")
    return claims


class OidcIssuers:
    """issuer URL -> {kid: public key}: what is published, world-wide."""

    def __init__(self) -> None:
        self._keys: dict[str, dict[str, rsa.RSAPublicKey]] = {}
        self._lock = threading.Lock()

    def publish(self, issuer: str, key: SigningKey) -> None:
        with self._lock:
            self._keys.setdefault(issuer, {})[key.kid] = key.public_key

    def unpublish(self, issuer: str) -> None:
        with self._lock:
            self._keys.pop(issuer, None)

    def keys(self, issuer: str) -> dict[str, rsa.RSAPublicKey] | None:
        with self._lock:
            found = self._keys.get(issuer)
            return dict(found) if found is not None else None
