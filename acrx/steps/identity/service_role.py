"""`ram.service_role.AliyunCSManagedAcrRole`: the service role the credential helper addon needs.

CS refuses to install or update aliyun-acr-credential-helper on an ACK managed cluster created on
or after 2023-04-03 unless account A has assigned AliyunCSManagedAcrRole to ACK ("Failed to pass
the precheck", facts.ACR_SERVICE_ROLE and its sources). acrx reads the role in account A before
planning the addon; when the cluster needs it and it is missing, the plan creates it as ACK's
one-click authorization does: a RAM role trusting the CS service, with its system policy
AliyunCSManagedAcrRolePolicy attached. acrx's tag goes on in the create call (acrx.steps.ownership).

A role found in place is adopted: acrx may add the CS trust statement or attach the system policy
it lacks, never removes anything. Destroy keeps the role, even one acrx created: it is
account-wide, and every cluster of the account whose helper was installed since depends on it
(acrx cannot tell which), so removing it would break other clusters' addon updates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from acrx import facts
from acrx.cloud import errors as cloud_errors
from acrx.plan.change import Action, Change
from acrx.plan.policy_diff import canonical, merge_statements, statements_missing
from acrx.steps import ownership
from acrx.steps.identity import state

KIND = "ram.service_role"
ADDRESS = f"ram.service_role.{facts.ACR_SERVICE_ROLE}"
KEEP_REASON = (f"kept: {facts.ACR_SERVICE_ROLE} is account-wide; the credential helper of every cluster in "
               "this account created since 2023-04-03 needs it to install or update, so acrx never deletes it")


@dataclass(frozen=True)
class Observed:
    role: Any                 # acrx.cloud.ram.Role
    trusts_cs: bool           # a statement admits Service cs.aliyuncs.com
    policy_attached: bool     # AliyunCSManagedAcrRolePolicy (System) is attached
    owned: bool               # carries acrx's tag

    @property
    def complete(self) -> bool:
        return self.trusts_cs and self.policy_attached


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


CUTOFF = _parse_time(facts.ACR_SERVICE_ROLE_CUTOFF)


def requirement(cluster) -> tuple[bool, str]:
    """(does CS's precheck want the role for this cluster?, why)."""
    if cluster.type != "ManagedKubernetes":
        # D-P: "Only ACK managed clusters ... are affected"; a dedicated cluster keeps the old rule.
        return False, f"not needed: the 2023-04-03 change covers ACK managed clusters only (this one is {cluster.type})"
    created = _parse_time(cluster.created)
    day = facts.ACR_SERVICE_ROLE_CUTOFF_DAY
    if created is None:
        return True, (f"the cluster's creation time is unknown ({cluster.created or 'none given'}), so acrx takes "
                      f"it as created on or after {day}")
    when = created.astimezone(timezone.utc).strftime("%Y-%m-%d")
    if created >= CUTOFF:
        return True, (f"the cluster was created {when}, on or after {day}: CS refuses to install or update the "
                      "credential helper without it")
    return False, f"not needed: the cluster was created {when}, before {day}"


def observe(ctx) -> Observed | None:
    """The role in account A (GetRole, ListPoliciesForRole, its tags), read once a run."""
    alias, name = ctx.cluster_alias, facts.ACR_SERVICE_ROLE
    role = state.role(ctx, alias, name)
    if role is None:
        return None
    attached = state.role_attachments(ctx, alias, name) or []
    return Observed(
        role=role,
        trusts_cs=not statements_missing(role.trust_document or None, facts.acr_service_role_trust()),
        policy_attached=any(a.name == facts.ACR_SERVICE_ROLE_POLICY
                            and a.type.lower() == facts.ACR_SERVICE_ROLE_POLICY_TYPE.lower() for a in attached),
        owned=ownership.role_owned(state.role_tags(ctx, alias, name)))


def _view(observed: Observed | None) -> dict | None:
    if observed is None:
        return None
    return {"RoleName": observed.role.name, "AssumeRolePolicyDocument": canonical(observed.role.trust_document or None),
            "AttachedPolicy": (f"{facts.ACR_SERVICE_ROLE_POLICY_TYPE} {facts.ACR_SERVICE_ROLE_POLICY}"
                               if observed.policy_attached else "(none)")}


def plan(ctx) -> Change:
    needed, why = requirement(ctx.cluster())
    observed = observe(ctx)
    name, alias = facts.ACR_SERVICE_ROLE, ctx.cluster_alias
    data = {"name": name, "trust": facts.acr_service_role_trust(), "policy": facts.ACR_SERVICE_ROLE_POLICY,
            "policy_type": facts.ACR_SERVICE_ROLE_POLICY_TYPE, "description": facts.ACR_SERVICE_ROLE_DESCRIPTION}
    want = {"RoleName": name, "AssumeRolePolicyDocument": canonical(facts.acr_service_role_trust()),
            "AttachedPolicy": f"{facts.ACR_SERVICE_ROLE_POLICY_TYPE} {facts.ACR_SERVICE_ROLE_POLICY}"}
    common = dict(account=alias, kind=KIND, data=data)
    before = _view(observed)
    if observed is not None and observed.complete:
        mark = "" if observed.owned else f"; {ownership.ADOPTED}"
        return Change(ADDRESS, Action.NOOP, before=before, after=before, reason=(
            f"{name} is authorized: it trusts {facts.ACR_SERVICE_ROLE_PRINCIPAL} and has "
            f"{facts.ACR_SERVICE_ROLE_POLICY}{mark}"), **common)
    if not needed:
        state_text = "is not authorized" if observed is None else "is incomplete"
        return Change(ADDRESS, Action.NOOP, before=before, after=before,
                      reason=f"{name} {state_text} in account {alias}; {why}", **common)
    if observed is None:
        return Change(ADDRESS, Action.CREATE, before=None, after=want, reason=(
            f"{name} is not authorized in account {alias}; {why}. acrx creates it as ACK's one-click "
            f"authorization does (trusts {facts.ACR_SERVICE_ROLE_PRINCIPAL}, system policy "
            f"{facts.ACR_SERVICE_ROLE_POLICY}); destroy keeps it, as it serves the whole account"), **common)
    lacks = ([f"a trust statement for Service {facts.ACR_SERVICE_ROLE_PRINCIPAL}"] if not observed.trusts_cs else []) + (
        [f"the system policy {facts.ACR_SERVICE_ROLE_POLICY}"] if not observed.policy_attached else [])
    after = dict(before, AttachedPolicy=want["AttachedPolicy"],
                 AssumeRolePolicyDocument=merge_statements(observed.role.trust_document or None,
                                                           facts.acr_service_role_trust()))
    return Change(ADDRESS, Action.UPDATE, before=before, after=after, reason=(
        f"{name} lacks {' and '.join(lacks)}; {why}; acrx adds what is missing and keeps the rest"
        + ("" if observed.owned else f"; {ownership.ADOPTED}")), **common)


def destroy_keep(ctx) -> Change | None:
    """The destroy plan's line for the role: always kept (see the module's docstring)."""
    observed = observe(ctx)
    if observed is None:
        return None
    made = "created by acrx, " if observed.owned else ""
    before = _view(observed)
    return Change(ADDRESS, Action.NOOP, before=before, after=before, account=ctx.cluster_alias, kind="keep",
                  reason=f"{made}{KEEP_REASON}")


class ServiceRoleHandler:
    required_inputs = ("name", "trust", "policy", "policy_type")

    def __init__(self, ctx):
        self.ctx = ctx

    def describe(self, change: Change) -> str:
        return f"authorizing {change.data['name']} for ACK"

    def apply(self, change: Change, actx) -> dict:
        data = change.data
        name, policy, policy_type = data["name"], data["policy"], data["policy_type"]
        alias = change.account or self.ctx.cluster_alias
        ram = self.ctx.session.account(alias).ram_api
        role = ram.get_role(name)   # the live state decides, not the plan: another run may have done it
        if role is None:
            try:
                role = ram.create_role(name, data["trust"], description=data.get("description") or None,
                                       tags=ownership.TAGS)
            except Exception as exc:   # appeared since the plan: adopt it, add only what it lacks
                if not cloud_errors.is_already_exists(exc):
                    raise
                role = None
        if role is not None and statements_missing(role.trust_document or None, data["trust"]):
            ram.update_role(name, trust_document=merge_statements(role.trust_document or None, data["trust"]))
        if not self._attached(ram, name, policy, policy_type):
            try:
                ram.attach_policy_to_role(name, policy, policy_type)
            except Exception as exc:
                if not cloud_errors.is_already_exists(exc):
                    raise
        # CS's precheck reads RAM like any reader: wait until a read sees the role with its policy.
        role = actx.wait_until(lambda: self._ready(ram, name, policy, policy_type),
                               what=f"{name} to be visible", budget_s=self.ctx.options.wait_budget_s)
        state.forget_account(self.ctx, alias)
        return {"name": name, "arn": role.arn}

    @staticmethod
    def _attached(ram, name: str, policy: str, policy_type: str) -> bool:
        try:
            listed = ram.list_policies_for_role(name)
        except Exception as exc:
            if cloud_errors.is_not_found(exc):
                return False
            raise
        return any(a.name == policy and a.type.lower() == policy_type.lower() for a in listed)

    @classmethod
    def _ready(cls, ram, name: str, policy: str, policy_type: str):
        role = ram.get_role(name)
        return role if role is not None and cls._attached(ram, name, policy, policy_type) else None
