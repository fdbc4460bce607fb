"""`acrx render <artifact>` and `acrx schema`: print artifacts offline from acrx.yaml and flags.

No credentials, no network. What is derivable offline (issuer URL, provider ARN from the uid,
default names) is derived; what is not must come from a flag, and a missing one is a usage
error naming the flag."""


import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from acrx import facts
from acrx.cli.options import DEFAULT_FILE, FileOpt, ModeOpt, NetworkOpt, PlainAkOpt, ScopeOpt, check_choice
from acrx.cli.root import app, app_context
from acrx.errors import UsageError

if TYPE_CHECKING:  # the model is imported when a command runs, not at `acrx --help`
    from acrx.config.model import AcrxConfig, Registry

render_app = typer.Typer(help="Print a policy, the ConfigMap or the addon config, offline.",
                         no_args_is_help=True, rich_markup_mode=None)
app.add_typer(render_app, name="render")

ClusterIdOpt = Annotated[Optional[str], typer.Option("--cluster-id", help="ACK cluster id.")]
RegionOpt = Annotated[Optional[str], typer.Option("--region", help="Cluster region.")]
InstanceIdOpt = Annotated[Optional[str], typer.Option("--instance-id", help="ACR EE instance id (first registry).")]
RegistryRegionOpt = Annotated[Optional[str], typer.Option("--registry-region", help="Instance region (first registry).")]
InstanceNameOpt = Annotated[Optional[str], typer.Option("--instance-name", help="Instance name (first registry).")]
DomainsOpt = Annotated[Optional[str], typer.Option("--domains", help="Comma-separated domains (first registry).")]
ClusterUidOpt = Annotated[Optional[str], typer.Option("--cluster-uid", help="Account id of the cluster account.")]
RegistryUidOpt = Annotated[Optional[str], typer.Option("--registry-uid", help="Account id of the registry account.")]
WorkerRoleOpt = Annotated[Optional[str], typer.Option("--worker-role-name", help="The cluster's worker RAM role name.")]
IssuerOpt = Annotated[Optional[str], typer.Option("--issuer", help="RRSA issuer URL (default: derived).")]


def _load(file: Path, mode: Optional[str] = None, network: Optional[str] = None, *,
          cluster_id: Optional[str] = None, region: Optional[str] = None,
          instance_id: Optional[str] = None, registry_region: Optional[str] = None,
          instance_name: Optional[str] = None, domains: Optional[str] = None) -> "AcrxConfig":
    from acrx.config.loader import load_config

    overrides = {
        "mode": mode, "network.mode": network, "cluster.id": cluster_id, "cluster.region": region,
        "registries[0].instance_id": instance_id, "registries[0].region": registry_region,
        "registries[0].instance_name": instance_name,
        "registries[0].domains": [d.strip() for d in domains.split(",") if d.strip()] if domains else None,
    }
    return load_config(file, overrides)


def _uid(flag_value: Optional[str], config_uid: Optional[str], flag: str, alias: str) -> str:
    uid = flag_value or config_uid
    if not uid:
        raise UsageError(f"needs the account id of account {alias!r}: give {flag} or accounts.{alias}.uid",
                         field=flag)
    if not facts.UID_RE.fullmatch(uid):
        raise UsageError(f"{uid[:40]!r} is not an Alibaba Cloud account id (expected 16 digits)", field=flag)
    return uid


def _cluster_uid(config: "AcrxConfig", flag_value: Optional[str]) -> str:
    return _uid(flag_value, config.cluster_account.uid, "--cluster-uid", config.cluster.account)


def _registry_uid(config: "AcrxConfig", registry: "Registry", flag_value: Optional[str]) -> str:
    return _uid(flag_value, config.registry_account(registry).uid, "--registry-uid", registry.account)


def _issuer(config: "AcrxConfig", flag_value: Optional[str]) -> str:
    return facts.first_issuer(flag_value) if flag_value else facts.issuer_url(config.cluster.region, config.cluster.id)


def _domains(registry: "Registry", index: int) -> list[str]:
    if registry.domains:
        return list(registry.domains)
    if registry.instance_name:
        return facts.default_domains(registry.instance_name, registry.region)
    raise UsageError(f"the domains of {registry.instance_id} are discovered online; offline give --domains "
                     f"(or --instance-name), or set registries[{index}].domains or instance_name in the file",
                     field="--domains")


