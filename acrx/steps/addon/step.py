"""`cs.addon.<name>`: the credential helper addon, managed or self-managed.

Desired: the managed edition's whole config (registry entries, RRSA switch, service accounts,
namespaces, threshold) or the self-managed edition's tokenMode; checked and coerced against
DescribeAddon's config_schema before anything is sent. Observed: GetClusterAddonInstance.
Not installed -> create (InstallClusterAddons, wait on the task). Config drifted -> update
(ModifyClusterAddon with the WHOLE config: the call replaces it). The other edition installed ->
preflight error, since only one can be installed at a time. The read-back after apply, and
drift, compare "what acrx sets within what the cluster reports" (readback.py).

CS's precheck refuses the helper on ACK managed clusters created since 2023-04-03 unless account
A authorized AliyunCSManagedAcrRole: the step plans that role first (identity/service_role.py).
"""

from __future__ import annotations

import json
from typing import Any

from acrx import facts
from acrx.errors import AcrxError, PreflightError
from acrx.plan.change import Action, Change
from acrx.steps.addon import order_trap, readback
from acrx.steps.addon.entries import registry_entries
from acrx.steps.addon.schema import check_shape, conform
from acrx.steps.identity import service_role

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


def addon_schema(ctx, name: str):
    """DescribeAddon's config_schema (parsed), read once a run; in a fleet plan once per kind of
    cluster: the answer is the addon catalogue's entry for the cluster's region, type, profile,
    spec and Kubernetes version (CS DescribeAddon's request names exactly these, cluster_id standing
    for them), the same for every cluster and account that shares them."""
    def read():
        from acrx.cloud.read_memo import fleet_read

        cluster = ctx.cluster()
        kind = (name, cluster.region, cluster.type, cluster.profile, cluster.spec, cluster.version)
        return fleet_read(ctx.session, ("cs:DescribeAddon",) + kind,
                          lambda: ctx.cs().describe_addon(name, cluster_id=ctx.config.cluster.id))

    return ctx.memo(f"cs:addon-info:{name}", read).config_schema


def desired_config(ctx) -> dict:
    """The config checked against the addon's published schema and coerced to its types."""
    def build() -> dict:
        name = addon_name(ctx.config)
        schema = addon_schema(ctx, name)
        wanted = render_config(ctx)
        # A schema of a shape acrx cannot read stops here, naming its keys; none at all is sent
        # unchecked (the read-back after apply still compares what acrx set).
        if not check_shape(name, schema, list(wanted)):
            ctx.warn(f"DescribeAddon gave no config_schema for {name}; its config keys are sent unchecked")
            return wanted
        return conform(name, wanted, schema)

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


def config_drift(ctx, desired: dict, live: dict) -> list[str]:
    """Top-level keys in which the live config is not what acrx set (acrx.steps.addon.readback:
    what acrx sets must be within what the cluster reports; the cloud's own keys and defaults
    are not drift)."""
    name = addon_name(ctx.config)
    return readback.drift(name, desired, live, addon_schema(ctx, name))


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
        service_role.observe(ctx)   # the role CS's precheck wants, read in account A

    def plan(self, ctx) -> list[Change]:
        config = ctx.config
        name = addon_name(config)
        address = addon_address(config)
        desired = desired_config(ctx)
        text = json.dumps(desired, separators=(",", ":"), sort_keys=True)
        common = dict(account=ctx.cluster_alias, kind=KIND,
                      data={"name": name, "config": text, "cluster_id": config.cluster.id})
        role = service_role.plan(ctx)
        if role.action in (Action.CREATE, Action.UPDATE):   # CS's precheck refuses the addon without it
            common["depends_on"] = (role.address,)
        live = live_instance(ctx)
        if live is None or live.state == facts.ADDON_FAILED:
            why = f"{name} is not installed" if live is None else f"the last install of {name} failed; installing again"
            changes = [Change(address, Action.CREATE, before=None, after={"name": name, "config": desired},
                              reason=why, **common)]
        else:
            current = parse_live_config(live.config)
            drift = config_drift(ctx, desired, current)
            state = f"{name} {live.version} is {live.state}"
            if drift:
                changes = [Change(address, Action.UPDATE, before={"config": current}, after={"config": desired},
                                  reason=f"{state}; its config differs in {', '.join(drift)} "
                                         "(ModifyClusterAddon replaces the whole config)", **common)]
            else:
                settles = "" if live.state == facts.ADDON_ACTIVE else "; its task settles by itself"
                changes = [Change(address, Action.NOOP, before={"config": current}, after={"config": desired},
                                  reason=f"{state} with the configured settings{settles}", **common)]
        return [role] + changes + order_trap.plan_pod_restarts(ctx, address, live)

    def handlers(self, ctx) -> dict[str, Any]:
        return {KIND: AddonHandler(ctx), order_trap.KIND: order_trap.PodRestartHandler(ctx),
                service_role.KIND: service_role.ServiceRoleHandler(ctx)}


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
            task_id = self._precheck(lambda: cs.install_addons(cluster_id, [{"name": name, "config": text}]), name)
            if task_id:
                self._wait_task(actx, cs, task_id, f"the install task of {name}", budget)
        elif change.action is Action.UPDATE:
            # A config change is refused while another task runs on the addon.
            actx.wait_until(lambda: self._idle(cs, cluster_id, name), what=f"{name} to be idle", budget_s=budget)
            self._precheck(lambda: cs.modify_addon_config(cluster_id, name, text), name)
        else:
            raise AcrxError(f"{change.address}: cannot {change.action} an addon")
        instance = actx.wait_until(lambda: self._settled(cs, cluster_id, name), what=f"{name} to be active",
                                   budget_s=budget)
        if instance.state != facts.ADDON_ACTIVE:
            raise AcrxError(f"addon {name} ended {instance.state}", hint="see the add-on's events in the ACK console")
        live = parse_live_config(instance.config)
        wanted = json.loads(text)
        drift = config_drift(self.ctx, wanted, live)
        if drift:
            raise AcrxError(f"addon {name} is active but its config still differs in {', '.join(drift)}")
        self.ctx.forget("cs:addon")
        return {"name": name, "version": instance.version, "state": instance.state}

    @staticmethod
    def _precheck(call, name: str):
        """`call()`, with CS's precheck refusal (the service role) turned into what to do."""
        try:
            return call()
        except Exception as exc:
            if getattr(exc, "code", None) != facts.ACR_SERVICE_ROLE_MISSING_CODE:
                raise
            raise AcrxError(
                f"CS refused {name}: its precheck wants {facts.ACR_SERVICE_ROLE} authorized in the cluster's "
                f"account ({getattr(exc, 'cloud_message', '') or exc})",
                hint=f"plan again: acrx plans {facts.ACR_SERVICE_ROLE} when the cluster needs it; a role made "
                     "moments ago may take a while to reach CS") from None

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
