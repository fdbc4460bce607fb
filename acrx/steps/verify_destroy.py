"""Destroy planning for `verify.deployment`: the nginx Deployment `acrx verify --keep` (or
`setup --keep`) leaves in `verify.namespace`.

Its mark is the label app.kubernetes.io/managed-by=acrx that verify puts on it at creation
(acrx.kube.workloads.verify_deployment; acrx.steps.ownership lists it). A Deployment of that
name without the label is someone else's: it stays.
"""

from __future__ import annotations

from typing import Any

from acrx.kube.errors import KubeError
from acrx.plan.change import Action, Change
from acrx.steps import ownership

ADDRESS = "verify.deployment"
KIND_DELETE = "k8s.deployment.delete"
KIND_KEEP = "keep"


def _read(kube, namespace: str, name: str) -> dict | None:
    try:
        obj = kube.call(f"get deployment {namespace}/{name}", kube.apps.read_namespaced_deployment, name, namespace)
    except KubeError as exc:
        if exc.not_found:
            return None
        raise
    return kube.to_dict(obj)


def plan_destroy(ctx) -> list[Change]:
    from acrx.kube.workloads import VERIFY_NAME

    namespace = ctx.config.verify.namespace
    live = ctx.memo(f"k8s:deployment:{namespace}/{VERIFY_NAME}", lambda: _read(ctx.kube(), namespace, VERIFY_NAME))
    if live is None:
        return []
    labels = (live.get("metadata") or {}).get("labels") or {}
    before = {"namespace": namespace, "name": VERIFY_NAME}
    if not ownership.label_marked(labels):
        return [Change(ADDRESS, Action.NOOP, before=before, after=before, account=ctx.cluster_alias, kind=KIND_KEEP,
                       reason=f"adopted, kept: it has no {ownership.MANAGED_BY_LABEL}={ownership.MANAGED_BY_VALUE} "
                              "label, so acrx verify did not create it")]
    return [Change(ADDRESS, Action.DELETE, before=before, account=ctx.cluster_alias, kind=KIND_DELETE,
                   reason="left by `acrx verify --keep`", data=dict(before))]


class DeploymentDeleteHandler:
    def __init__(self, ctx):
        self.ctx = ctx

    def describe(self, change: Change) -> str:
        return f"deleting Deployment {change.data['namespace']}/{change.data['name']} (and its pods)"

    def apply(self, change: Change, actx) -> dict:
        from acrx.kube.workloads import delete_deployment

        d = change.data
        deleted = delete_deployment(self.ctx.kube(), d["namespace"], d["name"])
        self.ctx.forget(f"k8s:deployment:{d['namespace']}/{d['name']}")
        return {"namespace": d["namespace"], "name": d["name"], "deleted": deleted}


def destroy_handlers(ctx) -> dict[str, Any]:
    return {KIND_DELETE: DeploymentDeleteHandler(ctx)}
