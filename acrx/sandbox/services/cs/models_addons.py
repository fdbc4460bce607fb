"""Addon instances on a cluster: install, modify config, uninstall, each a slow task.

States: installing -> active | failed; active -> updating -> active; active -> deleting -> gone.
Every change of state calls `world.hooks["addon_changed"](cluster_id, name, state, config)` when
that hook is set (the sandbox cluster starts or stops the helper from it). `config` is the
parsed addon config (a dict); state "deleted" means the addon is gone.

ModifyClusterAddon REPLACES the config with the string given ([?] whether the cloud merges it
server-side is unknown; replacing is the stricter choice: a caller must send the whole config).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from acrx.sandbox.core import slowop
from acrx.sandbox.core.errors import ApiError
from acrx.sandbox.services.cs import addons as catalog
from acrx.sandbox.services.cs import precheck, readback
from acrx.sandbox.services.cs.models import CLUSTER_NOT_RUNNING, Cluster, Task

INSTALL_SECONDS = 30   # observed: the managed helper reached `active` about 30 s after install
CONFIG_SECONDS = 30    # [?]
UNINSTALL_SECONDS = 30  # [?]


@dataclass
class AddonInstance:
    name: str
    version: str
    config_text: str          # the JSON string as the caller sent it ("" when none)
    config: dict = field(default_factory=dict)
    settled_state: str = "installing"
    task: Task | None = None  # the task changing it, until applied

    @property
    def state(self) -> str:
        if self.task is not None and not self.task.applied:
            return {"addon_install": "installing", "addon_config": "updating",
                    "addon_uninstall": "deleting"}[self.task.op.kind]
        return self.settled_state


def _notify(cluster: Cluster, addon: AddonInstance, state: str) -> None:
    hook = cluster.world.hooks.get("addon_changed")
    if hook is not None:
        hook(cluster.cluster_id, addon.name, state, dict(addon.config))


def _require_running(cluster: Cluster) -> None:
    if cluster.state != "running":
        raise ApiError(CLUSTER_NOT_RUNNING, f"Cluster {cluster.cluster_id} is in state {cluster.state}, not running.", 400)


def _existing(cluster: Cluster, name: str) -> AddonInstance:
    cluster.settle()
    addon = cluster.addons.get(name)
    if addon is None:
        raise ApiError(catalog.ADDON_NOT_FOUND, f"Addon {name} is not installed in cluster {cluster.cluster_id}.", 404)
    return addon


def _require_idle(addon: AddonInstance) -> None:
    if addon.state not in ("active", "failed"):
        raise ApiError(catalog.ADDON_BUSY, f"Addon {addon.name} is {addon.state}; wait for its task to finish.", 400)


def install(cluster: Cluster, items) -> Task:
    if not isinstance(items, list) or not items:
        raise ApiError("InvalidParameter", "The request body must be a non-empty JSON array of addons.", 400)
    _require_running(cluster)
    cluster.settle()
    planned: dict[str, tuple[catalog.AddonSpec, str, dict, str]] = {}
    for item in items:
        if not isinstance(item, dict) or not item.get("name"):
            raise ApiError("InvalidParameter", "Each addon needs a name.", 400)
        spec = catalog.spec_for(item["name"])
        existing = cluster.addons.get(spec.name)
        if spec.name in planned or (existing is not None and existing.state != "failed"):
            raise ApiError(catalog.ADDON_ALREADY_INSTALLED,
                           f"AddonAlreadyInstalled: addon {spec.name} is already installed in cluster {cluster.cluster_id}.", 400)
        rival = catalog.MUTUALLY_EXCLUSIVE.get(spec.name)
        if rival and (rival in planned or (rival in cluster.addons and cluster.addons[rival].state != "failed")):
            raise ApiError(catalog.ADDON_CONFLICT,
                           f"Addon {spec.name} cannot be installed together with {rival}; uninstall {rival} first.", 400)
        reason = catalog.unsupported_reason(spec, cluster)
        if reason:
            raise ApiError(catalog.ADDON_NOT_SUPPORTED, reason, 400)
        precheck.check(cluster, spec.name)   # the helper's service role (precheck.py)
        version = item.get("version") or spec.version
        if not spec.known_version(version):
            raise ApiError(catalog.ADDON_VERSION_INVALID, f"Version {version} of addon {spec.name} does not exist.", 400)
        text = item.get("config") or ""
        planned[spec.name] = (spec, version, catalog.parse_config(readback.published(spec, cluster), text), text)

    instances = [AddonInstance(name, version, text, config) for name, (spec, version, config, text) in planned.items()]

    def finish(state: str) -> None:
        for addon in instances:
            addon.settled_state = state
            _notify(cluster, addon, state)

    return _start(cluster, "addon_install", INSTALL_SECONDS, instances,
                  on_start=lambda: [cluster.addons.__setitem__(a.name, a) for a in instances],
                  on_success=lambda: finish("active"), on_fail=lambda: finish("failed"),
                  start_state="installing")


def _start(cluster: Cluster, kind: str, seconds: float, instances: list[AddonInstance], *,
           on_start, on_success, on_fail, start_state: str) -> Task:
    """Start one task over `instances`: mark them, tell the hook, and let the task settle them."""
    on_start()

    def succeed() -> None:
        for addon in instances:
            addon.task = None
        on_success()

    def fail() -> None:
        for addon in instances:
            addon.task = None
        on_fail()

    op_error = (f"{kind}.Failed", f"The {kind.replace('_', ' ')} task of {', '.join(a.name for a in instances)} failed.")
    # Built here rather than by Cluster.start_task so that the start notification precedes
    # the end one even when the task is done at once (clock scale 0).
    op = slowop.start(cluster.world, kind, seconds, error=op_error)
    task = Task(task_id="T-" + cluster.world.ids.hex(24), cluster_id=cluster.cluster_id, task_type=kind, op=op,
                created=cluster.world.clock.now(), on_success=succeed, on_fail=fail,
                outcome=cluster.task_outcomes.get(kind))
    for addon in instances:
        addon.task = task
        _notify(cluster, addon, start_state)
    cluster.tasks.append(task)
    cluster.settle()
    return task


def uninstall(cluster: Cluster, items) -> Task:
    if not isinstance(items, list) or not items:
        raise ApiError("InvalidParameter", "The request body must be a non-empty JSON array of addons.", 400)
    _require_running(cluster)
    instances = []
    for item in items:
        name = item.get("name") if isinstance(item, dict) else None
        if not name:
            raise ApiError("InvalidParameter", "Each addon needs a name.", 400)
        addon = _existing(cluster, name)
        _require_idle(addon)
        instances.append(addon)

    def gone() -> None:
        for addon in instances:
            cluster.addons.pop(addon.name, None)
            _notify(cluster, addon, "deleted")

    def kept() -> None:
        for addon in instances:
            _notify(cluster, addon, addon.settled_state)

    return _start(cluster, "addon_uninstall", UNINSTALL_SECONDS, instances, on_start=lambda: None,
                  on_success=gone, on_fail=kept, start_state="deleting")


def modify_config(cluster: Cluster, name: str, config_text) -> Task:
    _require_running(cluster)
    addon = _existing(cluster, name)
    _require_idle(addon)
    if config_text is None:
        raise ApiError("MissingParameter", "The input parameter \"config\" is not supplied.", 400)
    new_config = catalog.parse_config(readback.published(catalog.spec_for(name), cluster), config_text)
    precheck.check(cluster, name)   # "cannot install or update" without the service role

    def replace() -> None:
        addon.config_text, addon.config, addon.settled_state = config_text, new_config, "active"
        _notify(cluster, addon, "active")

    def keep() -> None:   # a failed change leaves the addon running on its old config
        addon.settled_state = "active"
        _notify(cluster, addon, "active")

    return _start(cluster, "addon_config", CONFIG_SECONDS, [addon], on_start=lambda: None,
                  on_success=replace, on_fail=keep, start_state="updating")


def list_instances(cluster: Cluster) -> list[dict]:
    cluster.settle()
    return [{"name": a.name, "version": a.version, "state": a.state} for a in cluster.addons.values()]


def get_instance(cluster: Cluster, name: str) -> dict:
    addon = _existing(cluster, name)
    text = readback.config_text(catalog.spec_for(addon.name), cluster, addon.config_text, addon.config)
    return {"name": addon.name, "version": addon.version, "state": addon.state,
            "config": text,
            "logging": {"capable": False, "enabled": False, "log_project": "", "logstore": ""}}


def describe_addon(name: str, cluster: Cluster | None) -> dict:
    spec = catalog.spec_for(name)
    if cluster is not None:
        reason = catalog.unsupported_reason(spec, cluster)
        if reason:
            raise ApiError(catalog.ADDON_NOT_SUPPORTED, reason, 400)
    return {
        "name": spec.name, "version": spec.version, "category": spec.category, "managed": spec.managed,
        "install_by_default": spec.name == "coredns", "config_schema": readback.schema_text(spec, cluster),
        "supported_actions": ["install", "uninstall", "upgrade", "modify"],
        "architecture": ["amd64", "arm64"],
        "newer_versions": [{"version": spec.version, "upgradable": False,
                            "minimum_cluster_version": ".".join(map(str, spec.min_version))}],
    }
