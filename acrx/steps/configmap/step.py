"""`k8s.configmap.kube-system/acr-configuration`: the self-managed helper's settings.

Only the keys acrx manages (service-account, watch-namespace, expiring-threshold, notify-email,
acr-registry-info, rrsa) are compared and written; every other key of the ConfigMap is kept
(the write is a strategic-merge patch of those keys; a managed key the config no longer wants
is removed with null).

Access-key mode puts a registry AccessKey into acr-registry-info. Its secret comes from, in
order: the `ram.access_key.registry` change of the same plan (a Ref, when the step is built with
`access_key_in_plan=True`), the environment variables the config names, or the live ConfigMap
when its customAccessKey is a key of acrx's RAM user. It is Sensitive everywhere: the plan, the
journal and JSON show "(sensitive)", and the YAML holding it is rendered only inside the handler.
"""

from __future__ import annotations

import os
from typing import Any

from acrx import facts
from acrx.errors import PreflightError
from acrx.kube.errors import KubeError
from acrx.plan.change import Action, Change, Ref, Sensitive
from acrx.steps.addon.entries import registry_entries
from acrx.steps.configmap.compare import (LIVE_SECRET_SOURCE, MANAGED_KEYS, desired_view, live_view,
                                          parse_yaml, reveal, same_value)

KIND = "k8s.configmap"
ADDRESS = f"k8s.configmap.{facts.CONFIGMAP_NAMESPACE}/{facts.CONFIGMAP_NAME}"
ACCESS_KEY_ADDRESS = "ram.access_key.registry"


def live_configmap(ctx) -> dict | None:
    return ctx.memo("k8s:acr-configuration",
                    lambda: ctx.kube().get_configmap(facts.CONFIGMAP_NAMESPACE, facts.CONFIGMAP_NAME))


def _acrx_key_ids(ctx) -> set[str]:
    """AccessKey ids of acrx's RAM user in the (first) registry account; empty if it has none."""
    from acrx.errors import CloudError

    config = ctx.config
    api = ctx.session.account(config.registry.account).ram_api
    try:
        return {k.access_key_id for k in api.list_access_keys(config.access_key_user_name)}
    except CloudError as exc:
        if exc.http_status == 404 or "NotExist" in (exc.code or "") or "NotFound" in (exc.code or ""):
            return set()
        raise


def access_key_source(ctx, access_key_in_plan: bool) -> tuple[Any, Any]:
    """(AccessKey id, secret) for access-key mode; the secret is a Sensitive or a Ref."""
    if access_key_in_plan:
        return (Ref(ACCESS_KEY_ADDRESS, "access_key_id", "the new AccessKey id"),
                Ref(ACCESS_KEY_ADDRESS, "access_key_secret", "the new AccessKey secret"))
    names = ctx.config.addon.access_key
    key_id = os.environ.get(names.access_key_id_env)
    secret = os.environ.get(names.access_key_secret_env)
    if key_id and secret:
        return key_id, Sensitive(secret, source=f"env:{names.access_key_secret_env}")
    live = live_configmap(ctx)
    entries = parse_yaml(((live or {}).get("data") or {}).get(facts.CM_REGISTRY_INFO) or "")
    if isinstance(entries, list):
        owned = None
        for entry in entries:
            if isinstance(entry, dict) and entry.get(facts.RI_ACCESS_KEY_ID) and entry.get(facts.RI_ACCESS_KEY_SECRET):
                owned = owned if owned is not None else _acrx_key_ids(ctx)
                if str(entry[facts.RI_ACCESS_KEY_ID]) in owned:
                    return (str(entry[facts.RI_ACCESS_KEY_ID]),
                            Sensitive(str(entry[facts.RI_ACCESS_KEY_SECRET]), source=LIVE_SECRET_SOURCE))
    missing = [n for n, v in ((names.access_key_id_env, key_id), (names.access_key_secret_env, secret)) if not v]
    raise PreflightError(
        f"access-key mode needs the registry AccessKey: environment variable {', '.join(missing)} is not set, "
        f"and the live ConfigMap holds no key of RAM user {ctx.config.access_key_user_name}",
        hint="export the AccessKey id and secret under the names in addon.access_key, or create the key "
             "with the identity step in the same run")


def desired_values(ctx, access_key_in_plan: bool) -> dict[str, Any]:
    """Each managed key acrx wants, in parsed form (registry entries as a list, rrsa as a map)."""
    config = ctx.config
    access_key = access_key_source(ctx, access_key_in_plan) if config.mode == "access-key" else None
    addon = config.addon
    wanted: dict[str, Any] = {
        facts.CM_SERVICE_ACCOUNT: ",".join(addon.service_accounts),
        facts.CM_WATCH_NAMESPACE: ",".join(addon.watch_namespaces),
        facts.CM_EXPIRING_THRESHOLD: addon.expiring_threshold,
    }
    if addon.notify_email:
        wanted[facts.CM_NOTIFY_EMAIL] = addon.notify_email
    wanted[facts.CM_REGISTRY_INFO] = registry_entries(ctx, access_key=access_key)
    if config.mode == "rrsa":
        wanted[facts.CM_RRSA] = {"enable": True}
    return wanted


