"""The acrx.yaml model: pydantic v2, frozen, unknown keys rejected everywhere.

Field names are a contract other modules use. Cross-field rules raise FieldProblem so the
one-line error names the exact field (see acrx.config.errors)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Optional

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from acrx import facts
from acrx.config import defaults, formats
from acrx.config.echo import echo
from acrx.config.errors import FieldProblem

ClusterId = Annotated[str, AfterValidator(formats.cluster_id)]
InstanceId = Annotated[str, AfterValidator(formats.instance_id)]
Region = Annotated[str, AfterValidator(formats.region)]
Uid = Annotated[str, AfterValidator(formats.uid)]
RoleName = Annotated[str, AfterValidator(formats.role_name)]
PolicyName = Annotated[str, AfterValidator(formats.policy_name)]
RoleArn = Annotated[str, AfterValidator(formats.role_arn)]
Namespace = Annotated[str, AfterValidator(formats.namespace)]
ServiceAccountName = Annotated[str, AfterValidator(formats.service_account)]
Hostname = Annotated[str, AfterValidator(formats.hostname)]
Duration = Annotated[str, AfterValidator(formats.duration)]
VerifyTimeout = Annotated[str, AfterValidator(formats.verify_timeout)]
Email = Annotated[str, AfterValidator(formats.email)]
Image = Annotated[str, AfterValidator(formats.image)]
EnvName = Annotated[str, AfterValidator(formats.env_name)]
Alias = Annotated[str, AfterValidator(formats.alias)]
SessionDuration = Annotated[int, Field(ge=facts.MAX_SESSION_MIN, le=facts.MAX_SESSION_MAX)]

SOURCE_KINDS = ("profile", "env", "assume_role", "oidc", "ecs_ram_role", "default")
Mode = Literal["rrsa", "worker-role", "access-key"]
NetworkMode = Literal["public", "peering", "cen", "none"]


def _sa_or_all(value: str) -> str:
    return value if value == facts.ALL_SERVICE_ACCOUNTS else formats.service_account(value)


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EnvSource(_Frozen):
    """Names of environment variables (never the values) holding an AccessKey."""
    access_key_id: EnvName = Field(defaults.DEFAULT_ENV_ACCESS_KEY_ID, description="Env var with the AccessKey id.")
    access_key_secret: EnvName = Field(defaults.DEFAULT_ENV_ACCESS_KEY_SECRET,
                                       description="Env var with the AccessKey secret.")
    security_token: Optional[EnvName] = Field(None, description="Env var with an STS token, if any.")


class AssumeRoleSource(_Frozen):
    """Credentials from assuming a RAM role (for example an admin role in account B)."""
    role_arn: RoleArn = Field(description="acs:ram::<uid>:role/<name> to assume.")
    source: str = Field(description="Account alias, or profile:NAME, whose credentials assume the role.")
    session_name: Annotated[str, AfterValidator(formats.session_name)] = Field(
        "acrx", description="RoleSessionName, 2-64 characters.")
    external_id: Optional[Annotated[str, AfterValidator(formats.external_id)]] = Field(
        None, description="ExternalId the role's trust policy requires, if any.")

    @model_validator(mode="after")
    def _source_form(self) -> "AssumeRoleSource":
        if self.source.startswith("profile:"):
            try:
                formats.profile(self.source[len("profile:"):])
            except ValueError as exc:
                raise FieldProblem("source", str(exc)) from None
        else:
            try:
                formats.alias(self.source)
            except ValueError:
                raise FieldProblem("source", f"{echo(self.source)} is neither an account alias nor profile:NAME") from None
        return self


def _oidc_provider_arn(value: str) -> str:
    if not isinstance(value, str) or not facts.OIDC_PROVIDER_ARN_RE.fullmatch(value):
        raise ValueError(f"{echo(value)} is not an OIDC provider ARN (expected acs:ram::<uid>:oidc-provider/<name>)")
    return value


def _token_file(value: str) -> str:
    if not isinstance(value, str) or not value.strip() or "\x00" in value or len(value) > 4096:
        raise ValueError(f"{echo(value)} is not a file path")
    return value


class OidcSource(_Frozen):
    """A RAM role assumed with an OIDC token from a file (AssumeRoleWithOIDC), e.g. a CI job's token."""
    role_arn: RoleArn = Field(description="acs:ram::<uid>:role/<name> that trusts the OIDC provider.")
    provider_arn: Annotated[str, AfterValidator(_oidc_provider_arn)] = Field(
        description="acs:ram::<uid>:oidc-provider/<name> registered for the token's issuer.")
    token_file: Annotated[str, AfterValidator(_token_file)] = Field(
        description="File holding the OIDC token (re-read at each refresh).")
    session_name: Annotated[str, AfterValidator(formats.session_name)] = Field(
        "acrx", description="RoleSessionName, 2-64 characters.")


