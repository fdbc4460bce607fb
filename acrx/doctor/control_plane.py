"""Layer 1, the control plane: does the cloud (and the cluster's configuration) hold what the
config asks for?

The planners of the identity, network, addon and configmap steps run READ-ONLY (their
preflights, then `plan`); every change that is not a no-op is a failing check whose cause is what
the live state lacks (acrx.doctor.causes) and whose fix is the acrx command applying that step. On top, the trust chain is
read and evaluated (acrx.doctor.trust) for the helper's token, so a wrong `oidc:sub` is named as
such rather than as "the role would be updated".
"""

from __future__ import annotations

from acrx.doctor.layers import Check, failed, passed
from acrx.doctor.trust import check_trust_chain
from acrx.errors import CloudError, PreflightError
from acrx.kube.errors import KubeError
from acrx.steps import registry

# Views of acrx.steps.registry, the one registry of steps: the table from an address to the acrx
# command that applies it, and the steps in apply order. The steps are imported statically, so a
# step that fails to load fails the doctor instead of becoming a skipped or passing layer.
FIX_BY_ADDRESS_PREFIX: tuple[tuple[str, str], ...] = registry.fix_by_address_prefix()
STEP_SOURCES: tuple[registry.StepSpec, ...] = registry.STEPS


def fix_for_address(address: str) -> str | None:
    return registry.fix_for_address(address)


def _make_step(spec: registry.StepSpec, config):
    """The step of one registry entry, built as setup builds it."""
    return spec.build(config.network.mode)


def _change_check(change, run) -> Check:
    # The cause says what the live state lacks (acrx.doctor.causes), not why the plan wants it.
    from acrx.doctor.causes import cause_of

    cause = cause_of(change)
    return failed(change.address, cause, cause=cause, fix_command=run.fix(fix_for_address(change.address)))


def check_steps(run) -> list[Check]:
    """Each step's preflight, then its planner, read-only. The changes are not put into one Plan:
    a step planned alone may refer to another step's change, which only `apply` needs resolved."""
    checks: list[Check] = []
    for spec in STEP_SOURCES:
        if spec.modes is not None and run.config.mode not in spec.modes:
            continue   # e.g. RRSA: only rrsa mode uses it
        step, name, command = _make_step(spec, run.config), spec.name, spec.fix
        run.say(f"control plane: reading {name}")
        try:
            step.preflight(run.ctx)
            changes = list(step.plan(run.ctx))
        except PreflightError as exc:
            checks.append(failed(f"{name} preflight", str(exc), fix_command=run.fix(command)))
            continue
        except (CloudError, KubeError) as exc:
            checks.append(failed(f"{name} read", f"could not read the live state: {exc}"))
            continue
        pending = [c for c in changes if not c.is_noop]
        checks.extend(_change_check(c, run) for c in pending)
        if not pending and changes:   # a step with nothing to manage in this mode says nothing
            n = len(changes)
            checks.append(passed(name, f"the live state matches the configuration ({n} resource{'s' * (n != 1)})"))
    return checks


def check_control_plane(run) -> list[Check]:
    checks = check_trust_chain(run)
    # The step planners come second: their findings are the same breakage in plan words, and a
    # decoded trust failure above is the more useful first line.
    checks.extend(check_steps(run))
    return checks