def _worker_role_arn(config: "AcrxConfig", cluster_uid: str, name: Optional[str]) -> str:
    if not name:
        raise UsageError("worker-role mode needs the cluster's worker RAM role name (read from the cluster "
                         "online): give --worker-role-name", field="--worker-role-name")
    if not facts.ROLE_NAME_RE.fullmatch(name):
        raise UsageError(f"{name[:70]!r} is not a RAM role name", field="--worker-role-name")
    return facts.role_arn(cluster_uid, name)


def _access_key(config: "AcrxConfig", allow_plaintext: bool, err) -> tuple[str, str]:
    if not allow_plaintext:
        raise UsageError("access-key mode writes a registry AccessKey into the ConfigMap in plaintext; "
                         "pass --allow-plaintext-access-key to accept that", field="--allow-plaintext-access-key")
    names = config.addon.access_key
    key_id = os.environ.get(names.access_key_id_env)
    secret = os.environ.get(names.access_key_secret_env)
    for var, value in ((names.access_key_id_env, key_id), (names.access_key_secret_env, secret)):
        if not value:
            raise UsageError(f"environment variable {var} is not set (named by addon.access_key)",
                             field="addon.access_key")
    err.print("warning: the ConfigMap holds the registry AccessKey secret in plaintext; anyone who can "
              "read ConfigMaps in kube-system can read it", markup=False, highlight=False)
    return key_id, secret  # type: ignore[return-value]


def registry_entries(config: "AcrxConfig", *, cluster_uid: Optional[str], registry_uid: Optional[str],
                     access_key: Optional[tuple[str, str]] = None) -> list[dict]:
    """acr-registry-info entries for every registry, resolved offline, by the one function setup
    uses (acrx.steps.addon.entries.build_entries). Offline, acrx knows one AccessKey (from the
    environment): an entry takes the key of its own account, so access-key mode renders one
    registry account only."""
    from acrx.steps.addon.entries import build_entries

    access_keys = None
    if access_key is not None:
        aliases = list(dict.fromkeys(reg.account for reg in config.registries))
        if len(aliases) > 1:
            raise UsageError(f"access-key mode needs one AccessKey per registry account ({', '.join(aliases)}), "
                             "and offline acrx knows only the one in the environment",
                             field="registries", hint="run `acrx configmap apply --dry-run`, which reads each "
                                                      "account's key")
        access_keys = {aliases[0]: access_key}
    # Every missing input is reported in one error, not one per run: each lookup that fails is
    # noted and answered with a stand-in, and the entries are thrown away if any failed.
    missing: list[str] = []

    def noting(lookup, stand_in):
        def call(*args):
            try:
                return lookup(*args)
            except UsageError as exc:
                missing.append(str(exc))
                return stand_in
        return call

    entries = build_entries(config, cluster_uid=noting(lambda: _cluster_uid(config, cluster_uid), "0" * 16),
                            registry_uid=noting(lambda reg: _registry_uid(config, reg, registry_uid), "0" * 16),
                            domains=noting(lambda index: _domains(config.registries[index], index), []),
                            access_keys=access_keys)
    missing = list(dict.fromkeys(missing))
    if len(missing) == 1:
        raise UsageError(missing[0])
    if missing:
        raise UsageError(f"{len(missing)} inputs are missing: " + "; ".join(missing))
    return entries