class EcsRamRoleSource(_Frozen):
    """The RAM role of the ECS instance acrx runs on, from the instance metadata service."""
    role_name: RoleName = Field(description="The instance RAM role's name.")


class Account(_Frozen):
    """One credential source: profile, env, assume_role, oidc, ecs_ram_role or default (the
    alibabacloud-credentials default chain); with none given, env with standard names."""
    uid: Optional[Uid] = Field(None, description="Account id; checked later against GetCallerIdentity.")
    profile: Optional[Annotated[str, AfterValidator(formats.profile)]] = Field(
        None, description="aliyun CLI profile name.")
    env: Optional[EnvSource] = Field(None, description="Environment variable names.")
    assume_role: Optional[AssumeRoleSource] = Field(None, description="A RAM role assumed from another source.")
    oidc: Optional[OidcSource] = Field(None, description="A RAM role assumed with an OIDC token file (CI).")
    ecs_ram_role: Optional[EcsRamRoleSource] = Field(None, description="The ECS instance RAM role.")
    default: Optional[Literal[True]] = Field(
        None, description="true: the credentials library's default chain (env keys, OIDC variables, CLI "
                          "config, credentials file, ECS instance role, credentials URI).")

    @model_validator(mode="after")
    def _one_source(self) -> "Account":
        given = [k for k in SOURCE_KINDS if getattr(self, k) is not None]
        if len(given) > 1:
            raise FieldProblem(given[1], f"an account has one credential source; {' and '.join(given)} both given")
        return self

    @property
    def source_kind(self) -> str:
        if self.profile is not None:
            return "profile"
        for kind in ("assume_role", "oidc", "ecs_ram_role", "default"):
            if getattr(self, kind) is not None:
                return kind
        return "env"

    @property
    def env_source(self) -> EnvSource:
        return self.env or EnvSource()


class Cluster(_Frozen):
    """The ACK cluster (account A)."""
    account: Alias = Field(defaults.DEFAULT_CLUSTER_ACCOUNT, description="Account alias owning the cluster.")
    id: ClusterId = Field(description="ACK cluster id.")
    region: Region = Field(description="Cluster region.")


class Registry(_Frozen):
    """One ACR Enterprise Edition instance (account B); one acr-registry-info entry."""
    account: Alias = Field(defaults.DEFAULT_REGISTRY_ACCOUNT, description="Account alias owning the instance.")
    instance_id: InstanceId = Field(description="ACR Enterprise Edition instance id.")
    region: Region = Field(description="Instance region.")
    # pydantic's patterns run in Rust's regex engine, where `$` is the end of the text only.
    instance_name: Optional[Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")]] = Field(
        None, description="Instance name; discovered when not given.")
    domains: list[Hostname] = Field(default_factory=list,
                                    description="Domains pods pull from; default all internet and VPC domains.")
    expire_duration: SessionDuration = Field(facts.DEFAULT_EXPIRE_DURATION,
                                             description="Seconds; at most roles.max_session_duration.")

    @model_validator(mode="after")
    def _unique_domains(self) -> "Registry":
        if len(set(self.domains)) != len(self.domains):
            raise FieldProblem("domains", "lists a domain twice")
        return self


