"""The trust chain, evaluated as STS would for the helper, with three outcomes: pass, fail and
unknown. Whatever this evaluator does not model gives "unknown", never "pass".

Modelled (RAM policy elements: Effect, Action, Principal, Condition; an explicit Deny wins over
any Allow, as in every RAM evaluation):
- Effect Allow and Deny; Action by name with `*` / `?` wildcards;
- Principal Federated (AssumeRoleWithOIDC) and RAM (AssumeRole: the role itself or its
  account's `root`), or `*`;
- conditions StringEquals, StringNotEquals, StringLike, StringNotLike and their IgnoreCase forms,
  on the claims acrx knows: `oidc:iss`, `oidc:aud`, `oidc:sub`.
Unknown: NotAction / NotPrincipal, any other operator or a ForAllValues/ForAnyValue prefix, a
condition key whose value acrx cannot know (for AssumeRole: every key, as the request context is
STS's), and a negated operator over several values, where the documents do not say whether
"matches none" or "differs from one" is meant ([?] the two readings are compared and "unknown"
is reported when they disagree).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from acrx import facts
from acrx.cloud.arns import fold_role_arn
from acrx.doctor.explain import FIX_ROLES, FIX_RRSA
from acrx.doctor.layers import Check, failed, passed, unknown
from acrx.errors import CloudError

PASS, FAIL, UNKNOWN = "pass", "fail", "unknown"
ASSUME_ACTIONS = ("sts:AssumeRole",)
_OPERATORS = {
    # operator: (negated, like, ignore case)
    "StringEquals": (False, False, False),
    "StringNotEquals": (True, False, False),
    "StringEqualsIgnoreCase": (False, False, True),
    "StringNotEqualsIgnoreCase": (True, False, True),
    "StringLike": (False, True, False),
    "StringNotLike": (True, True, False),
}


@dataclass(frozen=True)
class TrustVerdict:
    status: str               # pass | fail | unknown
    why: str | None = None    # for fail and unknown

    @property
    def admitted(self) -> bool:
        return self.status == PASS


class _Unknown(Exception):
    """Raised inside one statement's evaluation: this part is not modelled."""