@render_app.command("trust-policy")
def trust_policy(ctx: typer.Context, file: FileOpt = DEFAULT_FILE,
                 side: Annotated[str, typer.Option("--side", help="cluster | registry")] = ...,
                 mode: ModeOpt = None, cluster_uid: ClusterUidOpt = None,
                 worker_role_name: WorkerRoleOpt = None, issuer: IssuerOpt = None,
                 cluster_id: ClusterIdOpt = None, region: RegionOpt = None) -> None:
    """The trust policy of the cluster-side role (rrsa) or of the registry-side role."""
    from acrx.render.policies import cluster_trust_policy, policy_json, registry_trust_policy

    if side not in ("cluster", "registry"):
        raise UsageError(f"{side[:40]!r} is not cluster or registry", field="--side")
    config = _load(file, mode, cluster_id=cluster_id, region=region)
    if config.mode == "access-key":
        raise UsageError("access-key mode uses a RAM user, not roles: there is no trust policy", field="--mode")
    uid_a = _cluster_uid(config, cluster_uid)
    if side == "cluster":
        if config.mode != "rrsa":
            raise UsageError("the cluster-side role exists in rrsa mode only; worker-role mode uses the "
                             "cluster's worker role as it is", field="--side")
        doc = cluster_trust_policy(facts.oidc_provider_arn(uid_a, config.cluster.id), _issuer(config, issuer))
    elif config.mode == "rrsa":
        doc = registry_trust_policy(facts.role_arn(uid_a, config.cluster_role_name))
    else:
        doc = registry_trust_policy(_worker_role_arn(config, uid_a, worker_role_name))
    typer.echo(policy_json(doc), nl=False)


@render_app.command("pull-policy")
def pull_policy_cmd(ctx: typer.Context, file: FileOpt = DEFAULT_FILE, mode: ModeOpt = None,
                    registry_uid: RegistryUidOpt = None, pull_policy_scope: ScopeOpt = "instance") -> None:
    """The registry-side pull policy (cr:GetAuthorizationToken, ListInstanceEndpoint, PullRepository),
    scoped to the first registry's instance as setup applies it, or `--pull-policy-scope any`."""
    from acrx.render.policies import BROAD_PULL_WARNING, policy_json, pull_policy

    check_choice(pull_policy_scope, facts.PULL_POLICY_SCOPES, "--pull-policy-scope")
    if pull_policy_scope == "any":
        if file.exists():
            _load(file, mode)  # validate the file when there is one
        app_context(ctx).err.print(f"warning: {BROAD_PULL_WARNING}", highlight=False)
        typer.echo(policy_json(pull_policy()), nl=False)
        return
    config = _load(file, mode)
    reg = config.registries[0]
    document = pull_policy(region=reg.region, uid=_registry_uid(config, reg, registry_uid), instance_id=reg.instance_id)
    typer.echo(policy_json(document), nl=False)


@render_app.command("assume-policy")
def assume_policy_cmd(ctx: typer.Context, file: FileOpt = DEFAULT_FILE, mode: ModeOpt = None,
                      registry_uid: RegistryUidOpt = None) -> None:
    """The cluster-side permission to assume the registry role (roles.assume_policy custom)."""
    from acrx.render.policies import assume_role_permission_policy, policy_json

    config = _load(file, mode)
    if config.mode == "access-key":
        raise UsageError("access-key mode assumes no role", field="--mode")
    arns = [facts.role_arn(_registry_uid(config, reg, registry_uid), config.registry_role_name)
            for reg in config.registries]
    typer.echo(policy_json(assume_role_permission_policy(arns)), nl=False)


@render_app.command("configmap")
def configmap_cmd(ctx: typer.Context, file: FileOpt = DEFAULT_FILE, mode: ModeOpt = None,
                  network: NetworkOpt = None, cluster_uid: ClusterUidOpt = None,
                  registry_uid: RegistryUidOpt = None, domains: DomainsOpt = None,
                  instance_name: InstanceNameOpt = None, cluster_id: ClusterIdOpt = None,
                  region: RegionOpt = None, instance_id: InstanceIdOpt = None,
                  registry_region: RegistryRegionOpt = None, allow_plaintext_access_key: PlainAkOpt = False,
                  output: Annotated[str, typer.Option("-o", "--output", help="yaml | json")] = "yaml") -> None:
    """The kube-system/acr-configuration ConfigMap for the configured mode."""
    from acrx.render.configmap import configmap_data, configmap_manifest, configmap_yaml

    if output not in ("yaml", "json"):
        raise UsageError(f"{output[:40]!r} is not yaml or json", field="--output")
    config = _load(file, mode, network, cluster_id=cluster_id, region=region, instance_id=instance_id,
                   registry_region=registry_region, instance_name=instance_name, domains=domains)
    access_key = None
    if config.mode == "access-key":
        access_key = _access_key(config, allow_plaintext_access_key, app_context(ctx).err)
    entries = registry_entries(config, cluster_uid=cluster_uid, registry_uid=registry_uid, access_key=access_key)
    addon = config.addon
    manifest = configmap_manifest(configmap_data(
        entries, rrsa=config.mode == "rrsa", service_accounts=addon.service_accounts,
        watch_namespaces=addon.watch_namespaces, expiring_threshold=addon.expiring_threshold,
        notify_email=addon.notify_email))
    text = configmap_yaml(manifest) if output == "yaml" else json.dumps(manifest, indent=2) + "\n"
    typer.echo(text, nl=False)


