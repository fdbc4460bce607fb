"""`acrx init`: write a commented, valid acrx.yaml for the chosen mode and network."""


from pathlib import Path
from typing import Annotated, Optional

import typer

from acrx import facts
from acrx.cli.root import app, app_context
from acrx.config import defaults
from acrx.errors import UsageError

# Placeholders are valid values so the file loads as written; comments say to replace them.
PLACEHOLDER_CLUSTER_ID = "c0123456789abcdef0123456789abcdef"
PLACEHOLDER_INSTANCE_ID = "cri-0123456789abcdef"

_MODE_NOTES = {
    "rrsa": "RRSA: the helper's service account token is exchanged for account A's role, which\n"
            "# assumes the registry role in account B. Recommended.",
    "worker-role": "worker-role: the cluster's worker RAM role assumes the registry role in account B.\n"
                   "# Needs the self-managed addon with tokenMode workerRole.",
    "access-key": "access-key: a RAM user AccessKey of account B is stored in the ConfigMap IN PLAINTEXT.\n"
                  "# Rendering it needs --allow-plaintext-access-key.",
}
_NETWORK_NOTES = {
    "public": "the registry's internet endpoint, with an ACL of the cluster's egress IPs",
    "peering": "a VPC peering connection between the cluster VPC and the registry's linked VPC",
    "cen": "a CEN transit router joining both VPCs",
    "none": "acrx changes nothing in the network (you already have a path)",
}


PLACEHOLDER_SECOND_CLUSTER_ID = "c1123456789abcdef0123456789abcdef"


def _cluster_lines(cluster_id: str, region: str, fleet: bool) -> list[str]:
    placeholder = "   # replace with your cluster id" if cluster_id == PLACEHOLDER_CLUSTER_ID else ""
    if not fleet:
        return ["cluster:", "  account: cluster", f"  id: {cluster_id}{placeholder}", f"  region: {region}"]
    # A fleet (docs/fleet.md): the rest of the file is shared; each entry may override mode,
    # network, namespaces and verify. Accounts may be many: add an alias per workload account.
    return [
        "clusters:                     # a fleet: run it with `acrx fleet plan|setup|verify|destroy`",
        "  - account: cluster",
        f"    id: {cluster_id}{placeholder}",
        f"    region: {region}",
        "    name: first               # shown in plans and tables; default the id",
        "    # --cluster-selector env=prod matches the cluster's tags in ACK (not kept here)",
        "  - account: cluster          # or another alias under accounts:",
        f"    id: {PLACEHOLDER_SECOND_CLUSTER_ID}   # replace with your second cluster's id, or remove this entry",
        f"    region: {region}",
        "    name: second",
        "    # mode: worker-role        # per-cluster overrides: mode, network, namespaces, verify",
        "    # network: public",
        "    # namespaces: [apps]",
    ]


def init_template(mode: str, network: str, *, cluster_id: str, region: str,
                  instance_id: str, registry_region: str, fleet: bool = False) -> str:
    flavour = defaults.addon_flavour(mode)
    lines = [
        "# acrx.yaml: cross-account image pulls from ACR Enterprise Edition (account B, `registry`)",
        "# to an ACK cluster (account A, `cluster`). Reference: docs/configuration.md.",
        "# Print the JSON schema for editor completion with: acrx schema",
        "version: 1",
        f"# {_MODE_NOTES[mode]}",
        f"mode: {mode}",
        "accounts:",
        "  # Each alias has ONE credential source: profile, env (names of env vars) or assume_role.",
        "  # uid: online, acrx reads each account's id (GetCallerIdentity) and, when uid is set, checks it;",
        "  # offline, `acrx render` needs it: uncomment it with your account ids (or pass --cluster-uid).",
        "  cluster:",
        "    env: {access_key_id: ALIBABA_CLOUD_ACCESS_KEY_ID, access_key_secret: ALIBABA_CLOUD_ACCESS_KEY_SECRET}",
        "    # uid: \"1234567890123456\"   # account A's id",
        "  registry:",
        "    profile: registry         # an aliyun CLI profile; replace with yours",
        "    # uid: \"6543210987654321\"   # account B's id",
        *_cluster_lines(cluster_id, region, fleet),
        "registries:                   # one entry per ACR EE instance",
        "  - account: registry",
        f"    instance_id: {instance_id}"
        + ("   # replace with your instance id" if instance_id == PLACEHOLDER_INSTANCE_ID else ""),
        f"    region: {registry_region}",
        "    # instance_name: acme      # discovered online; `acrx render` needs it offline (or domains, or --instance-name)",
        "    # domains: []              # optional; default all internet and VPC domains of the instance",
        f"    expire_duration: {facts.DEFAULT_EXPIRE_DURATION}      # seconds, 3600..43200",
        "roles:",
        "  # Names default to acrx-rrsa-<cluster id>, acrx-pull-<cluster id>, acrx-pull-<instance id>.",
        "  assume_policy: custom       # custom (sts:AssumeRole on the registry role only) | system",
        "addon:",
        # Left commented: the default follows the mode, so `--mode` on a command still works.
        f"  # flavour: {flavour}       # default: managed for rrsa (rrsa only), self-managed otherwise",
        "  service_accounts: [default] # or [\"*\"] for every service account",
        "  watch_namespaces: [default] # or [all]; avoid system namespaces",
        "  expiring_threshold: 15m",
    ]
    if flavour == "self-managed":
        lines.append(f"  # token_mode: {defaults.token_mode(mode)}   # self-managed addon; default follows the mode")
    if mode == "access-key":
        lines += ["  access_key:                 # env vars with acrx's pull user's AccessKey, never an account's own",
                  f"    access_key_id_env: {defaults.DEFAULT_AK_ID_ENV}",
                  f"    access_key_secret_env: {defaults.DEFAULT_AK_SECRET_ENV}"]
    lines += [
        "network:",
        f"  # {network}: {_NETWORK_NOTES[network]}",
        f"  mode: {network}",
    ]
    if network == "public":
        lines.append("  allow_any_source: false    # true permits 0.0.0.0/0 in the ACL")
    if network in ("peering", "cen"):
        lines += ["  route_to: endpoint         # endpoint (/32 of the VPC endpoint) | vpc (whole VPC CIDR)",
                  "  private_zone: true         # create PrivateZone records for the VPC domain"]
    lines += [
        "verify:",
        "  # image: <name>-registry-vpc.<region>.cr.aliyuncs.com/<namespace>/<repo>:<tag>",
        "  namespace: default",
        "  service_account: default",
        "  timeout: 5m",
    ]
    return "\n".join(lines) + "\n"


