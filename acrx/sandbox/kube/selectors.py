"""Label and field selectors with the real apiserver's syntax and error texts.

Label selectors: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, comma = AND.
Field selectors: `f=v`, `f==v`, `f!=v`, only on the fields a resource type supports.
"""

from __future__ import annotations

import re
from typing import Any, Callable

Requirement = Callable[[dict[str, str]], bool]

_SET_RE = re.compile(r"^\s*(!?)\s*([A-Za-z0-9_./-]+)\s*(?:\s(in|notin)\s*\(([^)]*)\))?\s*$")
_EQ_RE = re.compile(r"^\s*([A-Za-z0-9_./-]+)\s*(==|!=|=)\s*([A-Za-z0-9_.-]*)\s*$")


class SelectorError(ValueError):
    """A selector that does not parse; the server answers 400 BadRequest with this text."""


def _split_top_level(text: str) -> list[str]:
    """Split on commas that are not inside `in (...)` parentheses."""
    parts, depth, current = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [p for p in (s.strip() for s in parts) if p]


def parse_label_selector(text: str | None) -> Requirement:
    """A predicate over a labels dict; an empty selector matches everything."""
    if not text or not text.strip():
        return lambda labels: True
    requirements: list[Requirement] = []
    for part in _split_top_level(text):
        eq = _EQ_RE.match(part)
        if eq:
            key, op, value = eq.groups()
            if op == "!=":
                requirements.append(lambda l, k=key, v=value: l.get(k) != v)
            else:
                requirements.append(lambda l, k=key, v=value: k in l and l[k] == v)
            continue
        st = _SET_RE.match(part)
        if not st:
            raise SelectorError(f"unable to parse requirement: found '{part}', expected: in, notin, =, ==, !=, gt, lt")
        negate, key, op, values_text = st.groups()
        if op:
            if negate:
                raise SelectorError(f"unable to parse requirement: {part!r}")
            values = {v.strip() for v in values_text.split(",") if v.strip()}
            if op == "in":
                requirements.append(lambda l, k=key, vs=values: l.get(k) in vs)
            else:
                requirements.append(lambda l, k=key, vs=values: l.get(k) not in vs)
        elif negate:
            requirements.append(lambda l, k=key: k not in l)
        else:
            requirements.append(lambda l, k=key: k in l)
    return lambda labels: all(req(labels) for req in requirements)


def match_label_selector_object(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """metav1.LabelSelector (matchLabels + matchExpressions). A nil selector matches nothing,
    an empty one everything, as in the controllers."""
    if selector is None:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), set(expr.get("values") or [])
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def selector_to_string(selector: dict[str, Any] | None) -> str:
    """metav1.LabelSelector in the string form kubectl shows and accepts."""
    if not selector:
        return ""
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        op, key = expr.get("operator"), expr.get("key")
        values = ",".join(sorted(expr.get("values") or []))
        parts.append({"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})",
                      "Exists": key, "DoesNotExist": f"!{key}"}.get(op, key))
    return ",".join(parts)


def field_value(obj: dict[str, Any], path: str) -> str:
    """The string the real field selector compares: dotted path, booleans lower-case, absent = ""."""
    current: Any = obj
    for part in path.split("."):
        if not isinstance(current, dict):
            return ""
        current = current.get(part)
    if current is None:
        return ""
    if isinstance(current, bool):
        return "true" if current else "false"
    if isinstance(current, dict):  # "source" on events selects source.component
        return str(current.get("component", ""))
    return str(current)


def parse_field_selector(text: str | None, supported: tuple[str, ...], resource: str) -> Callable[[dict], bool]:
    """A predicate over whole objects. Unsupported fields raise as the real server does."""
    if not text or not text.strip():
        return lambda obj: True
    allowed = {"metadata.name", "metadata.namespace", *supported}
    checks: list[Callable[[dict], bool]] = []
    for part in _split_top_level(text):
        match = re.match(r"^\s*([A-Za-z0-9_.]+)\s*(==|!=|=)\s*(.*?)\s*$", part)
        if not match:
            raise SelectorError(f"invalid selector: '{text}'; can't understand '{part}'")
        name, op, value = match.groups()
        if name not in allowed:
            raise SelectorError(f'field label not supported: {name}')
        if op == "!=":
            checks.append(lambda o, n=name, v=value: field_value(o, n) != v)
        else:
            checks.append(lambda o, n=name, v=value: field_value(o, n) == v)
    return lambda obj: all(check(obj) for check in checks)
