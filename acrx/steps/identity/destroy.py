"""Destroy planning for the identity steps: what acrx made in RAM, removed in reverse order.

Every thing is looked up by the deterministic name setup gives it AND its ownership mark
(acrx.steps.ownership: the tag on roles and policies, the `acrx:` Comments of the user). A thing
of that name without the mark was adopted by setup, never made by it: a no-op "adopted, kept".

Order (depends_on): policy detachments before the policy and the role they join; the
AccessKeys and the user's detachments before the user. RRSA is left on (other workloads may use
the cluster's OIDC provider): a no-op that says so. Every name is checked whatever the mode, so
a destroy after a mode switch still finds what an earlier setup made.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from acrx.config import defaults
from acrx.plan.change import Action, Change
from acrx.steps import ownership
from acrx.steps.identity import membership, names, state
from acrx.steps.identity.names import (ADDR_ASSUME_ATTACHMENT, ADDR_ASSUME_POLICY, ADDR_CLUSTER_ROLE, ADDR_RRSA,
                                       CUSTOM)

KIND_ROLE_DELETE = "ram.role.delete"
KIND_POLICY_DELETE = "ram.policy.delete"
KIND_DETACH = "ram.policy_attachment.delete"
KIND_USER_DELETE = "ram.user.delete"
KIND_KEYS_DELETE = "ram.access_key.delete"
KIND_KEEP = "keep"   # no-ops only: never applied
ADOPTED_KEPT = ownership.ADOPTED_KEPT


def _keep(address: str, account: str, reason: str, before: Any = None) -> Change:
    return Change(address, Action.NOOP, before=before, after=before, account=account, kind=KIND_KEEP, reason=reason)


def _detach(address: str, account: str, principal_type: str, principal: str, policy: str, policy_type: str,
            why: str) -> Change:
    view = {"policy": f"{policy} ({policy_type})", principal_type: principal}
    return Change(address, Action.DELETE, before=view, account=account, kind=KIND_DETACH, reason=why,
                  data={"principal_type": principal_type, "principal": principal, "policy": policy,
                        "policy_type": policy_type})


# -- planners (pure over what the readers return) -------------------------------------------------
def plan_rrsa(ctx) -> list[Change]:
    cluster = ctx.cluster()
    if cluster.rrsa is None or not cluster.rrsa.enabled:
        return []
    return [_keep(ADDR_RRSA, ctx.cluster_alias, "RRSA stays enabled: other workloads may use the cluster's OIDC "
                                                "provider; disable it yourself if nothing does",
                  before={"enabled": True})]


def _role_detachments(ctx, alias: str, role: str, base: str, owned_policies: dict[str, str],
                      role_owned: bool) -> list[Change]:
    """Detachments from one role: acrx's own policies always (they are deleted), every other
    policy only when the role itself is acrx's (RAM deletes no role with attachments)."""
    attached = state.role_attachments(ctx, alias, role) or []
    changes = []
    for item in attached:
        ours = item.type.lower() == CUSTOM.lower() and item.name in owned_policies
        if not ours and not role_owned:
            continue
        address = owned_policies[item.name] if ours else f"{base}.{item.name}"
        why = (f"acrx's policy {item.name} is deleted" if ours else
               f"{item.name} is attached to acrx's role {role}, which is deleted")
        changes.append(_detach(address, alias, "role", role, item.name, item.type, why))
    return changes


def _plan_policy(ctx, alias: str, address: str, name: str, detaching: int) -> tuple[Change | None, bool]:
    """(change, owned). None when the policy does not exist."""
    found = state.policy(ctx, alias, name)
    if found is None:
        return None, False
    if not ownership.policy_owned(found.description, state.policy_tags(ctx, alias, name)):
        return _keep(address, alias, ADOPTED_KEPT, {"name": name}), False
    others = found.attachment_count - detaching
    if others > 0:
        return _policy_in_use(ctx, alias, address, name, others), False
    return Change(address, Action.DELETE, before={"name": name}, account=alias, kind=KIND_POLICY_DELETE,
                  reason="created by acrx", data={"name": name}), True


def _policy_in_use(ctx, alias: str, address: str, name: str, count: int) -> Change:
    """Why a shared pull policy stays: the other clusters' pull identities hold it (their
    membership marks say which), or principals acrx does not know."""
    before = {"name": name}
    if alias in names.registry_aliases(ctx.config):
        others = membership.others(ctx, alias)
        if others:
            change = _keep(address, alias, f"kept: still used by {membership.used_by_text(others)}", before)
            return replace(change, data={"used_by": membership.names(others)})
        leaving = set(ctx.options.extra.get("destroying") or ())
        if leaving and any(m.cluster in leaving for m in membership.members(ctx, alias)):
            return _keep(address, alias, "kept for now: clusters destroyed in this run still hold it; the last of "
                                         "them removes it", before)
    return _keep(address, alias, f"kept: policy {name} is acrx's but still attached to {count} principal(s) "
                                 "acrx did not attach it to; detach them, then destroy again", before)


