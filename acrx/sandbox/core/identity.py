"""Who is calling: principals, and the keyring that maps AccessKey ids to them."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Principal:
    account: str                    # the account uid
    kind: str                       # root | user | assumed-role
    name: str | None = None         # user name, or role name for assumed-role
    session: str | None = None      # role session name
    session_policy: str | None = None  # the Policy given to AssumeRole, narrowing the role
    source_arn: str | None = None   # who assumed the role (for GetCallerIdentity and audits)
    role_id: str | None = None
    user_id: str | None = None

    @property
    def arn(self) -> str:
        if self.kind == "root":
            return f"acs:ram::{self.account}:root"
        if self.kind == "user":
            return f"acs:ram::{self.account}:user/{self.name}"
        return f"acs:ram::{self.account}:assumed-role/{self.name}/{self.session}"

    @property
    def role_arn(self) -> str | None:
        return f"acs:ram::{self.account}:role/{self.name}" if self.kind == "assumed-role" else None


@dataclass
class Credential:
    access_key_id: str
    secret: str = field(repr=False)
    principal: Principal
    security_token: str | None = field(default=None, repr=False)
    expires_at: float | None = None
    active: bool = True
    created_at: float = 0.0


class Keyring:
    """Every AccessKey and STS credential the sandbox has issued, across accounts."""

    def __init__(self) -> None:
        self._by_id: dict[str, Credential] = {}
        self._lock = threading.Lock()

    def add(self, cred: Credential) -> Credential:
        with self._lock:
            self._by_id[cred.access_key_id] = cred
        return cred

    def get(self, access_key_id: str) -> Credential | None:
        with self._lock:
            return self._by_id.get(access_key_id)

    def remove(self, access_key_id: str) -> None:
        with self._lock:
            self._by_id.pop(access_key_id, None)

    def for_principal(self, account: str, kind: str, name: str | None) -> list[Credential]:
        with self._lock:
            return [c for c in self._by_id.values()
                    if c.principal.account == account and c.principal.kind == kind and c.principal.name == name]

    def clear(self) -> None:
        with self._lock:
            self._by_id.clear()
