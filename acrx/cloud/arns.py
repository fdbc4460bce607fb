"""Role ARNs compared as RAM compares them: the role name without regard to case.

Role names in RAM are case-insensitive, and STS writes them lower-cased: AssumeRole's
`AssumedRoleUser.Arn` ends in `role/aliyunosstokengeneratorrole/<session>` for the role created as
AliyunOSSTokenGeneratorRole, and STS errors quote `...:role/aliyuncsdefaultrole`
(real-cloud-audit #17). Whether RAM rewrites the ARNs inside stored trust documents is unknown
(§6.7), so every comparison of a role ARN in acrx goes through `fold_role_arn` / `same_role_arn`.
Pure: no SDK, importable from any layer.
"""

from __future__ import annotations

import re

# `:role/<name>` (a role, or a policy Resource `acs:ram:*:<uid>:role/<name>`) and
# `:assumed-role/<name>/<session>`; only the marker and the name fold, never the session.
_ROLE_PART = re.compile(r"(?i)(:(?:assumed-)?role/)([^/\s]+)")


def fold_role_arn(arn: str) -> str:
    """The ARN with its role name lower-cased (any other ARN comes back unchanged, stripped)."""
    return _ROLE_PART.sub(lambda m: m.group(1).lower() + m.group(2).lower(), str(arn).strip())


def same_role_arn(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and fold_role_arn(a) == fold_role_arn(b)


def role_name_is(arn: str, name: str) -> bool:
    """Does `arn` name the role `name` (any account)?"""
    return fold_role_arn(arn).endswith(f":role/{name.lower()}")
