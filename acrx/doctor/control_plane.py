"""Layer 1, the control plane: does the cloud (and the cluster's configuration) hold what the
config asks for?

The planners of the identity, network, addon and configmap steps run READ-ONLY (their
preflights, then `plan`); every change that is not a no-op is a failing check whose cause is the
change's reason and whose fix is the acrx command applying that step. On top, the trust chain is
read and evaluated the way STS would for the helper's token, so a wrong `oidc:sub` is named as
such rather than as "the role would be updated".
"""

from __future__ import annotations

import fnmatch

from acrx import facts
from acrx.doctor.explain import FIX_ROLES, FIX_RRSA
from acrx.doctor.layers import Check, failed, passed
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
    command = run.fix(fix_for_address(change.address))
    action = str(change.action)
    cause = change.reason or (f"{change.address} does not exist" if action == "create" else
                              f"{change.address} does not match the configuration and would be {action}d")
    return failed(change.address, f"would {action}: {cause}", cause=cause, fix_command=command)


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
        if not pending:
            n = len(changes)
            checks.append(passed(name, f"the live state matches the configuration ({n} resource{'s' * (n != 1)})"))
    return checks


# -- the trust chain, evaluated as STS would ------------------------------------------------------
def _as_list(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _statements(document: dict) -> list[dict]:
    return [s for s in _as_list(document.get("Statement")) if isinstance(s, dict)]


def _allows_assume(statement: dict) -> bool:
    actions = [str(a).lower() for a in _as_list(statement.get("Action"))]
    return statement.get("Effect") == "Allow" and any(a in ("sts:assumerole", "sts:*", "*") for a in actions)


def condition_mismatches(statement: dict, claims: dict[str, str]) -> list[str]:
    """Why the OIDC conditions of one statement refuse these claims (empty: they admit them)."""
    problems = []
    for operator, conditions in (statement.get("Condition") or {}).items():
        for key, wanted in (conditions or {}).items():
            values = [str(v) for v in _as_list(wanted)]
            actual = claims.get(key.lower())
            if actual is None:
                continue
            if operator == "StringEquals":
                ok = actual in values
            elif operator == "StringLike":
                ok = any(fnmatch.fnmatchcase(actual, v) for v in values)
            else:
                continue
            if not ok:
                problems.append(f"{key} must be {values[0] if len(values) == 1 else values} "
                                f"but the helper's token says {actual!r}")
    return problems


def explain_oidc_trust(trust: dict, provider_arn: str, claims: dict[str, str]) -> str | None:
    """None when some statement admits the token; else why AssumeRoleWithOIDC would fail."""
    federated = [s for s in _statements(trust) if _allows_assume(s)
                 and provider_arn in [str(p) for p in _as_list((s.get("Principal") or {}).get("Federated"))]]
    if not federated:
        return f"no statement trusts the OIDC provider {provider_arn}"
    reasons = []
    for statement in federated:
        problems = condition_mismatches(statement, claims)
        if not problems:
            return None
        reasons.extend(problems)
    return "; ".join(dict.fromkeys(reasons))


def explain_ram_trust(trust: dict, principal_arn: str) -> str | None:
    for statement in _statements(trust):
        principals = [str(p) for p in _as_list((statement.get("Principal") or {}).get("RAM"))]
        account_root = f"acs:ram::{facts.uid_from_arn(principal_arn)}:root"
        if _allows_assume(statement) and (principal_arn in principals or account_root in principals):
            return None
    return f"no statement lets {principal_arn} assume it"


def check_trust_chain(run) -> list[Check]:
    ctx, config = run.ctx, run.config
    if config.mode == "access-key":
        return []
    checks: list[Check] = []
    fix = run.fix(FIX_ROLES)
    try:
        cluster = ctx.cluster()
        uid_a = ctx.uid(config.cluster.account)
        if config.mode == "rrsa":
            rrsa = cluster.rrsa
            if rrsa is None or not rrsa.enabled:
                return [failed("trust: RRSA", "RRSA is not enabled on the cluster, so the helper gets no OIDC token",
                               fix_command=run.fix(FIX_RRSA))]
            provider = rrsa.oidc_arn or facts.oidc_provider_arn(uid_a, config.cluster.id)
            claims = {"oidc:iss": rrsa.issuer or "", "oidc:aud": facts.OIDC_AUDIENCE,
                      "oidc:sub": facts.HELPER_OIDC_SUBJECT}
            role_a = ctx.session.account(config.cluster.account).ram_api.get_role(config.cluster_role_name)
            name = f"trust: {config.cluster_role_name} admits the helper's token"
            if role_a is None:
                checks.append(failed(name, f"the cluster role {config.cluster_role_name} does not exist: "
                                     "AssumeRoleWithOIDC answers EntityNotExist.Role", fix_command=fix))
            else:
                why = explain_oidc_trust(role_a.trust, provider, claims)
                checks.append(passed(name, f"sub {facts.HELPER_OIDC_SUBJECT}") if why is None else failed(
                    name, f"AssumeRoleWithOIDC would fail with AuthenticationFail.NoPermission: {why}",
                    fix_command=fix))
            principal = facts.role_arn(uid_a, config.cluster_role_name)
        else:
            if not cluster.worker_ram_role_name:
                return [failed("trust: worker role", "the cluster has no worker RAM role", fix_command=fix)]
            principal = facts.role_arn(uid_a, cluster.worker_ram_role_name)
        for reg in config.registries:
            role_b = ctx.session.account(reg.account).ram_api.get_role(config.registry_role_name)
            name = f"trust: {config.registry_role_name} admits {facts.role_name_from_arn(principal)}"
            if role_b is None:
                checks.append(failed(name, f"the registry role {config.registry_role_name} does not exist",
                                     fix_command=fix))
                continue
            why = explain_ram_trust(role_b.trust, principal)
            checks.append(passed(name) if why is None else failed(
                name, f"AssumeRole would fail with NoPermission: {why}", fix_command=fix))
    except CloudError as exc:
        checks.append(failed("trust chain read", f"could not read the trust chain: {exc}"))
    return checks


def check_control_plane(run) -> list[Check]:
    checks = check_trust_chain(run)
    # The step planners come second: their findings are the same breakage in plan words, and a
    # decoded trust failure above is the more useful first line.
    checks.extend(check_steps(run))
    return checks