class Roles(_Frozen):
    """RAM names; the defaults are derived from the ids, so no state file is needed."""
    cluster_role: Optional[RoleName] = Field(None, description="Default acrx-rrsa-<cluster id> (rrsa mode).")
    registry_role: Optional[RoleName] = Field(None, description="Default acrx-pull-<cluster id>.")
    pull_policy: Optional[PolicyName] = Field(None, description="Default acrx-pull-<instance id> per registry.")
    assume_policy: Literal["custom", "system"] = Field(
        "custom", description="custom: sts:AssumeRole on the registry role only; system: AliyunSTSAssumeRoleAccess.")
    pull_policy_scope: Literal["instance", "any"] = Field(
        "instance", description="instance: the pull policy names this instance's repositories; any: every "
                                "instance, as the documentation's example does.")
    max_session_duration: Optional[SessionDuration] = Field(
        None, description="Registry role MaxSessionDuration; default the largest expire_duration.")


class AccessKeyEnv(_Frozen):
    """access-key mode: names of the env vars holding account B's AccessKey for the ConfigMap."""
    access_key_id_env: EnvName = Field(defaults.DEFAULT_AK_ID_ENV, description="Env var with the AccessKey id.")
    access_key_secret_env: EnvName = Field(defaults.DEFAULT_AK_SECRET_ENV,
                                           description="Env var with the AccessKey secret.")


class Addon(_Frozen):
    """The aliyun-acr-credential-helper component and what it writes."""
    flavour: Optional[Literal["managed", "self-managed"]] = Field(
        None, description="Default managed for rrsa, self-managed otherwise.")
    service_accounts: list[Annotated[str, AfterValidator(_sa_or_all)]] = Field(
        default_factory=lambda: ["default"], min_length=1, json_schema_extra={"default": ["default"]},
        description="SAs patched with the pull secret, or ['*'].")
    watch_namespaces: list[Namespace] = Field(
        default_factory=lambda: ["default"], min_length=1, json_schema_extra={"default": ["default"]},
        description="Namespaces watched, or ['all'].")
    expiring_threshold: Duration = Field("15m", description="Refresh this long before expiry.")
    notify_email: Optional[Email] = Field(None, description="Address the component notifies.")
    token_mode: Optional[Literal["auto", "managedRole", "workerRole"]] = Field(
        None, description="Self-managed only; default auto (rrsa, access-key) or workerRole (worker-role).")
    access_key: AccessKeyEnv = Field(default_factory=AccessKeyEnv,
                                     description="access-key mode: env var names of the registry AccessKey.")

    @model_validator(mode="after")
    def _wildcards_alone(self) -> "Addon":
        if facts.ALL_SERVICE_ACCOUNTS in self.service_accounts and len(self.service_accounts) > 1:
            raise FieldProblem("service_accounts", "'*' means every service account and cannot be mixed with names")
        if facts.ALL_NAMESPACES in self.watch_namespaces and len(self.watch_namespaces) > 1:
            raise FieldProblem("watch_namespaces", "'all' means every namespace and cannot be mixed with names")
        for name, values in (("service_accounts", self.service_accounts), ("watch_namespaces", self.watch_namespaces)):
            if len(set(values)) != len(values):
                raise FieldProblem(name, "lists a name twice")
        return self


