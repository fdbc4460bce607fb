"""`ram.role.cluster` (RRSA mode: OIDC trust for the helper's service account) and
`ram.role.registry` (account B: trusts the cluster-side role, MaxSessionDuration = expireDuration).

An existing role is adopted: acrx appends its trust statement when no statement already covers
it, never removes or rewrites a statement it did not write, and the plan shows the difference.
"""

from __future__ import annotations

from typing import Any

from acrx import facts
from acrx.plan.change import Action, Change, Ref, iter_refs
from acrx.plan.policy_diff import canonical, merge_statements, parse_policy, statements_missing
from acrx.render.policies import cluster_trust_policy, registry_trust_policy
from acrx.steps import ownership
from acrx.steps.identity import membership, names, readiness, rrsa, state
from acrx.steps.identity.names import ADDR_CLUSTER_ROLE, KIND_ROLE
from acrx.steps.ownership import ADOPTED


def _append_unresolved(have: Any, want: dict) -> dict:
    """`have` plus want's statements, for display when want holds values known after apply."""
    merged = dict(parse_policy(have))
    merged.setdefault("Version", facts.POLICY_VERSION)
    merged["Statement"] = [*list(merged.get("Statement") or []), *want["Statement"]]
    return merged


def plan_role(address: str, *, account: str, name: str, observed, owned: bool, want_trust: dict,
              admits: str, max_session_duration: int | None = None, depends_on: tuple[str, ...] = (),
              purpose: str = "", probe_principal: str | None = None, mark: tuple[str, str] | None = None) -> Change:
    """Desired role + observed role (ram Role or None) -> one Change. Pure.

    mark: (Description, what it says) of the registry role's membership mark (membership.py):
    written at creation and kept current on a role acrx owns (an adopted role's text is not ours)."""
    data = {"name": name, "want_trust": want_trust, "max_session_duration": max_session_duration,
            "description": mark[0] if mark else ownership.description(purpose), "probe_principal": probe_principal}
    uses = {"uses": mark[1]} if mark else {}
    if observed is None:
        after = {"name": name, "trust_policy": want_trust,
                 "max_session_duration": max_session_duration or facts.MAX_SESSION_MIN, **uses}
        return Change(address, Action.CREATE, after=after, account=account, kind=KIND_ROLE,
                      depends_on=depends_on, data={**data, "have_trust": None},
                      reason=f"role {name} does not exist")
    mark_drift = bool(mark) and owned and observed.description != mark[0]
    if mark_drift:
        data["update_description"] = True
    seen = {"uses": _said(observed.description, name)} if mark and owned else {}
    uses = uses if owned else {}
    have = observed.trust_document or None
    unknown = any(True for _ in iter_refs(want_trust))
    missing = [] if unknown else statements_missing(have, want_trust)
    session_drift = max_session_duration is not None and observed.max_session_duration != max_session_duration
    before = {"name": name, "trust_policy": canonical(have),
              "max_session_duration": observed.max_session_duration, **seen}
    if not unknown and not missing and not session_drift and not mark_drift:
        reason = f"trust policy admits {admits}"
        if max_session_duration is not None:
            reason += f"; MaxSessionDuration {observed.max_session_duration}"
        if not owned:
            reason += f"; {ADOPTED}"
        return Change(address, Action.NOOP, before=before, after=before, account=account, kind=KIND_ROLE,
                      depends_on=depends_on, data={**data, "have_trust": have}, reason=reason)
    reasons = []
    if unknown:
        reasons.append(f"the trust statement for {admits} needs values known after apply; it is added "
                       "if no statement covers it")
        merged_view = _append_unresolved(have, want_trust)
    elif missing:
        others = len(canonical(have)["Statement"])
        reasons.append(f"trust policy does not admit {admits} (edited by someone else?); acrx adds its "
                       f"statement" + (f" and keeps the {others} other(s)" if others else ""))
        merged_view = merge_statements(have, want_trust)
    else:
        merged_view = parse_policy(have)
    if session_drift:
        reasons.append(f"MaxSessionDuration is {observed.max_session_duration}, expireDuration needs "
                       f"{max_session_duration}")
    if mark_drift:
        reasons.append(f"its membership mark changes from [{before['uses']}] to [{mark[1]}]")
    if not owned:
        reasons.append(ADOPTED)
    after = {"name": name, "trust_policy": merged_view,
             "max_session_duration": max_session_duration or observed.max_session_duration, **uses}
    return Change(address, Action.UPDATE, before=before, after=after, account=account, kind=KIND_ROLE,
                  depends_on=depends_on, data={**data, "have_trust": have}, reason="; ".join(reasons))


def _said(description: str, name: str) -> str:
    found = membership.parse(description, name)
    return found.summary() if found is not None else "(no membership mark)"


# -- planning from live state ----------------------------------------------------------------------
def plan_cluster_role(ctx) -> Change:
    config = ctx.config
    alias, name = ctx.cluster_alias, config.cluster_role_name
    observed_rrsa = ctx.cluster().rrsa
    if observed_rrsa is not None and observed_rrsa.enabled and observed_rrsa.issuer and observed_rrsa.oidc_arn:
        provider, issuer = observed_rrsa.oidc_arn, observed_rrsa.issuer
    else:
        provider, issuer = rrsa.oidc_arn_ref(), rrsa.issuer_ref()
    want = _cluster_trust(provider, issuer)
    observed = state.role(ctx, alias, name)
    owned = observed is not None and ownership.role_owned(state.role_tags(ctx, alias, name))
    return plan_role(ADDR_CLUSTER_ROLE, account=alias, name=name, observed=observed, owned=owned,
                     want_trust=want, admits=f"the token of {facts.HELPER_OIDC_SUBJECT}",
                     purpose=f"RRSA role of the ACR credential helper in cluster {config.cluster.id}")