class ConfigMapStep:
    name = "configmap"

    def __init__(self, access_key_in_plan: bool = False):
        self.access_key_in_plan = access_key_in_plan

    def preflight(self, ctx) -> None:
        if ctx.config.addon_flavour != "self-managed":
            return
        if ctx.config.mode == "access-key" and not ctx.options.allow_plaintext_access_key:
            raise PreflightError(
                "access-key mode writes a registry AccessKey secret into the ConfigMap in plaintext; "
                "anyone who can read ConfigMaps in kube-system can read it", field="--allow-plaintext-access-key",
                hint="pass --allow-plaintext-access-key to accept that, or use rrsa or worker-role mode")

    def plan(self, ctx) -> list[Change]:
        config = ctx.config
        if config.addon_flavour != "self-managed":
            return []   # the managed edition takes its settings from the addon config
        wanted = desired_values(ctx, self.access_key_in_plan)
        live = live_configmap(ctx)
        addon = config.addon
        data = {"namespace": facts.CONFIGMAP_NAMESPACE, "name": facts.CONFIGMAP_NAME,
                "entries": wanted[facts.CM_REGISTRY_INFO], "rrsa": config.mode == "rrsa",
                "service_accounts": list(addon.service_accounts), "watch_namespaces": list(addon.watch_namespaces),
                "expiring_threshold": addon.expiring_threshold, "notify_email": addon.notify_email}
        common = dict(account=ctx.cluster_alias, kind=KIND, data=data)
        if live is None:
            return [Change(ADDRESS, Action.CREATE, before=None, after=desired_view(wanted, {}),
                           reason="the ConfigMap does not exist", **common)]
        live_data = live.get("data") or {}
        before = live_view(live_data)
        after = desired_view(wanted, before)
        differing = [k for k in MANAGED_KEYS if not same_value(k, live_data.get(k), wanted.get(k))]
        others = sorted(k for k in live_data if k not in MANAGED_KEYS)
        kept = f"; {len(others)} other key(s) kept as they are ({', '.join(others)})" if others else ""
        if not differing:
            return [Change(ADDRESS, Action.NOOP, before=before, after=before,
                           reason=f"the keys acrx manages hold the configured values{kept}", **common)]
        return [Change(ADDRESS, Action.UPDATE, before=before, after=after,
                       reason=f"{', '.join(differing)} differ{kept}", **common)]

    def handlers(self, ctx) -> dict[str, Any]:
        return {KIND: ConfigMapHandler(ctx)}


def render_data(data: dict) -> dict[str, str]:
    """The managed keys' strings, rendered from the handler's data with secrets revealed."""
    from acrx.cloud.errors import register_secret
    from acrx.render.configmap import configmap_data

    entries = reveal(data["entries"])
    for entry in entries:
        register_secret(entry.get(facts.RI_ACCESS_KEY_SECRET))   # never echoed by an error message
    return configmap_data(entries, rrsa=data["rrsa"], service_accounts=data["service_accounts"],
                          watch_namespaces=data["watch_namespaces"], expiring_threshold=data["expiring_threshold"],
                          notify_email=data.get("notify_email"))


class ConfigMapHandler:
    required_inputs = ("namespace", "name", "entries")

    def __init__(self, ctx):
        self.ctx = ctx

    def describe(self, change: Change) -> str:
        verb = "creating" if change.action is Action.CREATE else "patching the acrx keys of"
        return f"{verb} ConfigMap {change.data['namespace']}/{change.data['name']}"

    def apply(self, change: Change, actx) -> dict[str, Any]:
        kube = self.ctx.kube()
        ns, name = change.data["namespace"], change.data["name"]
        rendered = render_data(change.data)
        # Every managed key: the wanted string, or None to remove one the config no longer wants.
        patch = {key: rendered.get(key) for key in MANAGED_KEYS}
        try:
            if change.action is Action.CREATE:
                try:
                    kube.create_configmap(ns, name, rendered)
                except KubeError as exc:
                    if not exc.conflict:   # created meanwhile (the addon ships one): patch it
                        raise
                    kube.patch_configmap_data(ns, name, patch)
            else:
                try:
                    kube.patch_configmap_data(ns, name, patch)
                except KubeError as exc:
                    if not exc.not_found:
                        raise
                    kube.create_configmap(ns, name, rendered)
        finally:
            self.ctx.forget("k8s:acr-configuration")
        return {"namespace": ns, "name": name, "keys": sorted(rendered)}
