"""Destroy planning for `k8s.configmap.kube-system/acr-configuration`.

What marks acrx's writing is its registry entries: an `acr-registry-info` entry for a configured
instance that names acrx's registry role (`assumeRoleARN`) or carries the registry AccessKey of
access-key mode. When every entry is acrx's, the keys acrx manages are removed (the other keys
stay). The ConfigMap itself is deleted only when acrx created it (the record of its address in
the cluster's acrx-ownership ConfigMap, acrx.steps.ownership, written before the create) and no
other key remains. Entries of other instances or roles mean someone else uses the helper too:
then nothing is touched and the plan says why.
"""

from __future__ import annotations

from typing import Any

from acrx import facts
from acrx.cloud.arns import role_name_is
from acrx.kube.errors import KubeError
from acrx.plan.change import Action, Change
from acrx.steps import ownership
from acrx.steps.configmap.compare import MANAGED_KEYS, parse_yaml
from acrx.steps.configmap.step import ADDRESS, live_configmap

KIND_DELETE = "k8s.configmap.delete"
KIND_KEEP = "keep"


def is_acrx_entry(ctx, entry: Any) -> bool:
    """An acr-registry-info / AcrInstanceInfo entry acrx writes for this config."""
    if not isinstance(entry, dict):
        return False
    config = ctx.config
    if entry.get(facts.RI_INSTANCE_ID) not in {r.instance_id for r in config.registries}:
        return False
    role_arn = str(entry.get(facts.RI_ASSUME_ROLE_ARN) or "")
    return role_name_is(role_arn, config.registry_role_name) or bool(entry.get(facts.RI_ACCESS_KEY_ID))


def split_entries(ctx, entries: Any) -> tuple[list, list]:
    """(acrx's entries, everyone else's)."""
    items = entries if isinstance(entries, list) else ([] if entries in (None, "") else [entries])
    ours = [e for e in items if is_acrx_entry(ctx, e)]
    return ours, [e for e in items if not is_acrx_entry(ctx, e)]


def verdict(ctx) -> dict:
    """What destroy does with the ConfigMap, read once a run: {"present", "ours", "foreign",
    "keys" (the managed keys present), "others" (every other key)}."""
    def read() -> dict:
        live = live_configmap(ctx)
        # acrx's when recorded as created by acrx, or when the self-managed addon acrx installed
        # shipped it (the install creates acr-configuration; a run may die before acrx's own write).
        created = any(ownership.recorded(ctx, address) is not None
                      for address in (ADDRESS, f"cs.addon.{facts.SELF_MANAGED_ADDON}"))
        if live is None:
            return {"present": False, "created": created, "ours": [], "foreign": [], "keys": [], "others": []}
        data = live.get("data") or {}
        ours, foreign = split_entries(ctx, parse_yaml(data.get(facts.CM_REGISTRY_INFO) or ""))
        return {"present": True, "created": created, "ours": ours, "foreign": foreign,
                "keys": [k for k in MANAGED_KEYS if k in data], "others": sorted(k for k in data if k not in MANAGED_KEYS)}

    return ctx.memo("destroy:configmap", read)


def plan_destroy(ctx) -> list[Change]:
    v = verdict(ctx)
    account = ctx.cluster_alias
    if not v["present"]:
        if not v["created"]:
            return []
        return [Change(ADDRESS, Action.DELETE, before=None, account=account, kind=KIND_DELETE,
                       reason="absent, but recorded by a run that stopped before creating it: the record is removed",
                       data={"namespace": facts.CONFIGMAP_NAMESPACE, "name": facts.CONFIGMAP_NAME, "keys": [],
                             "delete_configmap": False})]
    before = {"keys": v["keys"], "other_keys": v["others"]}
    if not v["ours"] and not v["created"]:
        return [Change(ADDRESS, Action.NOOP, before=before, after=before, account=account, kind=KIND_KEEP,
                       reason="adopted, kept: acr-registry-info holds no entry acrx wrote for this config")]
    if v["foreign"]:
        return [Change(ADDRESS, Action.NOOP, before=before, after=before, account=account, kind=KIND_KEEP,
                       reason=f"kept: acr-registry-info also holds {len(v['foreign'])} entry(ies) acrx did not "
                              "write, which need the helper's keys; remove acrx's entry by hand")]
    whole = not v["others"] and v["created"]
    reason = (f"removes the keys acrx manages ({', '.join(v['keys'])}); acrx (or the addon it installed) created "
              "the ConfigMap and no other key remains, so it is deleted" if whole else
              f"removes the keys acrx manages ({', '.join(v['keys'])}); the ConfigMap stays for its other "
              f"key(s): {', '.join(v['others'])}" if v["others"] else
              f"removes the keys acrx manages ({', '.join(v['keys'])}); the ConfigMap stays: acrx did not create it")
    after = None if whole else {"keys": [], "other_keys": v["others"]}
    return [Change(ADDRESS, Action.DELETE, before=before, after=after, account=account, kind=KIND_DELETE,
                   reason=reason, data={"namespace": facts.CONFIGMAP_NAMESPACE, "name": facts.CONFIGMAP_NAME,
                                        "keys": v["keys"], "delete_configmap": whole})]


class ConfigMapDeleteHandler:
    def __init__(self, ctx):
        self.ctx = ctx

    def describe(self, change: Change) -> str:
        d = change.data
        return f"removing acrx's keys from ConfigMap {d['namespace']}/{d['name']}"

    def apply(self, change: Change, actx) -> dict:
        d = change.data
        kube = self.ctx.kube()
        ns, name = d["namespace"], d["name"]
        deleted = False
        try:
            live = kube.get_configmap(ns, name)
            if live is None:
                ownership.drop(self.ctx, change.address)
                return {"namespace": ns, "name": name, "deleted": True}
            others = [k for k in (live.get("data") or {}) if k not in MANAGED_KEYS]
            # A key added since the plan keeps the ConfigMap: only acrx's keys ever go.
            if d.get("delete_configmap") and not others:
                try:
                    kube.delete_configmap(ns, name)
                    deleted = True
                except KubeError as exc:
                    if not exc.not_found:
                        raise
                    deleted = True
            else:
                kube.patch_configmap_data(ns, name, {key: None for key in d["keys"]})
        finally:
            self.ctx.forget("k8s:acr-configuration")
            self.ctx.forget("destroy:configmap")
        ownership.drop(self.ctx, change.address)   # the mark goes last: a stopped destroy still finds it
        return {"namespace": ns, "name": name, "deleted": deleted, "removed_keys": list(d["keys"])}


def destroy_handlers(ctx) -> dict[str, Any]:
    return {KIND_DELETE: ConfigMapDeleteHandler(ctx)}
