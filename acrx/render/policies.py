"""RAM policy documents as pure functions of plain values.

The shapes follow the cross-account pull documentation: a Federated (OIDC) trust on the
cluster-side role, a RAM-principal trust on the registry-side role, the three cr: pull
actions, and sts:AssumeRole on the registry role for the cluster-side identity."""

from __future__ import annotations

import json
from collections.abc import Iterable

from acrx import facts


def _as_list(values: str | Iterable[str]) -> list[str]:
    return [values] if isinstance(values, str) else list(values)


def cluster_trust_policy(provider_arn: str, issuer: str, *,
                         namespace: str = facts.HELPER_NAMESPACE,
                         service_account: str = facts.HELPER_SERVICE_ACCOUNT,
                         audience: str = facts.OIDC_AUDIENCE) -> dict:
    """Trust of the cluster-side role: only the helper's service account token, from this
    cluster's issuer, for the STS audience. A `*` in the subject needs StringLike."""
    subject = facts.oidc_subject(namespace, service_account)
    equals = {"oidc:aud": audience, "oidc:iss": facts.first_issuer(issuer)}
    condition: dict = {"StringEquals": equals}
    if "*" in subject:
        condition["StringLike"] = {"oidc:sub": subject}
    else:
        equals["oidc:sub"] = subject
    return {"Version": facts.POLICY_VERSION, "Statement": [{
        "Action": facts.ASSUME_ROLE_ACTION,
        "Effect": "Allow",
        "Principal": {"Federated": [provider_arn]},
        "Condition": condition,
    }]}


def registry_trust_policy(principal_role_arns: str | Iterable[str]) -> dict:
    """Trust of the registry-side role: the cluster-side role (rrsa) or the worker role."""
    principals = sorted(set(_as_list(principal_role_arns)))
    if not principals:
        raise ValueError("the registry role must trust at least one role ARN")
    return {"Version": facts.POLICY_VERSION, "Statement": [{
        "Action": facts.ASSUME_ROLE_ACTION,
        "Effect": "Allow",
        "Principal": {"RAM": principals},
    }]}


BROAD_PULL_WARNING = ("--pull-policy-scope any: the pull policy allows pulling from every instance and "
                      "repository of the registry account, not only this instance")


def pull_policy(*, region: str | None = None, uid: str | None = None,
                instance_id: str | None = None) -> dict:
    """The pull permissions. Without arguments, the documented form: all three actions on `*`.

    With region, uid and instance_id, the scoped form: cr:GetAuthorizationToken stays on `*`
    (it is checked against all resources), cr:ListInstanceEndpoint on the instance and
    cr:PullRepository on the instance's repositories only. The scoped form is [?] (see
    acrx.facts.INSTANCE_PULL_ACTIONS)."""
    scoped = (region, uid, instance_id)
    if all(v is None for v in scoped):
        return {"Version": facts.POLICY_VERSION, "Statement": [{
            "Action": list(facts.PULL_ACTIONS),
            "Resource": "*",
            "Effect": "Allow",
        }]}
    if any(not v for v in scoped):
        raise ValueError("the scoped pull policy needs region, uid and instance_id")
    return {"Version": facts.POLICY_VERSION, "Statement": [
        {"Action": list(facts.ALL_RESOURCE_PULL_ACTIONS), "Resource": "*", "Effect": "Allow"},
        {"Action": list(facts.INSTANCE_PULL_ACTIONS),
         "Resource": facts.cr_instance_arn(region, uid, instance_id), "Effect": "Allow"},
        {"Action": list(facts.REPOSITORY_PULL_ACTIONS),
         "Resource": facts.cr_repository_arn(region, uid, instance_id), "Effect": "Allow"},
    ]}


def assume_role_permission_policy(registry_role_arns: str | Iterable[str]) -> dict:
    """The cluster-side identity may assume the registry role(s) and nothing else.
    In a Resource a role is written acs:ram:*:<uid>:role/<name>."""
    resources = sorted({facts.role_policy_resource(facts.uid_from_arn(arn), facts.role_name_from_arn(arn))
                        for arn in _as_list(registry_role_arns)})
    if not resources:
        raise ValueError("at least one registry role ARN is needed")
    return {"Version": facts.POLICY_VERSION, "Statement": [{
        "Action": facts.ASSUME_ROLE_ACTION,
        "Effect": "Allow",
        "Resource": resources[0] if len(resources) == 1 else resources,
    }]}


def policy_json(document: dict) -> str:
    """The text acrx prints and sends; stable key order, two-space indent."""
    return json.dumps(document, indent=2) + "\n"