def _cluster_trust(provider, issuer) -> dict:
    if isinstance(provider, Ref) or isinstance(issuer, Ref):
        # The builder formats the issuer; with an unknown one, build the same shape around Refs.
        doc = cluster_trust_policy("PROVIDER", "ISSUER")
        stmt = doc["Statement"][0]
        stmt["Principal"] = {"Federated": [provider]}
        stmt["Condition"]["StringEquals"]["oidc:iss"] = issuer
        return doc
    return cluster_trust_policy(provider, issuer)


def plan_registry_roles(ctx) -> list[Change]:
    config = ctx.config
    principal = names.cluster_principal_arn(ctx)
    depends = (ADDR_CLUSTER_ROLE,) if config.mode == "rrsa" else ()
    changes = []
    uses = membership.current_uses(ctx)
    mark = (membership.role_description(uses), uses.summary())
    for alias in names.registry_aliases(config):
        name = config.registry_role_name
        observed = state.role(ctx, alias, name)
        owned = observed is not None and ownership.role_owned(state.role_tags(ctx, alias, name))
        changes.append(plan_role(
            names.registry_role_address(config, alias), account=alias, name=name, observed=observed,
            owned=owned, want_trust=registry_trust_policy(principal), admits=principal,
            max_session_duration=config.max_session_duration, depends_on=depends, probe_principal=principal,
            purpose=f"registry role that cluster {config.cluster.id} assumes to pull images", mark=mark))
    return changes


# -- applying --------------------------------------------------------------------------------------
class RoleHandler:
    def __init__(self, ctx):
        self.ctx = ctx

    def describe(self, change: Change) -> str:
        return f"{change.action} role {change.data['name']}"

    def apply(self, change: Change, apply_ctx) -> dict:
        data = change.data
        name, want = data["name"], data["want_trust"]
        ram = self.ctx.session.account(change.account).ram_api
        budget = names.readiness_budget_s(self.ctx)
        adopted = False
        if change.action is Action.CREATE:
            role, adopted = self._create(ram, change, apply_ctx, budget)
        else:
            # Merge onto the document as it is now, not as planned: a statement someone added
            # since the plan must survive too.
            current = ram.get_role(name)
            live = {**data, "have_trust": current.trust_document} if current is not None else data
            role = self._update(ram, name, live, want, current=current)
        state.forget_account(self.ctx, change.account)
        if change.action is Action.CREATE and data.get("probe_principal"):
            alias = readiness.probe_alias(self.ctx, data["probe_principal"],
                                          [self.ctx.cluster_alias, change.account])
            if alias is not None:
                readiness.wait_assume_works(apply_ctx, self.ctx.session.account(alias).sts_api, role.arn, budget)
        return {"name": name, "arn": role.arn, **({"adopted": True} if adopted else {})}

    def _create(self, ram, change: Change, apply_ctx, budget: float):
        from acrx.cloud import errors as cloud_errors
        from acrx.errors import CloudError

        data = change.data
        adopted = False
        try:
            # The mark goes in the create call: the role never exists without it.
            ram.create_role(data["name"], data["want_trust"], max_session_duration=data["max_session_duration"],
                            description=data["description"], tags=ownership.TAGS)
        except CloudError as exc:
            if not cloud_errors.is_already_exists(exc):
                raise
            # Made since the plan. By us (a lost answer retried): it carries our tag already.
            # By someone else: adopt it without the mark, so destroy leaves it (ownership.py);
            # keep its statements, add ours. Never delete and recreate: trust in other
            # accounts may refer to the role's id.
            readiness.wait_role_visible(apply_ctx, ram, data["name"], budget)
            existing = ram.get_role(data["name"])
            adopted = not ownership.role_owned(ram.list_tags("role", data["name"]))
            if adopted:
                self.ctx.warn(f"role {data['name']} appeared between plan and apply; acrx adopted it without "
                              "its ownership mark, so `acrx destroy` keeps it")
            self._update(ram, data["name"], {**data, "have_trust": existing.trust_document,
                                             "update_description": not adopted}, data["want_trust"], current=existing)
        readiness.wait_role_visible(apply_ctx, ram, data["name"], budget)
        return ram.get_role(data["name"]), adopted

    @staticmethod
    def _update(ram, name: str, data: dict, want: dict, current=None):
        have = data.get("have_trust")
        new_trust = None
        if statements_missing(have, want):
            new_trust = merge_statements(have, want)
        msd = data.get("max_session_duration")
        if current is not None and msd == current.max_session_duration:
            msd = None
        # The membership mark: only on acrx's own role, and only when it says something else now.
        description = data["description"] if data.get("update_description") else None
        if current is not None and description == current.description:
            description = None
        if new_trust is None and msd is None and description is None:
            return current or ram.get_role(name)
        return ram.update_role(name, trust_document=new_trust, max_session_duration=msd, description=description)
