"""Field-by-field differences between a before and an after value, for the plan table."""

from __future__ import annotations

from typing import Any, Mapping, NamedTuple

from acrx.plan.change import Ref, Sensitive
from acrx.plan.policy_diff import looks_like_policy, policies_equal


class _Absent:
    """A key present on one side only. Distinct from None, which is a real value."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "(absent)"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return False


ABSENT = _Absent()


class ValueChange(NamedTuple):
    path: str
    old: Any
    new: Any


def _join(prefix: str, key: Any) -> str:
    return f"{prefix}.{key}" if prefix else str(key)


def _same(old: Any, new: Any) -> bool:
    if isinstance(new, Ref) or isinstance(old, Ref):
        return False  # an unknown value always shows, so the reader sees what depends on apply
    if looks_like_policy(old) and looks_like_policy(new):
        return policies_equal(old, new)
    return old == new


def diff_values(before: Any, after: Any, prefix: str = "") -> list[ValueChange]:
    """(path, old, new) for every leaf that differs. Dicts recurse; lists, scalars, secrets and
    policy documents are compared whole (policy documents by meaning, see policy_diff)."""
    both_dicts = isinstance(before, Mapping) and isinstance(after, Mapping)
    if both_dicts and not (looks_like_policy(before) and looks_like_policy(after)):
        changes: list[ValueChange] = []
        keys = list(before) + [k for k in after if k not in before]
        for key in keys:
            old = before.get(key, ABSENT)
            new = after.get(key, ABSENT)
            if old is ABSENT or new is ABSENT:
                if old is not new:
                    changes.append(ValueChange(_join(prefix, key), old, new))
                continue
            changes.extend(diff_values(old, new, _join(prefix, key)))
        return changes
    if isinstance(before, Sensitive) or isinstance(after, Sensitive):
        return [] if before == after else [ValueChange(prefix, before, after)]
    return [] if _same(before, after) else [ValueChange(prefix, before, after)]
