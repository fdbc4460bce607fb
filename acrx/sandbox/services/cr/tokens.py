"""Temporary registry credentials from GetAuthorizationToken, bound to the caller's identity.

The password is random and secret; the username is the fixed "cr_temp_user" the cloud returns.
A credential lives ExpiresInHours, but never longer than the STS session that asked for it
(documented), and the registry's login refuses it once that session has expired.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field

from acrx.sandbox.core import signing
from acrx.sandbox.core.identity import Principal

TEMP_USERNAME = "cr_temp_user"


def _key(password: str) -> str:
    """Stores are keyed by a hash, so no repr or dump of a backend shows a live password."""
    return hashlib.sha256(password.encode()).hexdigest()


@dataclass
class TempCredential:
    password: str = field(repr=False)
    principal: Principal
    instance_id: str
    region: str
    owner: str                      # the instance owner's account uid
    expires_at: float               # epoch seconds on the sandbox clock
    sts_access_key_id: str | None   # set when the caller signed with STS credentials


def caller_access_key_id(req) -> str | None:
    """The AccessKey id that signed this call (ACS3, RPC v1 or ROA v1)."""
    authorization = req.headers.get("authorization", "")
    parts = signing.parse_acs3_authorization(authorization)
    if parts is not None:
        return parts["Credential"]
    if authorization.startswith("acs "):
        return authorization[4:].partition(":")[0]
    return req.params.get("AccessKeyId")


def issue(world, backend, req, instance, hours: int) -> TempCredential:
    now = world.clock.now()
    expires_at = now + hours * 3600
    key_id = caller_access_key_id(req)
    cred = world.keyring.get(key_id) if key_id else None
    sts_key = None
    if cred is not None and cred.security_token is not None:
        sts_key = cred.access_key_id
        if cred.expires_at is not None:
            expires_at = min(expires_at, cred.expires_at)
    temp = TempCredential(secrets.token_urlsafe(32), req.principal, instance.instance_id, instance.region,
                          instance.account, expires_at, sts_key)
    # Forget expired ones so the store does not grow without bound.
    backend.tokens = {p: t for p, t in backend.tokens.items() if t.expires_at > now}
    backend.tokens[_key(temp.password)] = temp
    return temp


def lookup(world, password: str) -> TempCredential | None:
    for backend in world.backends("cr"):
        found = backend.tokens.get(_key(password))
        if found is not None:
            return found
    return None


def still_valid(world, temp: TempCredential) -> bool:
    now = world.clock.now()
    if now >= temp.expires_at:
        return False
    if temp.sts_access_key_id is not None:
        cred = world.keyring.get(temp.sts_access_key_id)
        if cred is None or not cred.active or (cred.expires_at is not None and now >= cred.expires_at):
            return False
    return True
