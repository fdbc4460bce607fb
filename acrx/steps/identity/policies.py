"""Custom policies and their attachments.

`ram.policy.cluster_assume` (sts:AssumeRole on the registry role(s) only; or the system policy
AliyunSTSAssumeRoleAccess with --assume-policy system) attached by
`ram.policy_attachment.cluster_assume` to the cluster role or the worker role;
`ram.policy.registry_pull` attached by `ram.policy_attachment.registry_pull` to the registry
role or, in access-key mode, the RAM user. A drifted document becomes a new default version
(the oldest non-default one rotates out at RAM's limit of five), never a delete-and-recreate,
which would detach it from everything it is attached to.
"""

from __future__ import annotations

from acrx.cloud import errors as cloud_errors
from acrx.errors import CloudError
from acrx.plan.change import Action, Change
from acrx.plan.policy_diff import canonical, policies_equal
from acrx.render.policies import assume_role_permission_policy, pull_policy
from acrx.steps import ownership
from acrx.steps.identity import names, readiness, state
from acrx.steps.identity.names import (
    ADDR_ASSUME_ATTACHMENT, ADDR_ASSUME_POLICY, ADDR_CLUSTER_ROLE, CUSTOM, KIND_ATTACHMENT, KIND_POLICY, SYSTEM,
)
from acrx.steps.ownership import ADOPTED


def plan_policy(address: str, *, account: str, name: str, observed, want_document: dict,
                purpose: str, tags: dict | None = None) -> Change:
    """Desired custom policy + observed (ram Policy or None, and its tags) -> one Change. Pure."""
    data = {"name": name, "document": want_document, "description": ownership.description(purpose)}
    if observed is None:
        return Change(address, Action.CREATE, after={"name": name, "document": want_document}, account=account,
                      kind=KIND_POLICY, data=data, reason=f"policy {name} does not exist")
    owned = ownership.policy_owned(observed.description, tags)
    before = {"name": name, "document": canonical(observed.document)}
    if policies_equal(observed.document, want_document):
        reason = f"document matches (default version {observed.default_version})"
        return Change(address, Action.NOOP, before=before, after=before, account=account, kind=KIND_POLICY,
                      data=data, reason=reason + ("" if owned else f"; {ADOPTED}"))
    reason = (f"document differs from acrx's (edited by someone else, or new flags); it becomes a new default "
              f"version after {observed.default_version}, rotating out the oldest non-default version at five")
    return Change(address, Action.UPDATE, before=before, after={"name": name, "document": want_document},
                  account=account, kind=KIND_POLICY, data=data,
                  reason=reason + ("" if owned else f"; {ADOPTED}"))


def plan_attachment(address: str, *, account: str, principal_type: str, principal: str, policy_name: str,
                    policy_type: str, attached, depends_on: tuple[str, ...] = (), policy_new: bool = False) -> Change:
    """attached: the principal's attached policies, or None when the principal does not exist yet;
    policy_new: the policy itself is created by this plan."""
    data = {"principal_type": principal_type, "principal": principal, "policy": policy_name,
            "policy_type": policy_type}
    view = {"policy": f"{policy_name} ({policy_type})", principal_type: principal}
    if attached is None:
        return Change(address, Action.CREATE, after=view, account=account, kind=KIND_ATTACHMENT, data=data,
                      depends_on=depends_on, reason=f"{principal_type} {principal} is new")
    if any(a.name == policy_name and a.type.lower() == policy_type.lower() for a in attached):
        return Change(address, Action.NOOP, before=view, after=view, account=account, kind=KIND_ATTACHMENT,
                      data=data, depends_on=depends_on, reason=f"attached to {principal_type} {principal}")
    why = (f"policy {policy_name} is new" if policy_new else
           f"{policy_name} is not attached to {principal_type} {principal} (detached by someone?)")
    return Change(address, Action.CREATE, after=view, account=account, kind=KIND_ATTACHMENT, data=data,
                  depends_on=depends_on, reason=why)


# -- planning from live state ----------------------------------------------------------------------
def plan_assume(ctx) -> list[Change]:
    """The cluster-side identity's permission to assume the registry role(s)."""
    config = ctx.config
    if config.mode == "access-key":
        return []
    alias = ctx.cluster_alias
    changes = []
    kind = names.assume_policy_kind(ctx)
    policy_name = names.assume_policy_name(ctx)
    depends: list[str] = []
    policy_new = False
    if kind == "custom":
        changes.append(policy_change := plan_policy(
            ADDR_ASSUME_POLICY, account=alias, name=policy_name, observed=state.policy(ctx, alias, policy_name),
            tags=state.policy_tags(ctx, alias, policy_name),
            want_document=assume_role_permission_policy(names.registry_role_arns(ctx)),
            purpose=f"cluster {config.cluster.id} may assume its registry role(s) and nothing else"))
        depends.append(ADDR_ASSUME_POLICY)
        policy_new = policy_change.action is Action.CREATE
    principal = names.cluster_principal_name(ctx)
    if config.mode == "rrsa":
        depends.append(ADDR_CLUSTER_ROLE)
    changes.append(plan_attachment(
        ADDR_ASSUME_ATTACHMENT, account=alias, principal_type="role", principal=principal,
        policy_name=policy_name, policy_type=CUSTOM if kind == "custom" else SYSTEM,
        attached=state.role_attachments(ctx, alias, principal), depends_on=tuple(depends),
        policy_new=policy_new))
    return changes


