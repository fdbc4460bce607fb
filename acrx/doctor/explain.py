"""Failure texts of the kubelet and of the credential helper, mapped to a cause and the acrx
command that fixes it.

The texts are what a user sees: `kubectl describe pod` events (`Failed to pull image "…": rpc
error: … dial tcp: lookup … no such host`) and the helper's log lines (`AssumeRoleWithOIDC:
AuthenticationFail.NoPermission: …`). One table, most specific pattern first: a text that
matches several rules takes the first. Unknown texts give None, never a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The command that applies each step, as the step registry names it.
from acrx.steps.registry import (FIX_ADDON, FIX_CONFIGMAP, FIX_NETWORK, FIX_POLICY,  # noqa: F401
                                 FIX_ROLES, FIX_RRSA)


@dataclass(frozen=True)
class Explanation:
    topic: str          # short name of the broken link: dns, network, trust, pull-policy, order-trap ...
    cause: str
    fix_command: str

    def to_dict(self) -> dict[str, str]:
        return {"topic": self.topic, "cause": self.cause, "fix_command": self.fix_command}


@dataclass(frozen=True)
class _Rule:
    pattern: re.Pattern
    topic: str
    cause: str          # may use {host} / {address} from the match
    fix: str


def _rule(pattern: str, topic: str, cause: str, fix: str) -> _Rule:
    return _Rule(re.compile(pattern, re.I | re.S), topic, cause, fix)


# Order matters: the order trap and the OIDC trust errors come before the generic 401.
RULES: tuple[_Rule, ...] = (
    # The helper pod started before RRSA was on: no OIDC token file, or STS finds the issuer broken.
    _rule(r"rrsa-tokens/token: no such file or directory|OIDCTokenFileNotFound",
          "order-trap", "the credential helper's pod was created before RRSA was enabled on the cluster, so it has "
          "no OIDC token; it must be restarted", FIX_ADDON),
    _rule(r"IssuerConfigurationBroken|OIDCToken\.IssuerNotMatch",
          "order-trap", "STS rejects the helper's OIDC token issuer: RRSA was off when the helper's pod started, "
          "or was turned off since; the helper must be restarted with RRSA on", FIX_ADDON),
    _rule(r"AudienceNotMatch",
          "trust", "the cluster role's trust policy expects another oidc:aud than the helper's token carries "
          "(sts.aliyuncs.com)", FIX_ROLES),
    _rule(r"AssumeRoleWithOIDC\S*: (?:AuthenticationFail\.)?NoPermission|AuthenticationFail\.NoPermission",
          "trust", "STS refuses AssumeRoleWithOIDC: the cluster role's trust policy does not admit the helper's "
          "token (its oidc:sub, oidc:aud or oidc:iss condition, or the Federated OIDC provider, is wrong)",
          FIX_ROLES),
    _rule(r"EntityNotExist\.Role",
          "trust", "a role of the chain does not exist", FIX_ROLES),
    _rule(r"AssumeRole: \S*NoPermission|AssumeRole: \S*(?:Forbidden|NotAuthorized)",
          "trust", "STS refuses AssumeRole into the registry role: its trust policy does not name the cluster-side "
          "role, or that role lacks sts:AssumeRole on it", FIX_ROLES),
    _rule(r"InstanceMetadata: RoleNotFound",
          "trust", "the nodes have no worker RAM role to take credentials from", FIX_ROLES),
    _rule(r"(?:GetAuthorizationToken|ListInstanceEndpoint)\S*: \S*(?:NoPermission|Forbidden|Denied|NoPrivilege)",
          "pull-policy", "the registry role may not call GetAuthorizationToken/ListInstanceEndpoint: the pull "
          "policy is not attached or lacks those actions", FIX_POLICY),
    _rule(r"no acr-registry-info configured|failed to load kube-system/acr-configuration|invalid addon config",
          "config", "the helper has no usable registry settings", FIX_CONFIGMAP),
    # kubelet / containerd texts
    _rule(r"lookup (?P<host>[^\s:]+)(?: on [^:]+:53)?: no such host",
          "dns", "{host} does not resolve from the cluster's VPC: the PrivateZone zone, its A record or its binding "
          "to the cluster VPC is missing", FIX_NETWORK),
    _rule(r"dial tcp (?P<address>[\d.]+:\d+): i/o timeout|read tcp (?P<address2>[\d.]+:\d+): i/o timeout",
          "network", "the nodes cannot reach {address}: no route to the registry endpoint over peering/CEN, or the "
          "internet endpoint's ACL does not admit the cluster's egress IP", FIX_NETWORK),
    _rule(r"connect: connection refused",
          "network", "the registry endpoint refuses connections: it is not enabled", FIX_NETWORK),
    _rule(r"insufficient_scope|pull access denied|requested access to the resource is denied",
          "pull-policy", "the registry accepts the credentials but denies the pull: the registry role lacks "
          "cr:PullRepository on this repository", FIX_POLICY),
    _rule(r"401 Unauthorized|unauthorized: authentication required|no basic auth credentials",
          "credentials", "the registry refused the pod's credentials: the helper has no valid Secret for this domain "
          "on the pod's service account (its chain fails: trust policy, pull policy, or the helper's "
          "configuration)", FIX_ROLES),
)


def explain(text: str | None) -> Explanation | None:
    """The cause and fix named by one failure text, or None when no rule knows it."""
    if not text:
        return None
    for rule in RULES:
        match = rule.pattern.search(text)
        if match:
            values = {k: v for k, v in match.groupdict().items() if v}
            values.setdefault("host", "the registry domain")
            values.setdefault("address", values.get("address2", "the registry endpoint"))
            return Explanation(rule.topic, rule.cause.format(**values), rule.fix)
    return None


def explain_pull(kubelet_text: str, helper_error: str | None = None) -> Explanation | None:
    """A failed pull: a 401 means the helper's chain is broken, and its own error says where."""
    first = explain(kubelet_text)
    if first is not None and first.topic == "credentials" and helper_error:
        deeper = explain(helper_error)
        if deeper is not None:
            return Explanation(deeper.topic, f"{first.cause.split(':')[0]}; the helper says: {deeper.cause}",
                               deeper.fix_command)
    return first
