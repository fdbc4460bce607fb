"""`cs.addon.<name>`: the credential helper addon, managed or self-managed.

Desired: the managed edition's whole config (registry entries, RRSA switch, service accounts,
namespaces, threshold) or the self-managed edition's tokenMode; checked and coerced against
DescribeAddon's config_schema before anything is sent. Observed: GetClusterAddonInstance.
Not installed -> create (InstallClusterAddons, wait on the task). Config drifted -> update
(ModifyClusterAddon with the WHOLE config: the call replaces it). The other edition installed ->
preflight error, since only one can be installed at a time.
"""

from __future__ import annotations

import json
from typing import Any

from acrx import facts
from acrx.errors import AcrxError, PreflightError
from acrx.plan.change import Action, Change
from acrx.steps.addon import order_trap
from acrx.steps.addon.entries import registry_entries
from acrx.steps.addon.schema import conform, has_properties

KIND = "cs.addon"
FLAVOUR_OF = {facts.MANAGED_ADDON: "managed", facts.SELF_MANAGED_ADDON: "self-managed"}


def addon_name(config) -> str:
    return facts.MANAGED_ADDON if config.addon_flavour == "managed" else facts.SELF_MANAGED_ADDON


def addon_address(config) -> str:
    return f"cs.addon.{addon_name(config)}"


def render_config(ctx) -> dict:
    """The addon config acrx wants, before the schema check (a dict; JSON-encoded when sent)."""
    from acrx.render.addon_config import managed_addon_config, self_managed_addon_config

    config = ctx.config
    if config.addon_flavour == "self-managed":
        return json.loads(self_managed_addon_config(config.token_mode or "auto"))
    addon = config.addon
    return json.loads(managed_addon_config(
        registry_entries(ctx), enable_rrsa=config.mode == "rrsa", service_accounts=addon.service_accounts,
        watch_namespaces=addon.watch_namespaces, expiring_threshold=addon.expiring_threshold,
        notify_email=addon.notify_email))


def desired_config(ctx) -> dict:
    """The config checked against the addon's published schema and coerced to its types."""
    def build() -> dict:
        name = addon_name(ctx.config)
        info = ctx.memo(f"cs:addon-info:{name}",
                        lambda: ctx.cs().describe_addon(name, cluster_id=ctx.config.cluster.id))
        wanted = render_config(ctx)
        if not has_properties(info.config_schema):
            ctx.warn(f"DescribeAddon gave no config_schema for {name}; its config keys are sent unchecked")
            return wanted
        return conform(name, wanted, info.config_schema)

    return ctx.memo("addon:desired-config", build)


def live_instance(ctx):
    name = addon_name(ctx.config)
    return ctx.memo(f"cs:addon:{name}", lambda: ctx.cs().get_addon_instance(ctx.config.cluster.id, name))


def parse_live_config(text: str | None) -> dict:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {"(unparsed)": text}
    return value if isinstance(value, dict) else {"(unparsed)": text}


def config_drift(desired: dict, live: dict) -> list[str]:
    """Top-level keys whose live value differs. A key only the live side has counts when it holds
    a value (the cloud may echo empty defaults for keys acrx does not send)."""
    keys = [k for k in desired if desired[k] != live.get(k)]
    keys += [k for k in live if k not in desired and live[k] not in (None, "", [], {})]
    return keys


