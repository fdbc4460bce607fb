"""Credentials per account alias, from the config's source, through alibabacloud_credentials.

Sources (acrx.config.model.Account):
- `profile`: an aliyun CLI profile by name. Trap: a CLI RamRoleArn/ChainableRamRoleArn profile
  always calls the real `sts.<region>.aliyuncs.com` and cannot be redirected, so profiles are
  refused in sandbox mode (they would send real keys out, or fail).
- `env`: the NAMED variables, read when the provider is first needed (not at import: the
  credentials library snapshots its own standard variables at import time, which is why acrx
  never relies on them). In sandbox mode a name the sandbox's env file defines is read from
  that file instead of os.environ.
- `assume_role`: RamRoleArnCredentialsProvider over the source provider (another alias or
  `profile:NAME`) with an explicit `sts_endpoint`; in sandbox mode `http://<sandbox endpoint>`.
- `oidc`, `ecs_ram_role`, `default`: see acrx/cloud/credential_sources.py. Under --sandbox `oidc`
  goes through the sandbox's STS, `ecs_ram_role` is refused (the metadata service is the real
  instance's), `default` only when it resolves to environment keys or the OIDC variables.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from acrx.cloud.errors import register_secret
from acrx.cloud.sandbox_target import SandboxTarget
from acrx.errors import UsageError

SENSITIVE = "(sensitive)"
DEFAULT_ASSUME_DURATION_S = 3600
STS_CONNECT_TIMEOUT_MS = 5000
STS_READ_TIMEOUT_MS = 15000


class Secret:
    """A secret value: str, repr and format all give "(sensitive)"; only `reveal()` gives it."""

    __slots__ = ("_value",)

    def __init__(self, value: Any):
        self._value = value
        if isinstance(value, str):
            register_secret(value)

    def reveal(self) -> Any:
        return self._value

    def __str__(self) -> str:
        return SENSITIVE

    __repr__ = __str__

    def __format__(self, spec: str) -> str:
        return SENSITIVE

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __bool__(self) -> bool:
        return bool(self._value)


class CredentialsFactory:
    """Builds (once) and caches a credentials provider per account alias."""

    def __init__(self, config, sandbox: SandboxTarget | None = None, *,
                 environ: dict[str, str] | None = None):
        self.config = config
        self.sandbox = sandbox
        self._environ = environ  # None = os.environ, read at call time
        self._providers: dict[str, Any] = {}
        self._lock = threading.RLock()

    # -- public --------------------------------------------------------------------------------
    def provider(self, alias: str):
        with self._lock:
            if alias not in self._providers:
                self._providers[alias] = self._build(alias, chain=())
            return self._providers[alias]

    def client(self, alias: str):
        """A credentials Client (what tea Config.credential takes) for the alias."""
        from alibabacloud_credentials.client import Client as CredentialClient

        return CredentialClient(provider=self.provider(alias))

    def describe(self, alias: str) -> str:
        """Where the alias's credentials come from, for messages (never a value)."""
        account = self._account(alias)
        kind = account.source_kind
        if kind == "profile":
            return f"aliyun CLI profile {account.profile!r}"
        if kind == "assume_role":
            return f"role {account.assume_role.role_arn} assumed from {account.assume_role.source}"
        if kind == "oidc":
            return f"role {account.oidc.role_arn} assumed with the OIDC token in {account.oidc.token_file}"
        if kind == "ecs_ram_role":
            return f"ECS instance role {account.ecs_ram_role.role_name}"
        if kind == "default":
            return "the default credentials chain"
        env = account.env_source
        return f"environment variables {env.access_key_id}/{env.access_key_secret}"

    @property
    def sts_endpoint(self) -> str | None:
        return self.sandbox.url if self.sandbox else None

    # -- building ------------------------------------------------------------------------------
    def _account(self, alias: str):
        try:
            return self.config.accounts[alias]
        except KeyError:
            raise UsageError(f"account {alias!r} is not defined under accounts", field="accounts") from None

    def _build(self, alias: str, chain: tuple[str, ...]):
        if alias in chain:
            raise UsageError(f"assume_role sources loop: {' -> '.join(chain + (alias,))}",
                             field=f"accounts.{alias}.assume_role.source")
        account = self._account(alias)
        kind = account.source_kind
        if kind == "profile":
            return self._profile(account.profile, f"accounts.{alias}.profile")
        if kind == "env":
            return self._env(alias, account.env_source)
        if kind in ("oidc", "ecs_ram_role", "default"):
            return self._other(alias, kind, account)
        role = account.assume_role
        field = f"accounts.{alias}.assume_role.source"
        if role.source.startswith("profile:"):
            source = self._profile(role.source[len("profile:"):], field)
        else:
            source = self._providers.get(role.source) or self._build(role.source, chain + (alias,))
        return self._assume(source, role, alias)

    def _profile(self, name: str, field: str):
        if self.sandbox is not None:
            raise UsageError(f"the aliyun CLI profile {name!r} cannot be pointed at the sandbox (CLI "
                             "role profiles always call the real STS); use the env source that "
                             "`acrx sandbox up` writes", field=field)
        from alibabacloud_credentials.provider import CLIProfileCredentialsProvider

        _check_cli_profile(name, field)
        return CLIProfileCredentialsProvider(profile_name=name)

    def _lookup(self, name: str) -> str | None:
        if self.sandbox is not None and self.sandbox.has(name):
            return self.sandbox.value(name)
        environ = self._environ if self._environ is not None else os.environ
        return environ.get(name)

    def _env(self, alias: str, env):
        values = {}
        for attr in ("access_key_id", "access_key_secret"):
            name = getattr(env, attr)
            value = self._lookup(name)
            if not value:
                where = " (nor in the sandbox's env file)" if self.sandbox is not None else ""
                raise UsageError(f"environment variable {name} is not set{where}; it holds the "
                                 f"{attr.replace('_', ' ')} of account {alias!r}",
                                 field=f"accounts.{alias}.env.{attr}")
            values[attr] = value
        token = self._lookup(env.security_token) if env.security_token else None
        if env.security_token and not token:
            raise UsageError(f"environment variable {env.security_token} is not set; it holds the STS "
                             f"token of account {alias!r}", field=f"accounts.{alias}.env.security_token")
        register_secret(values["access_key_secret"])
        register_secret(token)
        if token:
            from alibabacloud_credentials.provider import StaticSTSCredentialsProvider

            return StaticSTSCredentialsProvider(security_token=token, **values)
        from alibabacloud_credentials.provider import StaticAKCredentialsProvider

        return StaticAKCredentialsProvider(**values)

    def _other(self, alias: str, kind: str, account):
        from acrx.cloud import credential_sources as cs

        environ = self._environ if self._environ is not None else os.environ
        field = f"accounts.{alias}.{kind}"
        timeouts = dict(connect_ms=STS_CONNECT_TIMEOUT_MS, read_ms=STS_READ_TIMEOUT_MS)
        sts = self.sts_endpoint or real_sts_endpoint(environ.get("ALIBABA_CLOUD_STS_REGION") or self._region_of(alias))
        if kind == "oidc":
            o = account.oidc
            return cs.oidc_provider(role_arn=o.role_arn, provider_arn=o.provider_arn, token_file=o.token_file,
                                    session_name=o.session_name, sts_endpoint=sts, field=f"{field}.token_file",
                                    **timeouts)
        if kind == "ecs_ram_role":
            if self.sandbox is not None:
                raise UsageError("the ECS instance role comes from the instance's metadata service and cannot be "
                                 "pointed at the sandbox", field=field,
                                 hint="use the env or oidc source that `acrx sandbox up` writes")
            return cs.ecs_provider(account.ecs_ram_role.role_name, f"{field}.role_name", environ)
        return cs.default_provider(environ=environ, sandbox=self.sandbox is not None, sts_endpoint=sts, field=field,
                                   lookup=environ.get, **timeouts)

    def _assume(self, source, role, alias: str):
        from alibabacloud_credentials.http import HttpOptions
        from alibabacloud_credentials.provider import RamRoleArnCredentialsProvider

        kwargs: dict[str, Any] = dict(
            credentials_provider=source, role_arn=role.role_arn, role_session_name=role.session_name,
            duration_seconds=DEFAULT_ASSUME_DURATION_S, external_id=role.external_id,
            http_options=HttpOptions(connect_timeout=STS_CONNECT_TIMEOUT_MS, read_timeout=STS_READ_TIMEOUT_MS))
        # Always explicit: the library's default reads ALIBABA_CLOUD_STS_REGION snapshotted at import.
        # An "http://" prefix wins over the library's hard-coded https (sandbox only).
        kwargs["sts_endpoint"] = self.sts_endpoint or real_sts_endpoint(self._region_of(alias))
        return RamRoleArnCredentialsProvider(**kwargs)

    def _region_of(self, alias: str) -> str | None:
        return account_region(self.config, alias)