class Network(_Frozen):
    """How the nodes reach the registry."""
    mode: NetworkMode = Field("peering", description="How nodes reach the registry.")
    allow_any_source: bool = Field(False, description="public: permit 0.0.0.0/0 in the ACL.")
    route_to: Literal["endpoint", "vpc"] = Field("endpoint", description="peering/cen: route the endpoint /32 or B's VPC.")
    registry_vpc_id: Optional[Annotated[str, AfterValidator(formats.vpc_id)]] = Field(
        None, description="peering/cen: B's VPC to link; default the instance's linked VPC.")
    registry_vswitch_id: Optional[Annotated[str, AfterValidator(formats.vswitch_id)]] = Field(
        None, description="peering/cen: vSwitch in B's VPC for the endpoint link.")
    cen_id: Optional[Annotated[str, AfterValidator(formats.cen_id)]] = Field(None, description="cen: reuse this CEN.")
    private_zone: bool = Field(True, description="Create PrivateZone records for the VPC domain when needed.")
    create_zone_vswitch: bool = Field(
        False, description="cen: create a small vSwitch where a VPC lacks one in a zone the transit router needs.")

    @model_validator(mode="after")
    def _options_fit_mode(self) -> "Network":
        if self.allow_any_source and self.mode != "public":
            raise FieldProblem("allow_any_source", f"applies to network mode public only, not {self.mode}")
        if self.cen_id is not None and self.mode != "cen":
            raise FieldProblem("cen_id", f"applies to network mode cen only, not {self.mode}")
        if self.create_zone_vswitch and self.mode != "cen":
            raise FieldProblem("create_zone_vswitch", f"applies to network mode cen only, not {self.mode}")
        if self.mode not in ("peering", "cen"):
            for name in ("registry_vpc_id", "registry_vswitch_id"):
                if getattr(self, name) is not None:
                    raise FieldProblem(name, f"applies to network modes peering and cen only, not {self.mode}")
        return self


class Verify(_Frozen):
    """acrx verify: the test Deployment that proves a pod pulls."""
    image: Optional[Image] = Field(None, description="Image the test Deployment pulls.")
    namespace: Namespace = Field("default", description="Namespace of the test Deployment.")
    service_account: ServiceAccountName = Field("default", description="Service account of the test pods.")
    timeout: VerifyTimeout = Field("5m", description="How long verify waits for the pull; at most 1h.")


