"""What aliyun-acr-credential-helper reads (its settings) and does (its credential chain).

Settings come from the `kube-system/acr-configuration` ConfigMap (self-managed edition) or the
managed addon's config JSON. The chain runs as a real client of the sandbox cloud over HTTP
with the official SDKs: RRSA (AssumeRoleWithOIDC, then AssumeRole), worker role (the node's
instance-metadata credentials, then AssumeRole) or an AccessKey; then GetAuthorizationToken.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml

HELPER_NAME = "aliyun-acr-credential-helper"
OIDC_SUBJECT = f"system:serviceaccount:kube-system:{HELPER_NAME}"
OIDC_AUDIENCE = "sts.aliyuncs.com"
DEFAULT_EXPIRE_S = 3600
DEFAULT_THRESHOLD = "15m"


class ConfigError(ValueError):
    pass


class ChainError(Exception):
    """A failed step, with the cloud's code and message (never a secret)."""

    def __init__(self, step: str, code: str, message: str):
        super().__init__(f"{step}: {code}: {message}")
        self.step, self.code, self.message = step, code, message


@dataclass(frozen=True)
class RegistryEntry:
    instance_id: str
    region: str
    domains: tuple[str, ...] = ()
    assume_role_arn: str = ""
    expire_duration: int = DEFAULT_EXPIRE_S
    rrsa_role_arn: str = ""
    rrsa_provider_arn: str = ""
    custom_access_key: str = ""
    custom_access_key_secret: str = field(default="", repr=False)


@dataclass(frozen=True)
class HelperSettings:
    entries: tuple[RegistryEntry, ...]
    rrsa: bool
    namespaces: str          # "all" or comma-separated names
    service_accounts: str    # "*" or comma-separated names
    threshold_s: float

    def watched(self, existing: list[str]) -> list[str]:
        # Documented: `all` means every namespace. [?] whether the component skips kube-system
        # with `all` is not documented; the sandbox follows the wording and skips nothing.
        if self.namespaces.strip() == "all":
            return sorted(existing)
        wanted = [n.strip() for n in self.namespaces.split(",") if n.strip()]
        return [n for n in wanted if n in existing]

    def accounts(self, existing: list[str]) -> list[str]:
        if self.service_accounts.strip() == "*":
            return sorted(existing)
        wanted = [n.strip() for n in self.service_accounts.split(",") if n.strip()]
        return [n for n in wanted if n in existing]


def parse_duration(text: str) -> float:
    """Go's time.ParseDuration for the units the component's users write (h, m, s)."""
    text = str(text).strip()
    parts = re.findall(r"(\d+(?:\.\d+)?)(h|m|s|ms)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ConfigError(f'time: invalid duration "{text}"')
    unit = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    return sum(float(n) * unit[u] for n, u in parts)


def _entry(raw: dict, region: str) -> RegistryEntry:
    if not isinstance(raw, dict):
        raise ConfigError("each acr-registry-info item must be a map")
    domains = tuple(d.strip() for d in str(raw.get("domains") or "").split(",") if d.strip())
    try:
        expire = int(raw.get("expireDuration") or DEFAULT_EXPIRE_S)
    except (TypeError, ValueError):
        raise ConfigError(f"expireDuration must be an integer, not {raw.get('expireDuration')!r}") from None
    return RegistryEntry(
        instance_id=str(raw.get("instanceId") or ""), region=str(raw.get("regionId") or region),
        domains=domains, assume_role_arn=str(raw.get("assumeRoleARN") or ""), expire_duration=expire,
        rrsa_role_arn=str(raw.get("rrsaRoleARN") or ""),
        rrsa_provider_arn=str(raw.get("rrsaOIDCProviderRoleARN") or ""),
        custom_access_key=str(raw.get("customAccessKey") or ""),
        custom_access_key_secret=str(raw.get("customAccessKeySecret") or ""))


def from_configmap(data: dict, region: str) -> HelperSettings:
    """Settings of the self-managed component from `acr-configuration` data."""
    try:
        items = yaml.safe_load(data.get("acr-registry-info") or "") or []
        rrsa_doc = yaml.safe_load(data.get("rrsa") or "") or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"cannot parse acr-configuration: {exc}".splitlines()[0]) from None
    if not isinstance(items, list):
        raise ConfigError("acr-registry-info must be a YAML list")
    rrsa = bool(rrsa_doc.get("enable")) if isinstance(rrsa_doc, dict) else False
    return HelperSettings(tuple(_entry(i, region) for i in items), rrsa,
                          str(data.get("watch-namespace") or "default"),
                          str(data.get("service-account") or "default"),
                          parse_duration(data.get("expiring-threshold") or DEFAULT_THRESHOLD))