def account_region(config, alias: str, default: str | None = None) -> str | None:
    """The region an account alias works in: the cluster's, else its first registry's, else `default`."""
    if config.cluster.account == alias:
        return config.cluster.region
    for reg in config.registries:
        if reg.account == alias:
            return reg.region
    return default


def real_sts_endpoint(region: str | None) -> str:
    return f"sts.{region}.aliyuncs.com" if region else "sts.aliyuncs.com"


def _check_cli_profile(name: str, field: str) -> None:
    """The SDK's own error for a missing CLI config or profile names neither the config field nor
    the fix; this says both before any call. Only profile names are read, never a key."""
    import json

    from alibabacloud_credentials.utils import auth_constant

    path = os.path.join(auth_constant.HOME or "~", ".aliyun", "config.json")
    fix = f"run aliyun configure --profile {name}"
    try:
        with open(path, encoding="utf-8") as handle:
            profiles = json.load(handle).get("profiles") or []
    except FileNotFoundError:
        raise UsageError(f"no aliyun CLI config at {path}; {fix}", field=field) from None
    except (OSError, ValueError, AttributeError) as exc:
        raise UsageError(f"cannot read the aliyun CLI config {path} ({type(exc).__name__}); {fix}",
                         field=field) from None
    if not any(isinstance(p, dict) and p.get("name") == name for p in profiles):
        raise UsageError(f"the aliyun CLI config {path} has no profile {name!r}; {fix}", field=field)
