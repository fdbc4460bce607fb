"""The whole fake cloud's state: accounts, keys, clock, knobs, and per-service backends.

moto's shape: `backend(service, account, region)` lazily builds one model object per account
and region (global services use region "global"). `reset()` empties everything in one call.
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass, field
from typing import Any

from acrx.sandbox.core.calllog import CallLog
from acrx.sandbox.core.clock import Clock
from acrx.sandbox.core.identity import Credential, Keyring, Principal
from acrx.sandbox.core.idempotency import TokenLedger
from acrx.sandbox.core.ids import IdFactory
from acrx.sandbox.core.knobs import Knobs
from acrx.sandbox.core.oidc import OidcIssuers
from acrx.sandbox.core.qps import QpsLimiter
from acrx.sandbox.core.policy import ALLOW, IMPLICIT_DENY, evaluate

# service key -> module holding `Backend` (models) ; the api module is `<pkg>.api`
SERVICES = {
    "ram": "acrx.sandbox.services.ram",
    "sts": "acrx.sandbox.services.sts",
    "cs": "acrx.sandbox.services.cs",
    "cr": "acrx.sandbox.services.cr",
    "vpc": "acrx.sandbox.services.vpc",
    "vpcpeer": "acrx.sandbox.services.vpcpeer",
    "cbn": "acrx.sandbox.services.cbn",
    "pvtz": "acrx.sandbox.services.pvtz",
}
GLOBAL = "global"


@dataclass
class Account:
    uid: str
    alias: str
    home_region: str
    root_key: Credential = field(repr=False, default=None)  # type: ignore[assignment]


class World:
    def __init__(self, seed: int = 0, clock_scale: float = 0.0):
        self.seed = seed
        self.clock = Clock(clock_scale)
        self.knobs = Knobs(seed=seed)
        self.tokens = TokenLedger()     # ClientTokens seen, per account and product
        self.calls = CallLog()
        self.qps = QpsLimiter()         # per-account, per-API QPS counting (knobs.qps_limits)
        self.keyring = Keyring()
        self.ids = IdFactory(seed)
        self.lock = threading.RLock()   # model operations are serialised: simple and race-free
        self.accounts: dict[str, Account] = {}
        self._backends: dict[tuple[str, str, str], Any] = {}
        self.hooks: dict[str, Any] = {}  # cross-component hooks (e.g. the kube clusters)
        self.oidc = OidcIssuers()

    # -- accounts -------------------------------------------------------------------------
    def add_account(self, alias: str, home_region: str, uid: str | None = None) -> Account:
        uid = uid or self.ids.digits(16)
        key = Credential(access_key_id="SBX" + self.ids.alnum(21, "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"),
                         secret=self.ids.alnum(30, "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"),
                         principal=Principal(account=uid, kind="root"), created_at=self.clock.now())
        self.keyring.add(key)
        account = Account(uid=uid, alias=alias, home_region=home_region, root_key=key)
        self.accounts[uid] = account
        return account

    def account_by_alias(self, alias: str) -> Account:
        for account in self.accounts.values():
            if account.alias == alias:
                return account
        raise KeyError(alias)

    # -- backends -------------------------------------------------------------------------
    def backend(self, service: str, account: str, region: str | None):
        module = importlib.import_module(SERVICES[service] + ".models")
        backend_cls = module.Backend
        region = GLOBAL if getattr(backend_cls, "GLOBAL", False) else (region or self.accounts[account].home_region)
        key = (service, account, region)
        with self.lock:
            if key not in self._backends:
                self._backends[key] = backend_cls(self, account, region)
            return self._backends[key]

    def backends(self, service: str) -> list[Any]:
        with self.lock:
            return [b for (s, _, _), b in self._backends.items() if s == service]

    def reset(self) -> None:
        """Forget every resource, account, key and call."""
        with self.lock:
            self._backends.clear()
            self.accounts.clear()
            self.keyring.clear()
            self.calls.clear()
            self.tokens.clear()
            self.hooks.clear()
            self.oidc = OidcIssuers()
            self.ids = IdFactory(self.seed)
            self.knobs = Knobs(seed=self.seed)

    # -- authorization --------------------------------------------------------------------
    def decide(self, principal: Principal | None, action: str, resource: str, context: dict | None = None) -> str:
        """Identity-policy decision for `principal` (root accounts may do anything)."""
        if principal is None:
            return IMPLICIT_DENY
        if principal.kind == "root":
            return ALLOW
        ram = self.backend("ram", principal.account, GLOBAL)
        documents = ram.policy_documents_for(principal)
        decision = evaluate(documents, action, resource, context)
        if decision == ALLOW and principal.session_policy:
            decision = evaluate([principal.session_policy], action, resource, context)
        return decision

    def visible(self, created_at: float) -> bool:
        """Eventual consistency: is something created at `created_at` seen by reads yet?"""
        return self.clock.now() >= created_at + self.knobs.consistency_delay_s