class AddonStep:
    name = "addon"

    def preflight(self, ctx) -> None:
        config = ctx.config
        name, flavour = addon_name(config), config.addon_flavour
        cluster = ctx.cluster()
        kind = facts.cluster_kind(cluster.type, cluster.profile, cluster.spec)
        if not facts.is_supported(facts.FLAVOUR_SUPPORT[flavour], kind, cluster.version):
            kinds, minimum = facts.FLAVOUR_SUPPORT[flavour]
            raise PreflightError(
                f"the {flavour} addon {name} does not run on this {kind} cluster of Kubernetes {cluster.version} "
                f"(it needs one of {', '.join(kinds)}, {minimum[0]}.{minimum[1]} or later)",
                hint="set addon.flavour to the other edition if the mode allows it")
        other = facts.SELF_MANAGED_ADDON if name == facts.MANAGED_ADDON else facts.MANAGED_ADDON
        installed = ctx.memo("cs:addons", lambda: ctx.cs().list_addon_instances(config.cluster.id))
        for instance in installed:
            if instance.name == other and instance.state != facts.ADDON_FAILED:
                raise PreflightError(
                    f"the {FLAVOUR_OF[other]} edition {other} is installed on cluster {config.cluster.id} "
                    f"({instance.state}); only one edition of the credential helper can be installed at a time",
                    hint=f"keep it by setting addon.flavour: {FLAVOUR_OF[other]} in acrx.yaml, or uninstall "
                         f"{other} (ACK console > Add-ons, or CS UnInstallClusterAddons) and plan again")
        desired_config(ctx)   # a key the schema lacks stops the run here, before any write

    def plan(self, ctx) -> list[Change]:
        config = ctx.config
        name = addon_name(config)
        address = addon_address(config)
        desired = desired_config(ctx)
        text = json.dumps(desired, separators=(",", ":"), sort_keys=True)
        common = dict(account=ctx.cluster_alias, kind=KIND,
                      data={"name": name, "config": text, "cluster_id": config.cluster.id})
        live = live_instance(ctx)
        if live is None or live.state == facts.ADDON_FAILED:
            why = f"{name} is not installed" if live is None else f"the last install of {name} failed; installing again"
            changes = [Change(address, Action.CREATE, before=None, after={"name": name, "config": desired},
                              reason=why, **common)]
        else:
            current = parse_live_config(live.config)
            drift = config_drift(desired, current)
            state = f"{name} {live.version} is {live.state}"
            if drift:
                changes = [Change(address, Action.UPDATE, before={"config": current}, after={"config": desired},
                                  reason=f"{state}; its config differs in {', '.join(drift)} "
                                         "(ModifyClusterAddon replaces the whole config)", **common)]
            else:
                settles = "" if live.state == facts.ADDON_ACTIVE else "; its task settles by itself"
                changes = [Change(address, Action.NOOP, before={"config": current}, after={"config": desired},
                                  reason=f"{state} with the configured settings{settles}", **common)]
        return changes + order_trap.plan_pod_restarts(ctx, address, live)

    def handlers(self, ctx) -> dict[str, Any]:
        return {KIND: AddonHandler(ctx), order_trap.KIND: order_trap.PodRestartHandler(ctx)}


class AddonHandler:
    required_inputs = ("name", "config")

    def __init__(self, ctx):
        self.ctx = ctx

    def describe(self, change: Change) -> str:
        name = change.data["name"]
        return f"installing addon {name}" if change.action is Action.CREATE else f"replacing the config of addon {name}"

    def apply(self, change: Change, actx) -> dict:
        cs = self.ctx.cs()
        cluster_id, name, text = change.data["cluster_id"], change.data["name"], change.data["config"]
        budget = self.ctx.options.wait_budget_s
        if change.action is Action.CREATE:
            from acrx.steps import ownership
            ownership.record(self.ctx, change.address, addon=name)   # acrx's mark, before the install
            task_id = cs.install_addons(cluster_id, [{"name": name, "config": text}])
            if task_id:
                self._wait_task(actx, cs, task_id, f"the install task of {name}", budget)
        elif change.action is Action.UPDATE:
            # A config change is refused while another task runs on the addon.
            actx.wait_until(lambda: self._idle(cs, cluster_id, name), what=f"{name} to be idle", budget_s=budget)
            cs.modify_addon_config(cluster_id, name, text)
        else:
            raise AcrxError(f"{change.address}: cannot {change.action} an addon")
        instance = actx.wait_until(lambda: self._settled(cs, cluster_id, name), what=f"{name} to be active",
                                   budget_s=budget)
        if instance.state != facts.ADDON_ACTIVE:
            raise AcrxError(f"addon {name} ended {instance.state}", hint="see the add-on's events in the ACK console")
        live = parse_live_config(instance.config)
        wanted = json.loads(text)
        drift = config_drift(wanted, live)
        if drift:
            raise AcrxError(f"addon {name} is active but its config still differs in {', '.join(drift)}")
        self.ctx.forget("cs:addon")
        return {"name": name, "version": instance.version, "state": instance.state}

    @staticmethod
    def _idle(cs, cluster_id: str, name: str):
        instance = cs.get_addon_instance(cluster_id, name)
        return instance is None or instance.state not in facts.ADDON_BUSY_STATES

    @staticmethod
    def _settled(cs, cluster_id: str, name: str):
        instance = cs.get_addon_instance(cluster_id, name)
        if instance is None or instance.state in facts.ADDON_BUSY_STATES:
            return None
        return instance

    @staticmethod
    def _wait_task(actx, cs, task_id: str, what: str, budget: float) -> None:
        task = actx.wait_until(lambda: (lambda t: t if t.finished else None)(cs.describe_task(task_id)),
                               what=what, budget_s=budget)
        if not task.succeeded:
            detail = ": ".join(x for x in (task.error_code, task.error_message) if x) or task.state
            raise AcrxError(f"{what} ({task_id}) failed: {detail}")
