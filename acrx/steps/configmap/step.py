"""`k8s.configmap.kube-system/acr-configuration`: the self-managed helper's settings.

Only the keys acrx manages (service-account, watch-namespace, expiring-threshold, notify-email,
acr-registry-info, rrsa) are compared and written; every other key of the ConfigMap is kept
(the write is a strategic-merge patch of those keys; a managed key the config no longer wants
is removed with null).

Access-key mode puts a registry AccessKey into each entry of acr-registry-info: the key of acrx's
RAM user in that entry's account. Per account its secret comes from, in order: the key the same
plan creates (an AccessKeyOutput the identity step publishes; a Ref), the environment variables
the config names, or the live ConfigMap when its customAccessKey is a key of acrx's RAM user. It is Sensitive everywhere: the plan, the
journal and JSON show "(sensitive)", and the YAML holding it is rendered only inside the handler.
"""

from __future__ import annotations

import os
from typing import Any

from acrx import facts
from acrx.errors import PreflightError
from acrx.kube.errors import KubeError
from acrx.plan.change import Action, Change, Sensitive
from acrx.steps.addon.entries import registry_entries
from acrx.steps.configmap.compare import (LIVE_SECRET_SOURCE, MANAGED_KEYS, desired_view, live_view,
                                          parse_yaml, reveal, same_value)
from acrx.steps.identity.names import registry_aliases
from acrx.steps.outputs import AccessKeyOutput

KIND = "k8s.configmap"
ADDRESS = f"k8s.configmap.{facts.CONFIGMAP_NAMESPACE}/{facts.CONFIGMAP_NAME}"


def live_configmap(ctx) -> dict | None:
    return ctx.memo("k8s:acr-configuration",
                    lambda: ctx.kube().get_configmap(facts.CONFIGMAP_NAMESPACE, facts.CONFIGMAP_NAME))


def _acrx_key_ids(ctx, alias: str) -> set[str]:
    """AccessKey ids of acrx's RAM user in registry account `alias`; empty if it has none."""
    from acrx.errors import CloudError

    api = ctx.session.account(alias).ram_api
    try:
        return {k.access_key_id for k in api.list_access_keys(ctx.config.access_key_user_name)}
    except CloudError as exc:
        if exc.http_status == 404 or "NotExist" in (exc.code or "") or "NotFound" in (exc.code or ""):
            return set()
        raise


def _live_key(ctx, alias: str) -> tuple[str, Sensitive] | None:
    """A key of acrx's user in `alias` that the live ConfigMap already holds, with its secret."""
    live = live_configmap(ctx)
    entries = parse_yaml(((live or {}).get("data") or {}).get(facts.CM_REGISTRY_INFO) or "")
    if not isinstance(entries, list):
        return None
    owned = None
    for entry in entries:
        if isinstance(entry, dict) and entry.get(facts.RI_ACCESS_KEY_ID) and entry.get(facts.RI_ACCESS_KEY_SECRET):
            owned = owned if owned is not None else _acrx_key_ids(ctx, alias)
            if str(entry[facts.RI_ACCESS_KEY_ID]) in owned:
                return (str(entry[facts.RI_ACCESS_KEY_ID]),
                        Sensitive(str(entry[facts.RI_ACCESS_KEY_SECRET]), source=LIVE_SECRET_SOURCE))
    return None


def access_keys(ctx) -> dict[str, tuple[Any, Any]]:
    """{registry account alias: (AccessKey id, secret)} for access-key mode; each secret is a
    Sensitive or a Ref. Per account, in order: the key this plan creates there (an
    AccessKeyOutput of the policy step), the key the environment names (with one registry account,
    or when it is a key of acrx's user in that account), a key of acrx's user the live ConfigMap
    already holds."""
    aliases = registry_aliases(ctx.config)
    created = {out.account: out for out in ctx.outputs.of(AccessKeyOutput)}
    names = ctx.config.addon.access_key
    key_id = os.environ.get(names.access_key_id_env)
    secret = os.environ.get(names.access_key_secret_env)
    found: dict[str, tuple[Any, Any]] = {}
    for alias in aliases:
        if alias in created:
            found[alias] = (created[alias].key_id, created[alias].secret)
        elif key_id and secret and (len(aliases) == 1 or key_id in _acrx_key_ids(ctx, alias)):
            found[alias] = (key_id, Sensitive(secret, source=f"env:{names.access_key_secret_env}"))
        else:
            live = _live_key(ctx, alias)
            if live is None:
                raise _no_key(ctx, alias, several=len(aliases) > 1, key_id=key_id, secret=secret)
            found[alias] = live
    return found


def _no_key(ctx, alias: str, *, several: bool, key_id, secret) -> PreflightError:
    names = ctx.config.addon.access_key
    user = ctx.config.access_key_user_name
    missing = [n for n, v in ((names.access_key_id_env, key_id), (names.access_key_secret_env, secret)) if not v]
    if missing:
        env = f"environment variable {', '.join(missing)} is not set"
    else:
        env = f"the AccessKey in ${names.access_key_id_env} is not a key of RAM user {user} in account {alias!r}"
    where = f" in registry account {alias!r}" if several else ""
    return PreflightError(
        f"access-key mode needs the registry AccessKey{where}: {env}, and the live ConfigMap holds no key of "
        f"RAM user {user}{where}",
        hint="export the AccessKey id and secret under the names in addon.access_key, or create the key "
             "with the identity step in the same run")


def desired_values(ctx) -> dict[str, Any]:
    """Each managed key acrx wants, in parsed form (registry entries as a list, rrsa as a map)."""
    config = ctx.config
    keys = access_keys(ctx) if config.mode == "access-key" else None
    addon = config.addon
    wanted: dict[str, Any] = {
        facts.CM_SERVICE_ACCOUNT: ",".join(addon.service_accounts),
        facts.CM_WATCH_NAMESPACE: ",".join(addon.watch_namespaces),
        facts.CM_EXPIRING_THRESHOLD: addon.expiring_threshold,
    }
    if addon.notify_email:
        wanted[facts.CM_NOTIFY_EMAIL] = addon.notify_email
    wanted[facts.CM_REGISTRY_INFO] = registry_entries(ctx, access_keys=keys)
    if config.mode == "rrsa":
        wanted[facts.CM_RRSA] = {"enable": True}
    return wanted


class ConfigMapStep:
    name = "configmap"

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
        wanted = desired_values(ctx)
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
                from acrx.steps import ownership
                ownership.record(self.ctx, change.address)   # acrx's mark, before the ConfigMap exists
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
