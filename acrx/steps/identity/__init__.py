"""The identity steps: RRSA, the cluster- and registry-side roles, the assume permission, the pull
policy, and access-key mode's user and key.

    RrsaStep    cs.rrsa
    RolesStep   ram.role.cluster, ram.role.registry, ram.policy.cluster_assume,
                ram.policy_attachment.cluster_assume
    PolicyStep  ram.policy.registry_pull, ram.policy_attachment.registry_pull, and in access-key
                mode ram.user.registry + ram.access_key.registry

`standalone=True` (the one-step commands) makes a step refuse to plan what needs an earlier
step's output that is not there yet, instead of referring to a change outside its plan.
"""

from __future__ import annotations

from typing import Any, Mapping

from acrx.errors import PreflightError
from acrx.plan.change import Change, Ref
from acrx.steps.identity import access_key, names, policies, roles, rrsa, state
from acrx.steps.identity.preflight import identity_preflight
from acrx.steps.outputs import AccessKeyOutput

__all__ = ["RrsaStep", "RolesStep", "PolicyStep", "identity_handlers", "access_key_outputs", "IDENTITY_STEPS"]


def identity_handlers(ctx) -> dict[str, Any]:
    """One handler object per kind per run, shared by every identity step (handlers_for
    refuses two different objects for one kind)."""
    def build():
        return {
            names.KIND_RRSA: rrsa.RrsaHandler(ctx),
            names.KIND_ROLE: roles.RoleHandler(ctx),
            names.KIND_POLICY: policies.PolicyHandler(ctx),
            names.KIND_ATTACHMENT: policies.AttachmentHandler(ctx),
            names.KIND_USER: access_key.UserHandler(ctx),
            names.KIND_ACCESS_KEY: access_key.AccessKeyHandler(ctx),
        }

    return ctx.memo("identity:handlers", build)


class _IdentityStep:
    name = "identity"

    def __init__(self, *, standalone: bool = False):
        self.standalone = standalone

    def preflight(self, ctx) -> None:
        identity_preflight(ctx)

    def handlers(self, ctx) -> Mapping[str, Any]:
        return identity_handlers(ctx)


class RrsaStep(_IdentityStep):
    name = "rrsa"

    def plan(self, ctx) -> list[Change]:
        if ctx.config.mode != "rrsa" and self.standalone:
            ctx.warn(f"{ctx.config.mode} mode does not use RRSA; nothing to do for cs.rrsa")
        return rrsa.plan(ctx)


class RolesStep(_IdentityStep):
    name = "roles"

    def preflight(self, ctx) -> None:
        super().preflight(ctx)
        if self.standalone and ctx.config.mode == "rrsa":
            found = ctx.cluster().rrsa
            if found is None or not found.enabled:
                raise PreflightError(f"RRSA is not enabled on cluster {ctx.config.cluster.id}, and the "
                                     "cluster role's trust policy needs its OIDC issuer",
                                     hint="run `acrx rrsa enable` first (or `acrx setup` for every step)")

    def plan(self, ctx) -> list[Change]:
        mode = ctx.config.mode
        if mode == "access-key":
            if self.standalone:
                ctx.warn("access-key mode uses a RAM user, not roles; `acrx policy attach` plans it")
            return []
        changes = [roles.plan_cluster_role(ctx)] if mode == "rrsa" else []
        changes += roles.plan_registry_roles(ctx)
        changes += policies.plan_assume(ctx)
        return changes


class PolicyStep(_IdentityStep):
    name = "policy"

    def preflight(self, ctx) -> None:
        super().preflight(ctx)
        config = ctx.config
        if self.standalone and config.mode != "access-key":
            for alias in names.registry_aliases(config):
                if state.role(ctx, alias, config.registry_role_name) is None:
                    raise PreflightError(f"registry role {config.registry_role_name} does not exist in account "
                                         f"{alias!r}, so the pull policy has nothing to attach to",
                                         hint="run `acrx roles apply` first (or `acrx setup` for every step)")

    def plan(self, ctx) -> list[Change]:
        # Alone (`acrx policy attach`) no ConfigMap is written in the same run, so a key without a
        # stored secret is not replaced here: only a plan that stores the new key replaces it.
        return access_key.plan(ctx, replace_orphans=not self.standalone) + policies.plan_pull(ctx)


def access_key_outputs(ctx, changes: list[Change]) -> list[AccessKeyOutput]:
    """The AccessKeys the policy step's changes make, one per registry account: a key change whose
    secret is known only after apply is one this plan creates."""
    config = ctx.config
    by_address = {c.address: c for c in changes}
    published = []
    for alias in names.registry_aliases(config):
        change = by_address.get(names.access_key_address(config, alias))
        after = change.after if change is not None and isinstance(change.after, dict) else {}
        key_id, secret = after.get(access_key.ACCESS_KEY_ID), after.get(access_key.ACCESS_KEY_SECRET)
        if isinstance(key_id, Ref) and isinstance(secret, Ref):
            published.append(AccessKeyOutput(
                alias, Ref(key_id.address, key_id.attribute, "the new AccessKey id"),
                Ref(secret.address, secret.attribute, "the new AccessKey secret")))
    return published


IDENTITY_STEPS = (RrsaStep, RolesStep, PolicyStep)
