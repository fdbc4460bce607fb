"""`cs.rrsa`: RRSA on the cluster. Enabling is ModifyCluster(enable_rrsa) and a task to wait
on; its outputs are the OIDC issuer (the first of a comma-separated list) and the provider ARN,
which the cluster-side role's trust policy needs."""

from __future__ import annotations

from acrx import facts
from acrx.errors import AcrxError
from acrx.plan.change import Action, Change, Ref
from acrx.steps.identity.names import ADDR_RRSA, KIND_RRSA

ISSUER = "issuer"
OIDC_ARN = "oidc_arn"


def issuer_ref() -> Ref:
    return Ref(ADDR_RRSA, ISSUER, "the cluster's OIDC issuer")


def oidc_arn_ref() -> Ref:
    return Ref(ADDR_RRSA, OIDC_ARN, "the cluster's OIDC provider ARN")


def plan_rrsa(*, account: str, cluster_id: str, region: str, observed) -> Change:
    """observed: the cluster's RrsaConfig (or None when the cluster reports none)."""
    data = {"cluster_id": cluster_id, "region": region}
    if observed is not None and observed.enabled and observed.issuer and observed.oidc_arn:
        return Change(ADDR_RRSA, Action.NOOP, account=account, kind=KIND_RRSA, data=data,
                      before={"enabled": True},
                      after={"enabled": True, ISSUER: observed.issuer, OIDC_ARN: observed.oidc_arn},
                      reason=f"RRSA is enabled (issuer {observed.issuer})")
    return Change(ADDR_RRSA, Action.UPDATE, account=account, kind=KIND_RRSA, data=data,
                  before={"enabled": False},
                  after={"enabled": True, ISSUER: issuer_ref(), OIDC_ARN: oidc_arn_ref()},
                  reason="RRSA is off; the helper's service-account token needs the cluster's OIDC "
                         "provider (enabling takes about a minute)")


def plan(ctx) -> list[Change]:
    config = ctx.config
    if config.mode != "rrsa":
        return []
    cluster = ctx.cluster()
    return [plan_rrsa(account=ctx.cluster_alias, cluster_id=config.cluster.id, region=config.cluster.region,
                      observed=cluster.rrsa)]


class RrsaHandler:
    def __init__(self, ctx):
        self.ctx = ctx

    def describe(self, change: Change) -> str:
        return f"enable RRSA on cluster {change.data['cluster_id']}"

    def apply(self, change: Change, apply_ctx) -> dict:
        cluster_id, region = change.data["cluster_id"], change.data["region"]
        cs = self.ctx.session.account(change.account).cs_api(region)
        task_id = cs.modify_rrsa(cluster_id, True)
        if task_id:
            task = apply_ctx.wait_until(
                lambda: cs.finished_task(task_id),
                what=f"task {task_id} enabling RRSA on cluster {cluster_id}",
                budget_s=self.ctx.options.wait_budget_s, initial=2.0, max_delay=15.0)
            if not task.succeeded:
                raise AcrxError(f"enabling RRSA on cluster {cluster_id} failed: task {task_id} ended "
                                f"{task.state}: {task.error_code or ''} {task.error_message or ''}".strip(),
                                hint="look at the cluster's task list in the ACK console, then run again")
            # The cluster stays `updating` after the task; an addon install then is refused.
            # ack-ram-tool waits for `running` too (pkg/ctl/rrsa/common/common.go).
            apply_ctx.wait_until(lambda: cs.cluster_if_running(cluster_id),
                                 what=f"cluster {cluster_id} to be running again after enabling RRSA",
                                 budget_s=self.ctx.options.wait_budget_s, initial=2.0, max_delay=15.0)
        self.ctx.forget("cs:cluster")
        rrsa = self.ctx.cluster().rrsa
        if rrsa is None or not rrsa.enabled or not rrsa.issuer or not rrsa.oidc_arn:
            raise AcrxError(f"the RRSA task on cluster {cluster_id} succeeded but the cluster reports no "
                            "OIDC issuer and provider", hint="run the command again in a minute")
        return {"enabled": True, ISSUER: facts.first_issuer(rrsa.issuer), OIDC_ARN: rrsa.oidc_arn}
