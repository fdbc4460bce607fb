"""The ONE registry of acrx's steps. setup, plan, destroy, verify and the doctor read the stage
graph from here; nothing else writes it down.

Each StepSpec says what a step is to the rest of acrx:
- its stage name, and the stages whose changes must be applied before its own (`after`);
- its planning lane: steps of one lane are planned one after another, lanes side by side
  (planning only reads); a step with no lane is planned after every lane, since it reads what
  the lanes publish;
- the address prefixes it owns, which name the acrx command that fixes a finding there;
- the typed outputs it publishes for later steps (acrx.steps.outputs) and those it reads;
- the destroy stage that undoes it. Destroy stages (DESTROYERS) run in the reverse of the setup
  order: `destroy_after()` is derived from `after`, never written twice.

The step packages are imported statically: a step that fails to import fails every command
that uses the registry, rather than turning into a skipped (or passing) check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable

from acrx.plan.change import Change
from acrx.steps.addon import AddonStep
from acrx.steps.addon import destroy as addon_destroy
from acrx.steps.configmap import ConfigMapStep
from acrx.steps.configmap import destroy as configmap_destroy
from acrx.steps.context import StepContext
from acrx.steps.identity import PolicyStep, RolesStep, RrsaStep, access_key_outputs
from acrx.steps.identity import destroy as identity_destroy
from acrx.steps.network import NetworkStep
from acrx.steps.network import destroy as network_destroy
from acrx.steps.outputs import AccessKeyOutput
from acrx.steps import verify_destroy

FIX_RRSA = "acrx rrsa enable"
FIX_ROLES = "acrx roles apply"
FIX_POLICY = "acrx policy attach"
FIX_NETWORK = "acrx network apply"
FIX_ADDON = "acrx addon install"
FIX_CONFIGMAP = "acrx configmap apply"


@dataclass(frozen=True)
class StepSpec:
    name: str                                    # the stage, and the step's `name`
    build: Callable[[str | None], Any]           # network mode (only the network step uses it) -> step
    after: tuple[str, ...]                       # stages applied before this one
    lane: str | None                             # planning lane; None: after every lane
    prefixes: tuple[str, ...]                    # the addresses it owns
    fix: str                                     # the acrx command that applies it
    destroy: str                                 # the destroy stage that undoes it
    modes: tuple[str, ...] | None = None         # modes it has anything to do in (None: all)
    outputs: tuple[type, ...] = ()               # typed outputs it publishes ...
    publish: Callable[[StepContext, list[Change]], Iterable[object]] | None = None   # ... from its changes
    inputs: tuple[type, ...] = ()                # typed outputs of earlier steps it reads


@dataclass(frozen=True)
class DestroySpec:
    name: str
    planner: Callable[[StepContext], list[Change]]
    handlers: Callable[[StepContext], dict[str, Any]]


_IDENTITY = ("rrsa", "roles", "policy")

# In setup order. The component (addon, ConfigMap) is configured only after the identity it
# names exists, or the helper starts on a half-built chain (the documented order trap); the
# network depends on nothing and runs alongside identity.
STEPS: tuple[StepSpec, ...] = (
    StepSpec("rrsa", lambda network: RrsaStep(), after=(), lane="identity", prefixes=("cs.rrsa",),
             fix=FIX_RRSA, destroy="identity", modes=("rrsa",)),
    StepSpec("roles", lambda network: RolesStep(), after=("rrsa",), lane="identity",
             prefixes=("ram.role.", "ram.policy.cluster_assume", "ram.policy_attachment.cluster_assume"),
             fix=FIX_ROLES, destroy="identity"),
    StepSpec("policy", lambda network: PolicyStep(), after=("roles",), lane="identity",
             prefixes=("ram.policy.registry_pull", "ram.policy_attachment.registry_pull", "ram.user.",
                       "ram.access_key."),
             fix=FIX_POLICY, destroy="identity", outputs=(AccessKeyOutput,), publish=access_key_outputs),
    StepSpec("network", lambda network: NetworkStep(network), after=(), lane="network",
             prefixes=("cr.", "vpc.", "cen.", "pvtz."), fix=FIX_NETWORK, destroy="network"),
    StepSpec("addon", lambda network: AddonStep(), after=_IDENTITY, lane="addon",
             # k8s.pod.: the helper pod replaced for the order trap; ram.service_role.: the role CS's
             # addon precheck wants (AliyunCSManagedAcrRole), planned with the addon it serves
             prefixes=("cs.addon.", "k8s.pod.", "ram.service_role."),
             fix=FIX_ADDON, destroy="addon"),
    StepSpec("configmap", lambda network: ConfigMapStep(), after=_IDENTITY + ("addon",), lane=None,
             prefixes=("k8s.configmap.",), fix=FIX_CONFIGMAP, destroy="configmap", inputs=(AccessKeyOutput,)),
)

# In destroy order: the ConfigMap's keys first, then the addon, then the identity it used.
DESTROYERS: tuple[DestroySpec, ...] = (
    DestroySpec("configmap", configmap_destroy.plan_destroy, configmap_destroy.destroy_handlers),
    DestroySpec("addon", addon_destroy.plan_destroy, addon_destroy.destroy_handlers),
    DestroySpec("identity", identity_destroy.plan_destroy, identity_destroy.destroy_handlers),
    DestroySpec("network", network_destroy.plan_destroy, network_destroy.destroy_handlers),
    # What `acrx verify --keep` left: no setup step makes it, so no stage waits on it.
    DestroySpec("verify", verify_destroy.plan_destroy, verify_destroy.destroy_handlers),
)

BY_NAME: dict[str, StepSpec] = {spec.name: spec for spec in STEPS}


# -- views of the graph -----------------------------------------------------------------------------
def stage_after() -> dict[str, tuple[str, ...]]:
    """setup: stage -> the stages whose changes are applied before its own."""
    return {spec.name: spec.after for spec in STEPS}


def plan_lanes() -> tuple[tuple[str, ...], ...]:
    """The lanes planned side by side, each a tuple of stages planned in order."""
    lanes: dict[str, list[str]] = {}
    for spec in STEPS:
        if spec.lane is not None:
            lanes.setdefault(spec.lane, []).append(spec.name)
    return tuple(tuple(names) for names in lanes.values())


def destroy_after() -> dict[str, tuple[str, ...]]:
    """destroy: stage -> the destroy stages done before its own. Setup's order reversed: when a
    step is set up after another, the first's destroy stage runs before the other's."""
    before: dict[str, set[str]] = {d.name: set() for d in DESTROYERS}
    for spec in STEPS:
        for earlier in spec.after:
            undo_first, undo_later = spec.destroy, BY_NAME[earlier].destroy
            if undo_first != undo_later:
                before[undo_later].add(undo_first)
    order = [d.name for d in DESTROYERS]
    return {name: tuple(sorted(found, key=order.index)) for name, found in before.items()}


def fix_for_address(address: str) -> str | None:
    """The acrx command applying the step that owns `address` (the longest owned prefix wins)."""
    best: tuple[int, str] | None = None
    for spec in STEPS:
        for prefix in spec.prefixes:
            if address.startswith(prefix) and (best is None or len(prefix) > best[0]):
                best = (len(prefix), spec.fix)
    return best[1] if best else None


def fix_by_address_prefix() -> tuple[tuple[str, str], ...]:
    """(prefix, command) for every owned prefix, longest first."""
    pairs = [(prefix, spec.fix) for spec in STEPS for prefix in spec.prefixes]
    return tuple(sorted(pairs, key=lambda pair: -len(pair[0])))


def build_setup_steps(network_mode: str | None = None) -> list[Any]:
    return [spec.build(network_mode) for spec in STEPS]


def spec_for(step) -> StepSpec:
    try:
        return BY_NAME[step.name]
    except KeyError:
        raise ValueError(f"step {step.name!r} is not in acrx.steps.registry") from None


# -- the registry checks itself once, at import: a wrong entry is a bug, never a runtime surprise ----
def _check() -> None:
    names = [spec.name for spec in STEPS]
    destroyers = {d.name for d in DESTROYERS}
    for index, spec in enumerate(STEPS):
        unknown = [s for s in spec.after if s not in names[:index]]
        if unknown:
            raise AssertionError(f"step {spec.name} comes after {unknown}, which are not earlier steps")
        if spec.destroy not in destroyers:
            raise AssertionError(f"step {spec.name} names no known destroy stage ({spec.destroy})")
        if bool(spec.outputs) != (spec.publish is not None):
            raise AssertionError(f"step {spec.name} declares outputs without a publisher, or the reverse")
        for kind in spec.inputs:
            producers = [p for p in STEPS[:index] if kind in p.outputs]
            if not producers:
                raise AssertionError(f"step {spec.name} reads {kind.__name__}, which no earlier step publishes")
            if any(spec.lane is not None and p.lane != spec.lane for p in producers):
                raise AssertionError(f"step {spec.name} reads {kind.__name__} from another lane; give it no lane")


_check()