@render_app.command("addon-config")
def addon_config_cmd(ctx: typer.Context, file: FileOpt = DEFAULT_FILE, mode: ModeOpt = None,
                     cluster_uid: ClusterUidOpt = None, registry_uid: RegistryUidOpt = None,
                     domains: DomainsOpt = None, instance_name: InstanceNameOpt = None,
                     cluster_id: ClusterIdOpt = None, region: RegionOpt = None,
                     instance_id: InstanceIdOpt = None, registry_region: RegistryRegionOpt = None) -> None:
    """The addon `config` JSON string: the managed addon's full config, or {"tokenMode": ...}."""
    from acrx.render.addon_config import managed_addon_config, self_managed_addon_config

    config = _load(file, mode, cluster_id=cluster_id, region=region, instance_id=instance_id,
                   registry_region=registry_region, instance_name=instance_name, domains=domains)
    if config.addon_flavour == "self-managed":
        typer.echo(self_managed_addon_config(config.token_mode or "auto"))
        return
    entries = registry_entries(config, cluster_uid=cluster_uid, registry_uid=registry_uid)
    addon = config.addon
    typer.echo(managed_addon_config(
        entries, enable_rrsa=config.mode == "rrsa", service_accounts=addon.service_accounts,
        watch_namespaces=addon.watch_namespaces, expiring_threshold=addon.expiring_threshold,
        notify_email=addon.notify_email))


@render_app.command("operator-policy")
def operator_policy_cmd(
        ctx: typer.Context, file: FileOpt = DEFAULT_FILE,
        account: Annotated[str, typer.Option("--account", help="cluster | registry: whose operator.")] = ...,
        mode: ModeOpt = None, network: NetworkOpt = None,
        read_only: Annotated[bool, typer.Option("--read-only", help="For plan, verify and doctor only.")] = False,
        explain: Annotated[bool, typer.Option("--explain", help="Print why each action and resource, not JSON.")] = False,
        selector: Annotated[bool, typer.Option(
            "--selector", help="Also what --cluster-selector needs: listing the account's clusters (cs:GetClusters on *).")] = False,
        worker_role_name: WorkerRoleOpt = None, cluster_id: ClusterIdOpt = None, region: RegionOpt = None,
        instance_id: InstanceIdOpt = None, registry_region: RegistryRegionOpt = None) -> None:
    """The least-privilege RAM policy of the person or pipeline running acrx in one account:
    setup and destroy, or with --read-only plan, verify and doctor."""
    from acrx.render.operator_policy import actions, operator_policy, render

    check_choice(account, ("cluster", "registry"), "--account")
    config = _load(file, mode, network, cluster_id=cluster_id, region=region, instance_id=instance_id,
                   registry_region=registry_region)
    document, rows = operator_policy(config, account, read_only=read_only, worker_role_name=worker_role_name,
                                     selector=selector)
    if explain:
        width = max(len(a) for a, _, _ in rows)
        for action, resource, why in rows:
            typer.echo(f"{action:<{width}}  {resource}\n{'':<{width}}  {why}")
        return
    typer.echo(render(document), nl=False)
    scope = "plan, verify and doctor" if read_only else "setup and destroy"
    app_context(ctx).err.print(f"{len(actions(document))} actions for {scope} in the {account} account "
                               f"({config.mode}, {config.network.mode}); --explain says why each is there",
                               highlight=False)


@app.command("schema")
def schema_cmd() -> None:
    """Print the JSON schema of acrx.yaml (for editor completion)."""
    from acrx.config.schema import config_json_schema_text

    typer.echo(config_json_schema_text(), nl=False)
