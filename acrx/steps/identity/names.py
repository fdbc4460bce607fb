"""Addresses, names, ARNs and option values the identity steps share, all derived from the
config, the flags and (for uids and the worker role) facts read once per run."""

from __future__ import annotations

from acrx import facts
from acrx.config import defaults

# Change kinds (one handler each) and the fixed addresses of DESIGN.md.
KIND_RRSA = "cs.rrsa"
KIND_ROLE = "ram.role"
KIND_POLICY = "ram.policy"
KIND_ATTACHMENT = "ram.policy_attachment"
KIND_USER = "ram.user"
KIND_ACCESS_KEY = "ram.access_key"

ADDR_RRSA = "cs.rrsa"
ADDR_CLUSTER_ROLE = "ram.role.cluster"
ADDR_ASSUME_POLICY = "ram.policy.cluster_assume"
ADDR_ASSUME_ATTACHMENT = "ram.policy_attachment.cluster_assume"

CUSTOM, SYSTEM = "Custom", "System"
# Ownership marks (tags, description prefixes, the adoption rule): acrx.steps.ownership.


# -- per-account and per-registry addresses ----------------------------------------------------
def registry_aliases(config) -> list[str]:
    """The registry-side account aliases, in config order, each once."""
    return list(dict.fromkeys(r.account for r in config.registries))


def _suffix(many: bool, key: str) -> str:
    # One registry (the common case) keeps the plain addresses of DESIGN.md.
    return f".{key}" if many else ""


def registry_role_address(config, alias: str) -> str:
    return "ram.role.registry" + _suffix(len(registry_aliases(config)) > 1, alias)


def user_address(config, alias: str) -> str:
    return "ram.user.registry" + _suffix(len(registry_aliases(config)) > 1, alias)


def access_key_address(config, alias: str) -> str:
    return "ram.access_key.registry" + _suffix(len(registry_aliases(config)) > 1, alias)


def pull_policy_address(config, registry) -> str:
    return "ram.policy.registry_pull" + _suffix(len(config.registries) > 1, registry.instance_id)


def pull_attachment_address(config, registry) -> str:
    return "ram.policy_attachment.registry_pull" + _suffix(len(config.registries) > 1, registry.instance_id)


# -- options (flags override the file) -----------------------------------------------------------
def assume_policy_kind(ctx) -> str:
    kind = ctx.options.assume_policy or ctx.config.roles.assume_policy
    if kind not in facts.ASSUME_POLICY_KINDS:
        from acrx.errors import UsageError

        raise UsageError(f"unknown value {kind!r}; use custom or system", field="--assume-policy")
    return kind


def assume_policy_name(ctx) -> str:
    if assume_policy_kind(ctx) == "system":
        return facts.SYSTEM_ASSUME_POLICY
    return defaults.assume_policy_name(ctx.config.cluster.id)


def pull_policy_scope(ctx) -> str:
    scope = ctx.options.extra.get("pull_policy_scope") or facts.DEFAULT_PULL_POLICY_SCOPE
    if scope not in facts.PULL_POLICY_SCOPES:
        from acrx.errors import UsageError

        raise UsageError(f"unknown value {scope!r}; use instance or any", field="--pull-policy-scope")
    return scope


def readiness_budget_s(ctx) -> float:
    return float(ctx.options.extra.get("readiness_budget_s", 120.0))


# -- identities ------------------------------------------------------------------------------------
def worker_role_name(ctx) -> str | None:
    return ctx.cluster().worker_ram_role_name


def cluster_principal_name(ctx) -> str | None:
    """The cluster-side role the registry role trusts: acrx's RRSA role or the worker role."""
    if ctx.config.mode == "rrsa":
        return ctx.config.cluster_role_name
    if ctx.config.mode == "worker-role":
        return worker_role_name(ctx)
    return None


def cluster_principal_arn(ctx) -> str | None:
    name = cluster_principal_name(ctx)
    return facts.role_arn(ctx.uid(ctx.cluster_alias), name) if name else None


def registry_role_arn(ctx, alias: str) -> str:
    # Deterministic, so nothing waits on the role's creation to know it.
    return facts.role_arn(ctx.uid(alias), ctx.config.registry_role_name)


def registry_role_arns(ctx) -> list[str]:
    return [registry_role_arn(ctx, alias) for alias in registry_aliases(ctx.config)]
