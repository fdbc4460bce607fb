"""Destroy planning for `cs.addon.<name>`: the credential helper addon, uninstalled last but one.

An addon takes no tag, so acrx's mark is the record `cs.addon.<name>` in the cluster's
acrx-ownership ConfigMap (acrx.steps.ownership), written before the install call: a run that
dies during the install still leaves it. Only a recorded addon is uninstalled, and only when no
registry entry acrx did not write depends on it (the managed edition's AcrInstanceInfo, or the
self-managed edition's acr-configuration). An addon without the record was installed by someone
else and merely configured by acrx: it stays ("adopted, kept"). A record whose addon is not
installed (the run stopped before the install call) is removed. Both editions are looked for,
whatever the config's flavour now.

Order: the ConfigMap keys go before the addon (teardown adds that dependency); the identities
the helper uses go after it.
"""

from __future__ import annotations

from typing import Any

from acrx import facts
from acrx.errors import AcrxError
from acrx.plan.change import Action, Change
from acrx.steps import ownership
from acrx.steps.addon.step import parse_live_config
from acrx.steps.configmap import destroy as configmap_destroy
from acrx.steps.identity import service_role

KIND_DELETE = "cs.addon.delete"
KIND_KEEP = "keep"
EDITIONS = (facts.MANAGED_ADDON, facts.SELF_MANAGED_ADDON)


def owned(ctx, instance) -> tuple[bool, str]:
    """(delete it?, why) for one installed edition."""
    address = f"cs.addon.{instance.name}"
    if ownership.recorded(ctx, address) is None:
        return False, (f"adopted, kept: the cluster's {ownership.RECORD_NAME} ConfigMap holds no record that "
                       "acrx installed it (acrx only configured it)")
    if instance.name == facts.MANAGED_ADDON:
        info = parse_live_config(instance.config).get(facts.MA_INSTANCE_INFO)
        _, foreign = configmap_destroy.split_entries(ctx, info)
        if foreign:
            return False, (f"kept: installed by acrx, but its AcrInstanceInfo holds {len(foreign)} entry(ies) acrx "
                           "did not write, so other registries depend on it")
        return True, "installed by acrx (recorded in the cluster before the install)"
    if configmap_destroy.verdict(ctx)["foreign"]:
        return False, "kept: installed by acrx, but acr-configuration holds registry entries acrx did not write"
    return True, "installed by acrx (recorded in the cluster before the install)"


def plan_destroy(ctx) -> list[Change]:
    cluster_id = ctx.config.cluster.id
    installed = ctx.memo("cs:addons", lambda: ctx.cs().list_addon_instances(cluster_id))
    changes = []
    present = {listed.name for listed in installed}
    for name in EDITIONS:
        if name not in present and ownership.recorded(ctx, f"cs.addon.{name}") is not None:
            changes.append(Change(f"cs.addon.{name}", Action.DELETE, before=None, account=ctx.cluster_alias,
                                  kind=KIND_DELETE, data={"name": name, "cluster_id": cluster_id},
                                  reason="not installed, but recorded by a run that stopped before its install "
                                         "call: the record is removed"))
    for listed in installed:
        if listed.name not in EDITIONS:
            continue
        instance = ctx.memo(f"cs:addon:{listed.name}", lambda n=listed.name: ctx.cs().get_addon_instance(cluster_id, n))
        if instance is None:
            continue
        address = f"cs.addon.{instance.name}"
        before = {"name": instance.name, "version": instance.version, "state": instance.state}
        ours, why = owned(ctx, instance)
        if not ours:
            changes.append(Change(address, Action.NOOP, before=before, after=before, account=ctx.cluster_alias,
                                  kind=KIND_KEEP, reason=why))
            continue
        changes.append(Change(address, Action.DELETE, before=before, account=ctx.cluster_alias, kind=KIND_DELETE,
                              reason=why, data={"name": instance.name, "cluster_id": cluster_id}))
    # AliyunCSManagedAcrRole serves the whole account: kept, and the plan says so.
    kept = service_role.destroy_keep(ctx)
    return changes + ([kept] if kept is not None else [])


class AddonDeleteHandler:
    def __init__(self, ctx):
        self.ctx = ctx

    def describe(self, change: Change) -> str:
        return f"uninstalling addon {change.data['name']}"

    def apply(self, change: Change, actx) -> dict:
        cs = self.ctx.cs()
        cluster_id, name = change.data["cluster_id"], change.data["name"]
        budget = self.ctx.options.wait_budget_s

        def idle():
            instance = cs.get_addon_instance(cluster_id, name)
            return instance is None or instance.state not in facts.ADDON_BUSY_STATES

        if cs.get_addon_instance(cluster_id, name) is not None:
            # An uninstall is refused while another task runs on the addon.
            actx.wait_until(idle, what=f"{name} to be idle", budget_s=budget)
            task_id = cs.uninstall_addons(cluster_id, [name])
            if task_id:
                task = actx.wait_until(lambda: (lambda t: t if t.finished else None)(cs.describe_task(task_id)),
                                       what=f"the uninstall task of {name}", budget_s=budget)
                if not task.succeeded:
                    detail = ": ".join(x for x in (task.error_code, task.error_message) if x) or task.state
                    raise AcrxError(f"uninstalling {name} ({task_id}) failed: {detail}")
            actx.wait_until(lambda: cs.get_addon_instance(cluster_id, name) is None,
                            what=f"{name} to be gone", budget_s=budget)
        self.ctx.forget("cs:addon")
        ownership.drop(self.ctx, change.address)   # the mark goes last: a stopped destroy still finds it
        return {"name": name, "uninstalled": True}


def destroy_handlers(ctx) -> dict[str, Any]:
    return {KIND_DELETE: AddonDeleteHandler(ctx)}