def _plan_role(ctx, alias: str, address: str, name: str, depends: tuple[str, ...]) -> Change | None:
    found = state.role(ctx, alias, name)
    if found is None:
        return None
    if not ownership.role_owned(state.role_tags(ctx, alias, name)):
        return _keep(address, alias, ADOPTED_KEPT + "; the trust statement acrx added stays", {"name": name})
    return Change(address, Action.DELETE, before={"name": name, "arn": found.arn}, account=alias,
                  kind=KIND_ROLE_DELETE, reason="created by acrx", depends_on=depends, data={"name": name})


def _owned_policy(ctx, alias: str, name: str) -> bool:
    found = state.policy(ctx, alias, name)
    return found is not None and ownership.policy_owned(found.description, state.policy_tags(ctx, alias, name))


def plan_cluster_side(ctx) -> list[Change]:
    """Account A: the assume policy, its attachments (cluster role, worker role), the RRSA role."""
    config = ctx.config
    alias = ctx.cluster_alias
    # The custom policy's name, whatever --assume-policy says now: an earlier setup may have made it.
    assume_name = defaults.assume_policy_name(config.cluster.id)
    owned = {assume_name: ADDR_ASSUME_ATTACHMENT} if _owned_policy(ctx, alias, assume_name) else {}
    changes: list[Change] = []
    cluster_role = config.cluster_role_name
    role_owned = state.role(ctx, alias, cluster_role) is not None and ownership.role_owned(
        state.role_tags(ctx, alias, cluster_role))
    role_detach = _role_detachments(ctx, alias, cluster_role, "ram.policy_attachment.cluster_role", owned,
                                    role_owned) if state.role(ctx, alias, cluster_role) is not None else []
    worker = names.worker_role_name(ctx)
    worker_detach = []
    if worker and worker != cluster_role and owned:
        worker_detach = _role_detachments(ctx, alias, worker, "ram.policy_attachment.worker", owned, False)
        if role_detach:   # both hold the policy: two addresses
            worker_detach = [_rename(c, f"{ADDR_ASSUME_ATTACHMENT}.worker") for c in worker_detach]
    changes += role_detach + worker_detach
    detaching = [c.address for c in changes if c.data.get("policy") == assume_name]
    policy, policy_deleted = _plan_policy(ctx, alias, ADDR_ASSUME_POLICY, assume_name, len(detaching))
    if policy is not None:
        if policy_deleted:
            policy = _with_deps(policy, tuple(detaching))
        changes.append(policy)
    role = _plan_role(ctx, alias, ADDR_CLUSTER_ROLE, cluster_role,
                      tuple(c.address for c in role_detach))
    if role is not None:
        changes.append(role)
    return changes


def plan_registry_side(ctx) -> list[Change]:
    """Each registry account: pull policies, their attachments, the registry role, the RAM user
    of access-key mode with its AccessKeys."""
    config = ctx.config
    changes: list[Change] = []
    for alias in names.registry_aliases(config):
        registries = [r for r in config.registries if r.account == alias]
        owned = {}
        for registry in registries:
            name = config.pull_policy_name(registry)
            if _owned_policy(ctx, alias, name):
                owned[name] = names.pull_attachment_address(config, registry)
        role_name = config.registry_role_name
        role_detach = []
        if state.role(ctx, alias, role_name) is not None:
            role_owned = ownership.role_owned(state.role_tags(ctx, alias, role_name))
            role_detach = _role_detachments(ctx, alias, role_name, f"ram.policy_attachment.registry_role.{alias}",
                                            owned, role_owned)
        user_changes, user_detach = _plan_user(ctx, alias, owned, taken={c.address for c in role_detach})
        changes += role_detach + user_detach
        for registry in registries:
            name = config.pull_policy_name(registry)
            detaching = [c.address for c in role_detach + user_detach if c.data.get("policy") == name]
            policy, deleted = _plan_policy(ctx, alias, names.pull_policy_address(config, registry), name,
                                           len(detaching))
            if policy is not None:
                changes.append(_with_deps(policy, tuple(detaching)) if deleted else policy)
        role = _plan_role(ctx, alias, names.registry_role_address(config, alias), role_name,
                          tuple(c.address for c in role_detach))
        if role is not None:
            changes.append(role)
        changes += user_changes
    return changes


