"""RAM policy evaluation: identity policies, trust policies, and their validation.

Semantics follow RAM's documentation: an explicit Deny wins, then any Allow, otherwise an
implicit deny. Action names match case-insensitively with `*`/`?` wildcards; resources match
case-sensitively. Condition keys are case-insensitive; a multi-valued context key matches when
any of its values does. Where RAM's behaviour is not documented we take the stricter reading
and say so below.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterable

ALLOW, EXPLICIT_DENY, IMPLICIT_DENY = "Allow", "ExplicitDeny", "ImplicitDeny"
MAX_POLICY_BYTES = 6144
MAX_TRUST_BYTES = 2048  # [?] RAM's trust-document limit is not in the reference; 2048 is AWS's
_OPERATORS = {
    "stringequals", "stringnotequals", "stringequalsignorecase", "stringnotequalsignorecase",
    "stringlike", "stringnotlike", "bool", "ipaddress", "notipaddress",
}


class PolicyError(ValueError):
    """A document RAM would refuse (MalformedPolicyDocument)."""


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def parse_document(doc: str | dict) -> dict:
    if isinstance(doc, dict):
        return doc
    try:
        parsed = json.loads(doc)
    except (TypeError, ValueError) as exc:
        raise PolicyError(f"The policy document is not valid JSON: {exc}") from None
    if not isinstance(parsed, dict):
        raise PolicyError("The policy document must be a JSON object.")
    return parsed


def validate_document(doc: str | dict, *, trust: bool = False) -> dict:
    """Return the parsed document or raise PolicyError naming the first problem."""
    raw = doc if isinstance(doc, str) else json.dumps(doc)
    limit = MAX_TRUST_BYTES if trust else MAX_POLICY_BYTES
    if len(raw.encode()) > limit:
        raise PolicyError(f"The policy document exceeds the {limit}-byte limit.")
    parsed = parse_document(doc)
    unknown = set(parsed) - {"Version", "Statement"}
    if unknown:
        raise PolicyError(f"Unknown element(s) in the policy: {', '.join(sorted(unknown))}.")
    if str(parsed.get("Version")) != "1":
        raise PolicyError('The policy Version must be "1".')
    statements = parsed.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        raise PolicyError("The policy must have at least one Statement.")
    for index, st in enumerate(statements):
        _validate_statement(st, index, trust)
    return parsed


def _validate_statement(st: Any, index: int, trust: bool) -> None:
    where = f"Statement[{index}]"
    if not isinstance(st, dict):
        raise PolicyError(f"{where} must be an object.")
    allowed = {"Effect", "Action", "NotAction", "Resource", "NotResource", "Condition", "Principal", "Sid"}
    extra = set(st) - allowed
    if extra:
        raise PolicyError(f"{where} has unknown element(s): {', '.join(sorted(extra))}.")
    if st.get("Effect") not in ("Allow", "Deny"):
        raise PolicyError(f"{where}.Effect must be Allow or Deny.")
    if "Action" not in st and "NotAction" not in st:
        raise PolicyError(f"{where} needs an Action.")
    for action in _as_list(st.get("Action")) + _as_list(st.get("NotAction")):
        if not isinstance(action, str) or (action != "*" and ":" not in action):
            raise PolicyError(f"{where} has an invalid Action {action!r}.")
    if trust:
        if "Principal" not in st:
            raise PolicyError(f"{where} of a trust policy needs a Principal.")
        principal = st["Principal"]
        if not isinstance(principal, dict) or not principal:
            raise PolicyError(f"{where}.Principal must be an object such as {{\"RAM\": [...]}}.")
        for key in principal:
            if key not in ("RAM", "Service", "Federated"):
                raise PolicyError(f"{where}.Principal has an unknown type {key!r}.")
        for action in _as_list(st.get("Action")):
            if action.lower() not in ("sts:assumerole", "sts:*", "*"):
                raise PolicyError(f"{where} of a trust policy may only allow sts:AssumeRole.")
    else:
        if "Principal" in st:
            raise PolicyError(f"{where}: a permission policy cannot have a Principal.")
        if "Resource" not in st and "NotResource" not in st:
            raise PolicyError(f"{where} needs a Resource.")
    condition = st.get("Condition")
    if condition is not None:
        if not isinstance(condition, dict):
            raise PolicyError(f"{where}.Condition must be an object.")
        for op, body in condition.items():
            if op.lower() not in _OPERATORS:
                raise PolicyError(f"{where}.Condition uses an unknown operator {op!r}.")
            if not isinstance(body, dict):
                raise PolicyError(f"{where}.Condition.{op} must be an object.")


def _statements(doc: str | dict) -> list[dict]:
    parsed = parse_document(doc)
    st = parsed.get("Statement", [])
    return [st] if isinstance(st, dict) else list(st)


def _wild(pattern: str, value: str, *, fold: bool) -> bool:
    if fold:
        pattern, value = pattern.lower(), value.lower()
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.DOTALL) is not None


def _matches_any(patterns: Iterable[str], value: str, *, fold: bool) -> bool:
    return any(_wild(p, value, fold=fold) for p in patterns)


def _condition_holds(condition: dict | None, context: dict[str, Any]) -> bool:
    if not condition:
        return True
    ctx = {k.lower(): _as_list(v) for k, v in context.items()}
    for op, body in condition.items():
        op_l = op.lower()
        for key, wanted in body.items():
            have = ctx.get(key.lower())
            wanted_l = [str(w) for w in _as_list(wanted)]
            negated = "not" in op_l
            if have is None:
                # A missing key satisfies only the negated operators (as in RAM and IAM).
                if not negated:
                    return False
                continue
            have_s = [str(h) for h in have]
            if op_l.startswith("stringequals") or op_l.startswith("stringnotequals"):
                fold = op_l.endswith("ignorecase")
                hit = any((h.lower() == w.lower()) if fold else (h == w) for h in have_s for w in wanted_l)
            elif op_l in ("stringlike", "stringnotlike"):
                hit = any(_wild(w, h, fold=False) for h in have_s for w in wanted_l)
            elif op_l == "bool":
                hit = any(h.lower() == w.lower() for h in have_s for w in wanted_l)
            else:  # ip conditions: the sandbox has no source IPs worth matching; stricter = no match
                hit = False
            if hit == negated:
                return False
    return True


def evaluate(documents: Iterable[str | dict], action: str, resource: str,
             context: dict[str, Any] | None = None) -> str:
    """Decide an identity-policy request: Allow, ExplicitDeny or ImplicitDeny."""
    context = context or {}
    allowed = False
    for doc in documents:
        for st in _statements(doc):
            if not _statement_applies(st, action, resource, context):
                continue
            if st.get("Effect") == "Deny":
                return EXPLICIT_DENY
            allowed = True
    return ALLOW if allowed else IMPLICIT_DENY


def _statement_applies(st: dict, action: str, resource: str, context: dict[str, Any]) -> bool:
    if "Action" in st and not _matches_any(_as_list(st["Action"]), action, fold=True):
        return False
    if "NotAction" in st and _matches_any(_as_list(st["NotAction"]), action, fold=True):
        return False
    if "Resource" in st and not _matches_any(_as_list(st["Resource"]), resource, fold=False):
        return False
    if "NotResource" in st and _matches_any(_as_list(st["NotResource"]), resource, fold=False):
        return False
    return _condition_holds(st.get("Condition"), context)


@dataclass(frozen=True)
class Caller:
    """Who asks to assume a role, as a trust policy sees them."""

    kind: str                     # ram | federated | service
    account: str | None = None    # for ram callers
    arn: str | None = None        # role ARN (for sessions), user ARN, or root ARN
    provider_arn: str | None = None  # for federated (OIDC) callers
    service: str | None = None


def _ram_principal_matches(entry: str, caller: Caller) -> bool:
    if entry == "*":
        return True
    if re.fullmatch(r"\d+", entry) or entry.endswith(":root"):
        uid = entry if re.fullmatch(r"\d+", entry) else entry.split(":")[3]
        return caller.account == uid
    return caller.arn is not None and _wild(entry, caller.arn, fold=False)


def trust_admits(doc: str | dict, caller: Caller, context: dict[str, Any] | None = None) -> str:
    """Decide whether a trust policy lets `caller` assume the role."""
    context = context or {}
    allowed = False
    for st in _statements(doc):
        actions = _as_list(st.get("Action"))
        if not _matches_any(actions, "sts:AssumeRole", fold=True):
            continue
        principal = st.get("Principal") or {}
        if caller.kind == "ram":
            hit = any(_ram_principal_matches(e, caller) for e in _as_list(principal.get("RAM")))
        elif caller.kind == "federated":
            hit = caller.provider_arn in _as_list(principal.get("Federated"))
        else:
            hit = caller.service in _as_list(principal.get("Service"))
        if not hit or not _condition_holds(st.get("Condition"), context):
            continue
        if st.get("Effect") == "Deny":
            return EXPLICIT_DENY
        allowed = True
    return ALLOW if allowed else IMPLICIT_DENY
