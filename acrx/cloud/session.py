"""Per-account SDK clients, created lazily and cached, pointed at the cloud or at the sandbox.

Real mode: each client's endpoint is pinned by acrx/cloud/endpoints.py (global hosts for RAM and
PrivateZone, regional `<product>.<region>.aliyuncs.com` for STS, CS, CR and VPC, central for CBN
and VpcPeer), not left to the SDKs' maps, which send RAM and PrivateZone to hosts that do not
exist in many regions.
Sandbox mode: every client uses the sandbox's single endpoint over plain HTTP.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
from typing import Any

from acrx.cloud import endpoints
from acrx.cloud.credentials import CredentialsFactory, account_region
from acrx.cloud.retry import RetryPolicy
from acrx.cloud.sandbox_target import SandboxTarget, is_loopback
from acrx.errors import UsageError

log = logging.getLogger("acrx.cloud")

CONNECT_TIMEOUT_MS = 5000
READ_TIMEOUT_MS = 20000
FALLBACK_REGION = "cn-hangzhou"  # RAM is global, but a client still needs a region (STS is regional)
REGION_HEADER = "x-acs-region-id"
PROXY_VARS = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy")

SDK_MODULES = {
    "ram": "alibabacloud_ram20150501",
    "sts": "alibabacloud_sts20150401",
    "cs": "alibabacloud_cs20151215",
    "cr": "alibabacloud_cr20181201",
    "vpc": "alibabacloud_vpc20160428",
    "vpcpeer": "alibabacloud_vpcpeer20220101",
    "cbn": "alibabacloud_cbn20170912",
    "pvtz": "alibabacloud_pvtz20180101",
}


def clear_proxy_env_for_loopback(endpoint: str, environ=os.environ) -> list[str]:
    """Drop HTTP(S)_PROXY from the environment when the target is loopback.

    The SDK transport (darabonba `Session.send`) reads HTTP(S)_PROXY itself and never applies
    NO_PROXY or Config.no_proxy, and an empty Config.http_proxy falls back to the environment,
    so a proxy set for the real internet would swallow sandbox calls (ProxyError). Loopback is
    never reached through a proxy, so the variables are removed for this process. Returns the
    names removed.
    """
    if not is_loopback(endpoint):
        return []
    removed = [name for name in PROXY_VARS if environ.pop(name, None) is not None]
    if removed:
        log.info("ignoring %s for the loopback sandbox endpoint", "/".join(removed))
    return removed


def quiet_sdk_debug_logs() -> None:
    """Keep the SDK's HTTP dumps off.

    With DEBUG=sdk in the environment, darabonba and Tea log every request and response at DEBUG
    on handlers they install at import, security tokens and freshly created AccessKey secrets
    included. Their loggers are forced to INFO after import (the import itself sets DEBUG).
    """
    importlib.import_module("darabonba.core")
    importlib.import_module("Tea.core")
    for name in ("darabonba-core", "alibabacloud-tea"):
        logger = logging.getLogger(name)
        # Only when it is not INFO already: setLevel clears every logger's cache under logging's
        # lock, and a fleet plan makes this call for each of its ~900 clients.
        if logger.level != logging.INFO:
            logger.setLevel(logging.INFO)


class CloudSession:
    def __init__(self, config, sandbox: SandboxTarget | None = None, *,
                 retry_policy: RetryPolicy | None = None, credentials: CredentialsFactory | None = None,
                 connect_timeout_ms: int = CONNECT_TIMEOUT_MS, read_timeout_ms: int = READ_TIMEOUT_MS):
        self.config = config
        self.sandbox = sandbox
        self.retry_policy = retry_policy or RetryPolicy()
        self.credentials = credentials or CredentialsFactory(config, sandbox)
        self.connect_timeout_ms = connect_timeout_ms
        self.read_timeout_ms = read_timeout_ms
        self._accounts: dict[str, AccountClients] = {}
        self._uids: dict[str, str] = {}
        self._lock = threading.RLock()
        # A fleet plan shares one acrx.cloud.read_memo.ReadMemo across its clusters' sessions
        # while they only read (acrx.cli.fleet_flow.plan_member); None otherwise.
        self.read_memo = None
        if sandbox is not None:
            clear_proxy_env_for_loopback(sandbox.endpoint)

    def account(self, alias: str) -> "AccountClients":
        with self._lock:
            if alias not in self._accounts:
                if alias not in self.config.accounts:
                    raise UsageError(f"account {alias!r} is not defined under accounts", field="accounts")
                self._accounts[alias] = AccountClients(self, alias)
            return self._accounts[alias]

    def uid(self, alias: str) -> str:
        """The account id behind `alias`, from GetCallerIdentity (once), checked against config."""
        with self._lock:
            if alias in self._uids:
                return self._uids[alias]
        learned = self.account(alias).sts_api.caller_identity().account_id
        configured = self.config.accounts[alias].uid
        if configured is not None and configured != learned:
            raise UsageError(f"is {configured} but the credentials of account {alias!r} "
                             f"({self.credentials.describe(alias)}) belong to account {learned}",
                             field=f"accounts.{alias}.uid",
                             hint="fix the uid or the credentials so that both name the same account")
        with self._lock:
            self._uids[alias] = learned
        return learned

    def same_account(self, a: str | None = None, b: str | None = None) -> bool:
        """True when both aliases (default: the cluster's and the first registry's) are one account."""
        a = a or self.config.cluster.account
        b = b or self.config.registries[0].account
        return a == b or self.uid(a) == self.uid(b)

    def home_region(self, alias: str) -> str:
        return account_region(self.config, alias, default=self.config.cluster.region or FALLBACK_REGION)

    def tea_config(self, alias: str, region: str, product: str | None = None):
        """The tea Config for one client of `alias` in `region` (no credentials printed anywhere)."""
        return self._tea_config(region, credential=self.credentials.client(alias), product=product)

    def cr_api_with_key(self, region: str, key: tuple[str, str, str | None]):
        """A CR adapter signing with a key acrx was handed (an STS session or an AccessKey), reaching
        the same endpoint as every other client of this session."""
        from alibabacloud_cr20181201.client import Client

        from acrx.cloud.cr import CrApi

        ak, sk, token = key
        config = self._tea_config(region, access_key_id=ak, access_key_secret=sk, security_token=token,
                                  product="cr")
        return CrApi(lambda: Client(config), self.retry_policy, region=region)

    def _tea_config(self, region: str, product: str | None = None, **credentials):
        from alibabacloud_tea_openapi import models as open_api_models

        kwargs: dict[str, Any] = dict(region_id=region, connect_timeout=self.connect_timeout_ms,
                                      read_timeout=self.read_timeout_ms, **credentials)
        if product is not None and self.sandbox is None:
            kwargs["endpoint"] = endpoints.endpoint(product, region)
        if self.sandbox is not None:
            kwargs.update(endpoint=self.sandbox.endpoint, protocol="http")
            # The sandbox has one endpoint for every region; in the cloud the regional host
            # (cs.cn-beijing.aliyuncs.com) says which region a call is for. This header stands in
            # for that host. It is an x-acs-* header, so ACS3 signs it like the rest.
            kwargs["global_parameters"] = open_api_models.GlobalParameters(headers={REGION_HEADER: region})
        return open_api_models.Config(**kwargs)


class AccountClients:
    """SDK clients (and acrx adapters over them) for one account alias, cached per product/region."""

    def __init__(self, session: CloudSession, alias: str):
        self.session = session
        self.alias = alias
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    @property
    def retry_policy(self) -> RetryPolicy:
        return self.session.retry_policy

    def client(self, product: str, region: str | None = None):
        region = region or self.session.home_region(self.alias)
        key = (product, region)
        with self._lock:
            if key not in self._clients:
                module = importlib.import_module(SDK_MODULES[product] + ".client")
                quiet_sdk_debug_logs()
                client = module.Client(self.session.tea_config(self.alias, region, product))
                # For the NoPermission message (errors.explain_no_permission): whose client this is.
                client.acrx_account = self.alias
                client.acrx_side = "cluster" if self.alias == self.session.config.cluster.account else "registry"
                client.acrx_session = self.session   # its read_memo, if a fleet plan set one (adapter.py)
                self._clients[key] = client
            return self._clients[key]

    # SDK clients ---------------------------------------------------------------------------------
    def ram(self):
        return self.client("ram")

    def sts(self):
        return self.client("sts")

    def cs(self, region: str):
        return self.client("cs", region)

    def cr(self, region: str):
        return self.client("cr", region)

    def vpc(self, region: str):
        return self.client("vpc", region)

    def vpcpeer(self, region: str | None = None):
        return self.client("vpcpeer", region)

    def cbn(self, region: str | None = None):
        return self.client("cbn", region)

    def pvtz(self, region: str | None = None):
        return self.client("pvtz", region)

    # adapters -------------------------------------------------------------------------------------
    @property
    def ram_api(self):
        from acrx.cloud.ram import RamApi

        return RamApi(self.ram, self.retry_policy)

    @property
    def sts_api(self):
        from acrx.cloud.sts import StsApi

        return StsApi(self.sts, self.retry_policy, sts_endpoint=self.session.credentials.sts_endpoint)

    def cs_api(self, region: str):
        from acrx.cloud.cs import CsApi

        return CsApi(lambda: self.cs(region), self.retry_policy, region=region)

    def cr_api(self, region: str):
        from acrx.cloud.cr import CrApi

        return CrApi(lambda: self.cr(region), self.retry_policy, region=region)