def pull_document(ctx, registry) -> dict:
    if names.pull_policy_scope(ctx) == "any":
        return pull_policy()
    return pull_policy(region=registry.region, uid=ctx.uid(registry.account), instance_id=registry.instance_id)


def plan_pull(ctx) -> list[Change]:
    """The pull policy of each registry and its attachment to the registry role or the RAM user."""
    config = ctx.config
    changes = []
    for registry in config.registries:
        alias, name = registry.account, config.pull_policy_name(registry)
        policy_address = names.pull_policy_address(config, registry)
        changes.append(policy_change := plan_policy(
            policy_address, account=alias, name=name, observed=state.policy(ctx, alias, name),
            tags=state.policy_tags(ctx, alias, name),
            want_document=pull_document(ctx, registry),
            purpose=f"pull from ACR instance {registry.instance_id} for cluster {config.cluster.id}"))
        depends = [policy_address]
        if config.mode == "access-key":
            principal_type, principal = "user", config.access_key_user_name
            attached = state.user_attachments(ctx, alias, principal)
            if attached is None:
                depends.append(names.user_address(config, alias))
        else:
            principal_type, principal = "role", config.registry_role_name
            attached = state.pull_attachments(ctx, alias, principal, name)
            if attached is None:
                # A role made in this same run (acrx setup); alone, PolicyStep requires it to exist.
                depends.append(names.registry_role_address(config, alias))
        changes.append(plan_attachment(
            names.pull_attachment_address(config, registry), account=alias, principal_type=principal_type,
            principal=principal, policy_name=name, policy_type=CUSTOM, attached=attached,
            depends_on=tuple(depends), policy_new=policy_change.action is Action.CREATE))
    return changes


# -- applying --------------------------------------------------------------------------------------
class PolicyHandler:
    def __init__(self, ctx):
        self.ctx = ctx

    def describe(self, change: Change) -> str:
        if change.action is Action.CREATE:
            return f"create policy {change.data['name']}"
        return f"new default version of policy {change.data['name']}"

    def apply(self, change: Change, apply_ctx) -> dict:
        data = change.data
        ram = self.ctx.session.account(change.account).ram_api
        budget = names.readiness_budget_s(self.ctx)
        version = None
        if change.action is Action.CREATE:
            try:
                # The mark goes in the create call (ownership.py); an adopted policy never gets it.
                version = ram.create_policy(data["name"], data["document"], description=data["description"],
                                            tags=ownership.TAGS).default_version
            except CloudError as exc:
                if not cloud_errors.is_already_exists(exc):
                    raise
                # Made since the plan (by a lost answer of ours: it is tagged; by someone else:
                # adopted, unmarked): make our document its default version instead.
                readiness.wait_policy_visible(apply_ctx, ram, data["name"], budget)
                existing = ram.get_policy(data["name"])
                if not policies_equal(existing.document, data["document"]):
                    version = ram.create_policy_version(data["name"], data["document"]).version_id
            readiness.wait_policy_visible(apply_ctx, ram, data["name"], budget)
        else:
            version = ram.create_policy_version(data["name"], data["document"], set_as_default=True,
                                                rotate=True).version_id
        state.forget_account(self.ctx, change.account)
        return {"name": data["name"], "version": version}


class AttachmentHandler:
    def __init__(self, ctx):
        self.ctx = ctx

    def describe(self, change: Change) -> str:
        d = change.data
        return f"attach {d['policy']} to {d['principal_type']} {d['principal']}"

    def apply(self, change: Change, apply_ctx) -> dict:
        d = change.data
        ram = self.ctx.session.account(change.account).ram_api
        attach = ram.attach_policy_to_role if d["principal_type"] == "role" else ram.attach_policy_to_user

        def call():
            try:
                attach(d["principal"], d["policy"], d["policy_type"])
            except CloudError as exc:
                if not cloud_errors.is_already_exists(exc):  # attached since the plan: done
                    raise
            return True

        # A role, user or policy created moments ago may not be found yet: wait, do not fail.
        readiness.retry_while_missing(apply_ctx, call, budget_s=names.readiness_budget_s(self.ctx),
                                      what=f"{d['principal_type']} {d['principal']} and policy {d['policy']} "
                                           "to be found by RAM")
        state.forget_account(self.ctx, change.account)
        return {"policy": d["policy"], d["principal_type"]: d["principal"]}
