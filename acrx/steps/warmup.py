"""The reads every setup plan makes that need nothing but the config (or the cluster's detail),
started side by side with the steps' preflights (issue 16: reads that do not depend on each other
overlap), so the planners that follow, written in sequence, find them in the run's memo.

Each read here is the planner's own reader (the same function, so the same memo key and the same
call), guarded by the same condition the planner reads it under: a role's tags only when the role
exists, a policy's tags only when the policy exists. So the warm-up adds no call a sequential plan
would not make. Its errors are dropped: the planner reads that key again and meets the error where
it would in sequence. A warning a shared reader gives while warming (discovery's, once a run) is
said after the preflights' own. It must not read anything a planner derives from another step's
plan.
"""

from __future__ import annotations

from typing import Any, Callable

from acrx import facts
from acrx.steps.identity import names, state

IDENTITY = {"rrsa", "roles", "policy"}


def _role(ctx, alias: str, name: str, *, attachments: bool = False) -> list[Callable[[], Any]]:
    reads = [lambda: state.role(ctx, alias, name) is not None and state.role_tags(ctx, alias, name)]
    if attachments:
        reads.append(lambda: state.role_attachments(ctx, alias, name))
    return reads


def _policy(ctx, alias: str, name: str) -> list[Callable[[], Any]]:
    return [lambda: state.policy(ctx, alias, name) is not None and state.policy_tags(ctx, alias, name)]


def identity_reads(ctx) -> list[Callable[[], Any]]:
    """RolesStep, PolicyStep (and access_key) read these: roles, policies, the RAM user, by name."""
    config = ctx.config
    cluster_alias = ctx.cluster_alias
    reads: list[Callable[[], Any]] = []
    if config.mode == "rrsa":
        reads += _role(ctx, cluster_alias, config.cluster_role_name)
    if config.mode != "access-key":
        for alias in names.registry_aliases(config):
            reads += _role(ctx, alias, config.registry_role_name)
        if names.assume_policy_kind(ctx) == "custom":
            reads += _policy(ctx, cluster_alias, names.assume_policy_name(ctx))
        reads.append(lambda: state.role_attachments(ctx, cluster_alias, names.cluster_principal_name(ctx)))
    else:
        for alias in names.registry_aliases(config):
            user = config.access_key_user_name
            reads += [lambda a=alias: state.user_attachments(ctx, a, user),
                      lambda a=alias: state.access_keys(ctx, a, user)]
    for registry in config.registries:
        reads += _policy(ctx, registry.account, config.pull_policy_name(registry))
        if config.mode != "access-key":   # PolicyStep's read of the pull role's attachment
            reads.append(lambda r=registry: state.pull_attachments(ctx, r.account, config.registry_role_name,
                                                                   config.pull_policy_name(r)))
    return reads


def addon_reads(ctx) -> list[Callable[[], Any]]:
    """AddonStep's reads: the installed addons, the addon's schema and instance, the service role."""
    from acrx.steps.addon.step import addon_name, addon_schema, live_instance

    name = addon_name(ctx.config)
    cluster_id = ctx.config.cluster.id
    return [lambda: ctx.memo("cs:addons", lambda: ctx.cs().list_addon_instances(cluster_id)),
            lambda: addon_schema(ctx, name), lambda: live_instance(ctx),
            *_role(ctx, ctx.cluster_alias, facts.ACR_SERVICE_ROLE, attachments=True)]


def network_reads(ctx, mode: str) -> list[Callable[[], Any]]:
    """The network planner's reads that need only the cluster's detail or the registry's side
    (public reads nothing beyond discovery; cen's in rounds: acrx.steps.network.cen_reads)."""
    from acrx.steps.network import peering

    if mode == "peering":
        return [lambda: peering.prefetch(ctx)]
    if mode == "cen":
        from acrx.steps.network import cen_reads

        return [lambda: peering.return_path_prefetch(ctx), lambda: cen_reads.prefetch(ctx)]
    return []


def reads(ctx, step_names: set[str], network_mode: str | None = None) -> list[Callable[[], Any]]:
    config = ctx.config
    aliases = dict.fromkeys([ctx.cluster_alias, *(r.account for r in config.registries)])
    out: list[Callable[[], Any]] = [ctx.cluster, *[lambda a=a: ctx.uid(a) for a in aliases],
                                    *[lambda r=r: ctx.instance(r) for r in config.registries]]
    if step_names & IDENTITY:
        out += identity_reads(ctx)
    if "addon" in step_names:
        out += addon_reads(ctx)
    if "configmap" in step_names and config.addon_flavour == "self-managed":
        from acrx.steps.configmap.step import live_configmap

        out.append(lambda: live_configmap(ctx))
    if "network" in step_names:
        out += network_reads(ctx, network_mode or config.network.mode)
    return out


def warm(ctx, step_names: set[str], network_mode: str | None = None) -> None:
    """Read side by side; errors (a bad flag value included) are left to the planners."""
    try:
        thunks = reads(ctx, step_names, network_mode)
    except Exception:   # e.g. an unknown --assume-policy: the preflight says so, in its place
        return
    ctx.outcomes(thunks)