def from_addon_config(config: dict, region: str) -> HelperSettings:
    """Settings of the managed component from its addon config (already parsed JSON)."""
    items = config.get("AcrInstanceInfo") or []
    if not isinstance(items, list):
        raise ConfigError("AcrInstanceInfo must be a list")
    return HelperSettings(tuple(_entry(i, region) for i in items), bool(config.get("enableRRSA")),
                          str(config.get("watchNamespace") or "default"),
                          str(config.get("serviceAccount") or "default"),
                          parse_duration(config.get("expiringThreshold") or DEFAULT_THRESHOLD))


# -- the chain over HTTP -------------------------------------------------------------------------
@dataclass(frozen=True)
class Key:
    access_key_id: str
    secret: str = field(repr=False)
    token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class RegistryLogin:
    username: str
    password: str = field(repr=False)
    expires_at: float = 0.0   # epoch seconds (the cloud's ExpireTime)


def _config(endpoint: str, region: str, key: Key | None):
    from alibabacloud_tea_openapi import models as open_api_models

    kwargs = dict(endpoint=endpoint, protocol="http", region_id=region, read_timeout=10000, connect_timeout=5000)
    if key is not None:
        kwargs.update(access_key_id=key.access_key_id, access_key_secret=key.secret, security_token=key.token)
    return open_api_models.Config(**kwargs)


def _cloud_error(step: str, exc: Exception) -> ChainError:
    code = getattr(exc, "code", None) or type(exc).__name__
    data = getattr(exc, "data", None)
    message = (data or {}).get("Message") if isinstance(data, dict) else None
    if not message:
        message = str(getattr(exc, "message", "") or exc).split(" request id:")[0]
    return ChainError(step, str(code), str(message))


def assume_role_with_oidc(endpoint: str, region: str, role_arn: str, provider_arn: str, token: str) -> Key:
    from alibabacloud_sts20150401 import models as sts_models
    from alibabacloud_sts20150401.client import Client

    try:
        body = Client(_config(endpoint, region, None)).assume_role_with_oidc(sts_models.AssumeRoleWithOIDCRequest(
            role_arn=role_arn, oidcprovider_arn=provider_arn, oidctoken=token,
            role_session_name=HELPER_NAME)).body
    except Exception as exc:  # the SDK raises one exception type per transport and API error
        raise _cloud_error("AssumeRoleWithOIDC", exc) from None
    c = body.credentials
    return Key(c.access_key_id, c.access_key_secret, c.security_token)


def assume_role(endpoint: str, region: str, key: Key, role_arn: str, duration: int) -> Key:
    from alibabacloud_sts20150401 import models as sts_models
    from alibabacloud_sts20150401.client import Client

    try:
        body = Client(_config(endpoint, region, key)).assume_role(sts_models.AssumeRoleRequest(
            role_arn=role_arn, role_session_name=HELPER_NAME, duration_seconds=duration)).body
    except Exception as exc:
        raise _cloud_error("AssumeRole", exc) from None
    c = body.credentials
    return Key(c.access_key_id, c.access_key_secret, c.security_token)


def list_domains(endpoint: str, region: str, key: Key, instance_id: str) -> tuple[str, ...]:
    """Every domain of the instance's endpoints (what `domains` defaults to)."""
    from alibabacloud_cr20181201 import models as cr_models
    from alibabacloud_cr20181201.client import Client

    try:
        body = Client(_config(endpoint, region, key)).list_instance_endpoint(
            cr_models.ListInstanceEndpointRequest(instance_id=instance_id)).body
    except Exception as exc:
        raise _cloud_error("ListInstanceEndpoint", exc) from None
    if body.is_success is False:
        raise ChainError("ListInstanceEndpoint", body.code or "UNKNOWN", "the call did not succeed")
    return tuple(d.domain for e in body.endpoints or [] for d in e.domains or [] if d.domain)


def authorization_token(endpoint: str, region: str, key: Key, instance_id: str) -> RegistryLogin:
    from alibabacloud_cr20181201 import models as cr_models
    from alibabacloud_cr20181201.client import Client

    try:
        body = Client(_config(endpoint, region, key)).get_authorization_token(
            cr_models.GetAuthorizationTokenRequest(instance_id=instance_id)).body
    except Exception as exc:
        raise _cloud_error("GetAuthorizationToken", exc) from None
    if body.is_success is False or not body.authorization_token:
        raise ChainError("GetAuthorizationToken", body.code or "UNKNOWN", "the call did not succeed")
    return RegistryLogin(body.temp_username, body.authorization_token, (body.expire_time or 0) / 1000.0)
