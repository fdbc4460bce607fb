"""Destroy planning for `cs.addon.<name>`: the credential helper addon, uninstalled last but one.

An addon carries no tag, so what marks it as acrx's is its configuration: the managed edition
is acrx's when every entry of its AcrInstanceInfo is one acrx writes for this config (a
configured instance naming acrx's registry role or AccessKey); the self-managed edition is
acrx's when destroy removes acrx's keys from acr-configuration (see configmap.destroy) and no
other registry entry remains there. Anything else is someone's helper acrx merely configured
alongside: it stays. Both editions are looked for, whatever the config's flavour now.

Order: the ConfigMap keys go before the addon (teardown adds that dependency); the identities
the helper uses go after it.
"""

from __future__ import annotations

from typing import Any

from acrx import facts
from acrx.errors import AcrxError
from acrx.plan.change import Action, Change
from acrx.steps.addon.step import parse_live_config
from acrx.steps.configmap import destroy as configmap_destroy

KIND_DELETE = "cs.addon.delete"
KIND_KEEP = "keep"
EDITIONS = (facts.MANAGED_ADDON, facts.SELF_MANAGED_ADDON)


def ownership(ctx, instance) -> tuple[bool, str]:
    """(acrx's?, why) for one installed edition."""
    if instance.name == facts.MANAGED_ADDON:
        info = parse_live_config(instance.config).get(facts.MA_INSTANCE_INFO)
        ours, foreign = configmap_destroy.split_entries(ctx, info)
        if ours and not foreign:
            return True, "configured by acrx: its AcrInstanceInfo names only acrx's registry identities"
        if foreign:
            return False, (f"kept: its AcrInstanceInfo holds {len(foreign)} entry(ies) acrx did not write, "
                           "so other registries depend on it")
        return False, "adopted, kept: its config names none of acrx's registry identities"
    verdict = configmap_destroy.verdict(ctx)
    if configmap_destroy.removes_acrx_keys(ctx):
        return True, "configured by acrx: acr-configuration holds only acrx's registry entries, removed first"
    if verdict["foreign"]:
        return False, "kept: acr-configuration holds registry entries acrx did not write"
    return False, "adopted, kept: acr-configuration holds no registry entry of acrx's"


def plan_destroy(ctx) -> list[Change]:
    cluster_id = ctx.config.cluster.id
    installed = ctx.memo("cs:addons", lambda: ctx.cs().list_addon_instances(cluster_id))
    changes = []
    for listed in installed:
        if listed.name not in EDITIONS:
            continue
        instance = ctx.memo(f"cs:addon:{listed.name}", lambda n=listed.name: ctx.cs().get_addon_instance(cluster_id, n))
        if instance is None:
            continue
        address = f"cs.addon.{instance.name}"
        before = {"name": instance.name, "version": instance.version, "state": instance.state}
        owned, why = ownership(ctx, instance)
        if not owned:
            changes.append(Change(address, Action.NOOP, before=before, after=before, account=ctx.cluster_alias,
                                  kind=KIND_KEEP, reason=why))
            continue
        changes.append(Change(address, Action.DELETE, before=before, account=ctx.cluster_alias, kind=KIND_DELETE,
                              reason=why, data={"name": instance.name, "cluster_id": cluster_id}))
    return changes


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
        return {"name": name, "uninstalled": True}


def destroy_handlers(ctx) -> dict[str, Any]:
    return {KIND_DELETE: AddonDeleteHandler(ctx)}
