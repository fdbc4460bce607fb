"""Read-only checks before any identity change: the documented support matrix of cluster kind
and version × mode × addon flavour, the cluster running, the instance an Enterprise Edition
that is RUNNING, and session lengths. Each failure names the cause and exits 2."""

from __future__ import annotations

from acrx import facts
from acrx.errors import PreflightError, UsageError
from acrx.render.policies import BROAD_PULL_WARNING
from acrx.steps.identity import names, state

KIND_LABELS = {
    "basic": "ACK managed Basic", "pro": "ACK managed Pro", "dedicated": "ACK dedicated",
    "edge": "ACK Edge", "serverless-basic": "ACK Serverless Basic", "serverless-pro": "ACK Serverless Pro",
}
MODE_LABELS = {"rrsa": "RRSA mode", "worker-role": "worker-role mode", "access-key": "access-key mode"}
FLAVOUR_LABELS = {"managed": "the managed addon", "self-managed": "the self-managed addon"}


def _kinds(entry) -> str:
    kinds, minimum = entry
    return f"{', '.join(KIND_LABELS[k] for k in kinds)} clusters of {minimum[0]}.{minimum[1]}+"


def support_problems(mode: str, flavour: str, kind: str, version: str) -> list[str]:
    """What the documented matrix rules out for this cluster (pure; [] when supported)."""
    problems = []
    have = f"a {KIND_LABELS.get(kind, kind)} cluster of {version or 'unknown version'}"
    if not facts.is_supported(facts.MODE_SUPPORT[mode], kind, version):
        problems.append(f"{MODE_LABELS[mode]} runs on {_kinds(facts.MODE_SUPPORT[mode])}, not on {have}")
    if not facts.is_supported(facts.FLAVOUR_SUPPORT[flavour], kind, version):
        hint = ""
        if flavour == "managed" and facts.is_supported(facts.FLAVOUR_SUPPORT["self-managed"], kind, version):
            hint = " (set addon.flavour: self-managed)"
        problems.append(f"{FLAVOUR_LABELS[flavour]} runs on {_kinds(facts.FLAVOUR_SUPPORT[flavour])}, "
                        f"not on {have}{hint}")
    return problems


def instance_problem(registry, found) -> str | None:
    """Why this ACR instance cannot serve (pure; None when it can)."""
    if found is None:
        return (f"ACR instance {registry.instance_id} not found in {registry.region} "
                f"for account {registry.account!r}")
    if not found.specification.startswith("Enterprise"):
        return (f"ACR instance {registry.instance_id} is {found.specification or 'not an Enterprise Edition'}; "
                "cross-account pulls need ACR Enterprise Edition")
    if found.status != "RUNNING":
        return f"ACR instance {registry.instance_id} is {found.status}, not RUNNING"
    return None


def session_notes(mode: str, expire_durations: list[int], max_session: int) -> tuple[list[str], list[str]]:
    """(problems, warnings) about session lengths (pure)."""
    problems, warnings = [], []
    for value in expire_durations:
        if value > facts.MAX_SESSION_MAX:
            problems.append(f"expireDuration {value} is above the {facts.MAX_SESSION_MAX} s a role allows")
        elif value > max_session:
            problems.append(f"expireDuration {value} is above the registry role's MaxSessionDuration {max_session}")
    longest = max(expire_durations, default=0)
    if mode in ("rrsa", "worker-role") and longest > facts.CHAINED_SESSION_MAX:
        warnings.append(f"expireDuration {longest} s: the helper reaches the registry role through a role "
                        f"chain, which may cap sessions at {facts.CHAINED_SESSION_MAX} s (unconfirmed); "
                        f"if AssumeRole fails with DurationSeconds, use {facts.CHAINED_SESSION_MAX}")
    return problems, warnings


def identity_preflight(ctx) -> None:
    """Every identity step calls this; it runs once per run."""
    ctx.memo("identity:preflight", lambda: _run(ctx) or True)


def _run(ctx) -> None:
    config = ctx.config
    mode = config.mode
    names.assume_policy_kind(ctx)          # a bad flag value is a usage error before any read
    scope = names.pull_policy_scope(ctx)
    if mode == "access-key" and not ctx.options.allow_plaintext_access_key:
        raise UsageError("access-key mode puts a long-lived AccessKey secret into the acr-configuration "
                         "ConfigMap in plaintext; pass --allow-plaintext-access-key to accept that",
                         field="--allow-plaintext-access-key",
                         hint="rrsa mode needs no long-lived key at all")
    cluster = ctx.cluster()
    problems = []
    if cluster.state != "running":
        problems.append(f"cluster {config.cluster.id} is {cluster.state or 'in an unknown state'}, not running")
    kind = facts.cluster_kind(cluster.type, cluster.profile, cluster.spec)
    problems += support_problems(mode, config.addon_flavour, kind, cluster.version)
    if mode == "worker-role" and not cluster.worker_ram_role_name and not problems:
        problems.append(f"cluster {config.cluster.id} has no worker RAM role, which worker-role mode uses")
    for registry in config.registries:
        problem = instance_problem(registry, state.instance(ctx, registry))
        if problem:
            problems.append(problem)
    session_problems, warnings = session_notes(mode, [r.expire_duration for r in config.registries],
                                               config.max_session_duration)
    problems += session_problems
    if problems:
        raise PreflightError("; ".join(problems), hint="nothing was changed")
    for warning in warnings:
        ctx.warn(warning)
    if mode == "access-key":
        ctx.warn("access-key mode: the AccessKey secret sits in plaintext in the kube-system/"
                 "acr-configuration ConfigMap; anyone who can read ConfigMaps there can pull as it")
    if scope == "any":
        ctx.warn(BROAD_PULL_WARNING)
    if mode != "access-key" and names.assume_policy_kind(ctx) == "system":
        ctx.warn(f"--assume-policy system: {facts.SYSTEM_ASSUME_POLICY} lets the cluster-side identity assume "
                 "ANY role that trusts it, not only the registry role (the default custom policy is that narrow)")
    aliases = [ctx.cluster_alias] + names.registry_aliases(config)
    if len(set(aliases)) > 1 and len({ctx.uid(a) for a in aliases}) == 1:
        ctx.warn(f"accounts {', '.join(dict.fromkeys(aliases))} are one account ({ctx.uid(aliases[0])}): "
                 "continuing as a same-account setup")