def _plan_user(ctx, alias: str, owned_policies: dict[str, str], taken: set[str]) -> tuple[list[Change], list[Change]]:
    """(key and user changes, detachments from the user)."""
    config = ctx.config
    name = config.access_key_user_name
    user = state.user(ctx, alias, name)
    user_address = names.user_address(config, alias)
    if user is None:
        return [], []
    user_owned = ownership.user_owned(user.comments)
    detach = []
    for item in state.user_attachments(ctx, alias, name) or []:
        ours = item.type.lower() == CUSTOM.lower() and item.name in owned_policies
        if not ours and not user_owned:
            continue
        address = owned_policies[item.name] if ours else f"ram.policy_attachment.user.{alias}.{item.name}"
        if address in taken:
            address = f"{address}.user"
        why = (f"acrx's policy {item.name} is deleted" if ours else
               f"{item.name} is attached to acrx's user {name}, which is deleted")
        detach.append(_detach(address, alias, "user", name, item.name, item.type, why))
    if not user_owned:
        return [_keep(user_address, alias, ADOPTED_KEPT + "; its AccessKeys stay", {"name": name})], detach
    changes = []
    deps = [c.address for c in detach]
    keys = state.access_keys(ctx, alias, name) or []
    if keys:
        key_address = names.access_key_address(config, alias)
        ids = [k.access_key_id for k in keys]
        changes.append(Change(key_address, Action.DELETE, before={"access_key_ids": ids}, account=alias,
                              kind=KIND_KEYS_DELETE, reason=f"the AccessKey(s) of acrx's user {name}",
                              data={"user": name, "access_key_ids": ids}))
        deps.append(key_address)
    changes.append(Change(user_address, Action.DELETE, before={"name": name}, account=alias, kind=KIND_USER_DELETE,
                          reason="created by acrx", depends_on=tuple(deps), data={"name": name}))
    return changes, detach


def _rename(change: Change, address: str) -> Change:
    from dataclasses import replace

    return replace(change, address=address)


def _with_deps(change: Change, deps: tuple[str, ...]) -> Change:
    from dataclasses import replace

    return replace(change, depends_on=tuple(dict.fromkeys(change.depends_on + deps)))


def plan_destroy(ctx) -> list[Change]:
    return plan_rrsa(ctx) + plan_cluster_side(ctx) + plan_registry_side(ctx)


# -- handlers ---------------------------------------------------------------------------------------
class _RamHandler:
    def __init__(self, ctx):
        self.ctx = ctx

    def ram(self, change: Change):
        return self.ctx.session.account(change.account).ram_api

    def done(self, change: Change, out: dict) -> dict:
        state.forget_account(self.ctx, change.account)
        return out


class DetachHandler(_RamHandler):
    def describe(self, change: Change) -> str:
        d = change.data
        return f"detach {d['policy']} from {d['principal_type']} {d['principal']}"

    def apply(self, change: Change, actx) -> dict:
        d = change.data
        ram = self.ram(change)
        detach = ram.detach_policy_from_role if d["principal_type"] == "role" else ram.detach_policy_from_user
        detach(d["principal"], d["policy"], d["policy_type"], missing_ok=True)   # gone already: done
        return self.done(change, {"policy": d["policy"], d["principal_type"]: d["principal"]})


class PolicyDeleteHandler(_RamHandler):
    def describe(self, change: Change) -> str:
        return f"delete policy {change.data['name']}"

    def apply(self, change: Change, actx) -> dict:
        self.ram(change).delete_policy(change.data["name"], missing_ok=True)
        return self.done(change, {"name": change.data["name"]})


class RoleDeleteHandler(_RamHandler):
    def describe(self, change: Change) -> str:
        return f"delete role {change.data['name']}"

    def apply(self, change: Change, actx) -> dict:
        self.ram(change).delete_role(change.data["name"], missing_ok=True)
        return self.done(change, {"name": change.data["name"]})


class AccessKeysDeleteHandler(_RamHandler):
    def describe(self, change: Change) -> str:
        return f"delete the AccessKey(s) of RAM user {change.data['user']}"

    def apply(self, change: Change, actx) -> dict:
        ram = self.ram(change)
        for key_id in change.data["access_key_ids"]:
            ram.delete_access_key(change.data["user"], key_id, missing_ok=True)
        return self.done(change, {"user": change.data["user"], "deleted": len(change.data["access_key_ids"])})


class UserDeleteHandler(_RamHandler):
    def describe(self, change: Change) -> str:
        return f"delete RAM user {change.data['name']}"

    def apply(self, change: Change, actx) -> dict:
        self.ram(change).delete_user(change.data["name"], missing_ok=True)
        return self.done(change, {"name": change.data["name"]})


def destroy_handlers(ctx) -> dict[str, Any]:
    return ctx.memo("identity:destroy-handlers", lambda: {
        KIND_DETACH: DetachHandler(ctx), KIND_POLICY_DELETE: PolicyDeleteHandler(ctx),
        KIND_ROLE_DELETE: RoleDeleteHandler(ctx), KIND_KEYS_DELETE: AccessKeysDeleteHandler(ctx),
        KIND_USER_DELETE: UserDeleteHandler(ctx),
    })