def _as_list(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _statements(document) -> list[dict]:
    if not isinstance(document, dict):
        return []
    return [s for s in _as_list(document.get("Statement")) if isinstance(s, dict)]


def _action_matches(statement: dict) -> bool:
    if "NotAction" in statement:
        raise _Unknown("a NotAction element")
    patterns = [str(a).lower() for a in _as_list(statement.get("Action"))]
    return any(fnmatch.fnmatchcase(a.lower(), p) for a in ASSUME_ACTIONS for p in patterns)


def _principal_matches(statement: dict, kind: str, accepted: tuple[str, ...]) -> bool:
    if "NotPrincipal" in statement:
        raise _Unknown("a NotPrincipal element")
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    listed = [str(p) for p in _as_list(principal.get(kind))]
    if kind == "RAM":   # role names are case-insensitive in RAM (cloud/arns.py)
        listed, accepted = [fold_role_arn(p) for p in listed], tuple(fold_role_arn(a) for a in accepted)
    return "*" in listed or any(p in listed for p in accepted)


def _one_condition(operator: str, key: str, wanted, claims: dict[str, str]) -> tuple[bool, str]:
    """(holds, words for the mismatch). Raises _Unknown where the answer is not knowable here."""
    if operator not in _OPERATORS:
        raise _Unknown(f"the condition operator {operator}")
    negated, like, fold = _OPERATORS[operator]
    actual = claims.get(key.lower())
    if actual is None:
        raise _Unknown(f"a condition on {key}, whose value acrx cannot know")
    values = [str(v) for v in _as_list(wanted)]
    subject = actual.lower() if fold else actual
    hits = [(fnmatch.fnmatchcase(subject, v.lower() if fold else v) if like else
             subject == (v.lower() if fold else v)) for v in values]
    if not negated:
        holds = any(hits)
    else:
        none_match, differs_from_one = not any(hits), not all(hits)
        if none_match != differs_from_one:
            raise _Unknown(f"{operator} on {key} with several values (the documents do not say how they combine)")
        holds = none_match
    shown = values[0] if len(values) == 1 else values
    verb = {(False, False): "must be", (True, False): "must not be",
            (False, True): "must match", (True, True): "must not match"}[(negated, like)]
    return holds, f"{key} {verb} {shown} but the helper's token says {actual!r}"


def _conditions_hold(statement: dict, claims: dict[str, str]) -> tuple[bool, list[str]]:
    condition = statement.get("Condition") or {}
    if not isinstance(condition, dict):
        raise _Unknown("a Condition that is not a mapping")
    problems = []
    for operator, pairs in condition.items():
        if not isinstance(pairs, dict):
            raise _Unknown(f"the condition {operator}")
        for key, wanted in pairs.items():
            holds, words = _one_condition(str(operator), str(key), wanted, claims)
            if not holds:
                problems.append(words)
    return not problems, problems


def _applies(statement: dict, kind: str, accepted: tuple[str, ...], claims: dict[str, str]) -> tuple[bool, list[str]]:
    if not _action_matches(statement) or not _principal_matches(statement, kind, accepted):
        return False, []
    return _conditions_hold(statement, claims)


def evaluate_trust(document, kind: str, accepted: tuple[str, ...], claims: dict[str, str],
                   none_trusts: str) -> TrustVerdict:
    """Deny beats Allow. An Allow that holds is a pass only when no Deny is left undecided; with
    no Allow that holds, it is a fail only when no Allow is left undecided."""
    allowed = False
    undecided: dict[str, list[str]] = {"Allow": [], "Deny": []}
    mismatches: list[str] = []
    for number, statement in enumerate(_statements(document), start=1):
        effect = statement.get("Effect")
        if effect not in undecided:
            continue
        try:
            applies, problems = _applies(statement, kind, accepted, claims)
        except _Unknown as exc:
            undecided[effect].append(f"statement {number} ({effect}) has {exc}, which acrx does not evaluate")
            continue
        if effect == "Deny" and applies:
            return TrustVerdict(FAIL, f"statement {number} explicitly denies it")
        if effect == "Allow":
            allowed = allowed or applies
            mismatches.extend(problems)
    if allowed:
        return TrustVerdict(UNKNOWN, "; ".join(undecided["Deny"])) if undecided["Deny"] else TrustVerdict(PASS)
    if undecided["Allow"]:
        return TrustVerdict(UNKNOWN, "; ".join(undecided["Allow"]))
    return TrustVerdict(FAIL, "; ".join(dict.fromkeys(mismatches)) if mismatches else none_trusts)


def evaluate_oidc_trust(trust, provider_arn: str, claims: dict[str, str]) -> TrustVerdict:
    """Would AssumeRoleWithOIDC with these token claims be admitted by this trust policy?"""
    claims = {k.lower(): v for k, v in claims.items()}
    return evaluate_trust(trust, "Federated", (provider_arn,), claims,
                          f"no statement trusts the OIDC provider {provider_arn}")


def evaluate_ram_trust(trust, principal_arn: str) -> TrustVerdict:
    """Would AssumeRole by `principal_arn` (a RAM role) be admitted by this trust policy?"""
    account_root = f"acs:ram::{facts.uid_from_arn(principal_arn)}:root"
    return evaluate_trust(trust, "RAM", (principal_arn, account_root), {},
                          f"no statement lets {principal_arn} assume it")


# -- the checks of the doctor's control plane layer ----------------------------------------------
def _as_check(found: TrustVerdict, name: str, detail: str, refusal: str, fix: str | None) -> Check:
    if found.status == PASS:
        return passed(name, detail)
    if found.status == UNKNOWN:
        return unknown(name, f"cannot tell whether STS admits it: {found.why}")
    return failed(name, f"{refusal}: {found.why}", fix_command=fix)


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
                found = evaluate_oidc_trust(role_a.trust, provider, claims)
                checks.append(_as_check(found, name, f"sub {facts.HELPER_OIDC_SUBJECT}",
                                        "AssumeRoleWithOIDC would fail with AuthenticationFail.NoPermission", fix))
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
            found = evaluate_ram_trust(role_b.trust, principal)
            checks.append(_as_check(found, name, "", "AssumeRole would fail with NoPermission", fix))
    except CloudError as exc:
        checks.append(failed("trust chain read", f"could not read the trust chain: {exc}"))
    return checks