class AcrxConfig(_Frozen):
    version: Literal[1] = Field(1, description="Config format version.")
    mode: Mode = Field("rrsa", description="How the helper gets registry credentials.")
    accounts: dict[Alias, Account] = Field(
        default_factory=lambda: {defaults.DEFAULT_CLUSTER_ACCOUNT: Account(),
                                 defaults.DEFAULT_REGISTRY_ACCOUNT: Account()},
        description="Alias -> credential source; default `cluster` and `registry`, both from env.")
    cluster: Cluster = Field(description="The ACK cluster.")
    registries: list[Registry] = Field(min_length=1, description="ACR EE instances; `registry:` is shorthand for one.")
    roles: Roles = Field(default_factory=Roles, description="RAM role and policy names.")
    addon: Addon = Field(default_factory=Addon, description="The credential helper component.")
    network: Network = Field(default_factory=Network, description="Network path from nodes to the registry.")
    verify: Verify = Field(default_factory=Verify, description="The end-to-end pull proof.")

    @model_validator(mode="before")
    @classmethod
    def _registry_shorthand(cls, data: Any) -> Any:
        if isinstance(data, dict) and "registry" in data:
            if "registries" in data:
                raise FieldProblem("registry", "give either registry or registries, not both")
            data = dict(data)
            one = data.pop("registry")
            data["registries"] = [one] if isinstance(one, dict) else one
        return data

    @model_validator(mode="after")
    def _cross_field_rules(self) -> "AcrxConfig":
        self._check_accounts()
        seen: set[str] = set()
        for i, reg in enumerate(self.registries):
            if reg.instance_id in seen:
                raise FieldProblem(f"registries[{i}].instance_id", f"{reg.instance_id!r} is listed twice")
            seen.add(reg.instance_id)
            limit = self.roles.max_session_duration
            if limit is not None and reg.expire_duration > limit:
                raise FieldProblem(f"registries[{i}].expire_duration",
                                   f"{reg.expire_duration} is above roles.max_session_duration ({limit})")
        self._check_addon()
        return self

    def _check_accounts(self) -> None:
        refs = [("cluster.account", self.cluster.account)]
        refs += [(f"registries[{i}].account", r.account) for i, r in enumerate(self.registries)]
        for field, name in refs:
            if name not in self.accounts:
                raise FieldProblem(field, f"account {name!r} is not defined under accounts")
        for alias, acct in self.accounts.items():
            chain, current = [alias], acct
            while current.assume_role is not None and not current.assume_role.source.startswith("profile:"):
                src = current.assume_role.source
                if src not in self.accounts:
                    raise FieldProblem(f"accounts.{alias}.assume_role.source",
                                       f"account {src!r} is not defined under accounts")
                if src in chain:
                    raise FieldProblem(f"accounts.{alias}.assume_role.source",
                                       f"assume_role sources loop: {' -> '.join(chain + [src])}")
                chain.append(src)
                current = self.accounts[src]

    def _check_addon(self) -> None:
        flavour, mode, token = self.addon.flavour, self.mode, self.addon.token_mode
        if flavour is not None and flavour not in facts.FLAVOURS_FOR_MODE[mode]:
            raise FieldProblem("addon.flavour", f"the {flavour} addon does not support {mode} mode "
                               f"(it supports rrsa only); use self-managed")
        if token is not None and self.addon_flavour == "managed":
            raise FieldProblem("addon.token_mode", "applies to the self-managed addon only, "
                               "not the managed one")
        if token == "workerRole" and mode == "rrsa":
            raise FieldProblem("addon.token_mode", "workerRole contradicts rrsa mode; use auto")
        if token is not None and mode == "worker-role" and token != "workerRole":
            raise FieldProblem("addon.token_mode", f"worker-role mode needs workerRole, not {token}")

    # --- derived values used by steps and renderers ------------------------------------------
    @property
    def addon_flavour(self) -> str:
        return self.addon.flavour or defaults.addon_flavour(self.mode)

    @property
    def token_mode(self) -> str | None:
        """The self-managed tokenMode; None for the managed addon."""
        if self.addon_flavour == "managed":
            return None
        return self.addon.token_mode or defaults.token_mode(self.mode)

    @property
    def cluster_role_name(self) -> str:
        return self.roles.cluster_role or defaults.cluster_role_name(self.cluster.id)

    @property
    def registry_role_name(self) -> str:
        return self.roles.registry_role or defaults.registry_role_name(self.cluster.id)

    def pull_policy_name(self, registry: Registry | None = None) -> str:
        reg = registry or self.registries[0]
        if self.roles.pull_policy is not None and reg.instance_id == self.registries[0].instance_id:
            return self.roles.pull_policy
        return defaults.pull_policy_name(reg.instance_id)

    @property
    def assume_policy_name(self) -> str:
        if self.roles.assume_policy == "system":
            return facts.SYSTEM_ASSUME_POLICY
        return defaults.assume_policy_name(self.cluster.id)

    @property
    def access_key_user_name(self) -> str:
        return defaults.access_key_user_name(self.cluster.id)

    @property
    def max_session_duration(self) -> int:
        return self.roles.max_session_duration or max(r.expire_duration for r in self.registries)

    @property
    def cluster_account(self) -> Account:
        return self.accounts[self.cluster.account]

    def registry_account(self, registry: Registry | None = None) -> Account:
        return self.accounts[(registry or self.registries[0]).account]

    @property
    def registry(self) -> Registry:
        """The first registry, for the common one-instance case."""
        return self.registries[0]

    @property
    def expiring_threshold_seconds(self) -> int:
        return formats.duration_seconds(self.addon.expiring_threshold)

    @property
    def verify_timeout_seconds(self) -> int:
        return formats.duration_seconds(self.verify.timeout)