@app.command("init")
def init(ctx: typer.Context,
         mode: Annotated[str, typer.Option("--mode", help="rrsa | worker-role | access-key")] = "rrsa",
         network: Annotated[str, typer.Option("--network", help="public | peering | cen | none")] = "peering",
         file: Annotated[Path, typer.Option("-f", "--file", help="File to write.")] = Path(defaults.DEFAULT_CONFIG_FILE),
         force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
         cluster_id: Annotated[Optional[str], typer.Option("--cluster-id")] = None,
         region: Annotated[Optional[str], typer.Option("--region")] = None,
         instance_id: Annotated[Optional[str], typer.Option("--instance-id")] = None,
         registry_region: Annotated[Optional[str], typer.Option("--registry-region")] = None,
         fleet: Annotated[bool, typer.Option("--fleet", help="Write a fleet config (clusters:, docs/fleet.md).")] = False
         ) -> None:
    """Write a commented acrx.yaml for the chosen mode and network."""
    import yaml

    from acrx.config.loader import load_config

    from acrx.config import formats
    from acrx.config.echo import clean, echo

    # Every bad flag in one error. Checked before templating: a value with a newline would write
    # extra YAML keys into the file.
    problems: list[tuple[str, str]] = []
    if mode not in facts.MODES:
        problems.append(("--mode", f"{echo(mode)} is not one of {', '.join(facts.MODES)}"))
    if network not in facts.NETWORK_MODES:
        problems.append(("--network", f"{echo(network)} is not one of {', '.join(facts.NETWORK_MODES)}"))
    for flag, value, check in (("--cluster-id", cluster_id, formats.cluster_id), ("--region", region, formats.region),
                               ("--instance-id", instance_id, formats.instance_id),
                               ("--registry-region", registry_region, formats.region)):
        try:
            if value is not None:
                check(value)
        except ValueError as exc:
            problems.append((flag, str(exc)))
    if len(problems) == 1:
        raise UsageError(problems[0][1], field=problems[0][0])
    if problems:
        raise UsageError(f"{len(problems)} flags are wrong: " + "; ".join(f"{f}: {m}" for f, m in problems))
    if file.exists() and not force:
        raise UsageError(f"{clean(str(file))} exists; pass --force to overwrite it", field="-f/--file")
    if not file.parent.is_dir():   # before anything is asked or written: one line, exit 2
        raise UsageError(f"cannot write {clean(str(file))}: the directory {clean(str(file.parent))} does not exist",
                         field="-f/--file", hint=f"create {clean(str(file.parent))} first, or give -f a path in an "
                                                 f"existing directory")
    text = init_template(mode, network, cluster_id=cluster_id or PLACEHOLDER_CLUSTER_ID,
                         region=region or "cn-hangzhou", instance_id=instance_id or PLACEHOLDER_INSTANCE_ID,
                         registry_region=registry_region or region or "cn-hangzhou", fleet=fleet)
    # Validate what we are about to write (flag values included) before touching the disk.
    from acrx.config.model import AcrxConfig
    import pydantic

    try:
        if fleet:
            from acrx.config.fleet import expand

            expand(yaml.safe_load(text))
        else:
            AcrxConfig.model_validate(yaml.safe_load(text))
    except pydantic.ValidationError as exc:
        from acrx.config.errors import describe_validation_error

        raise UsageError(describe_validation_error(exc)) from None
    file.write_text(text, encoding="utf-8")
    if fleet:   # the written file must load as written
        from acrx.config.fleet import load_fleet

        load_fleet(file, {})
    else:
        load_config(file, {})
    what = "fleet of 2 clusters, " if fleet else ""
    app_context(ctx).err.print(f"wrote {file} ({what}{mode}, network {network})", markup=False, highlight=False)
