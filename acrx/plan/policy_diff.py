"""RAM policy documents compared by meaning, not by spelling.

RAM returns documents re-serialised (other key order, other whitespace, a single action as a
string instead of a one-element list, statements in any order), and actions are case-insensitive.
None of that is a change; comparing raw strings would plan an update on every run.
"""

from __future__ import annotations

import difflib
import json
from fnmatch import fnmatchcase
from typing import Any, Iterable, Mapping

from acrx.cloud.arns import fold_role_arn

PolicyInput = str | Mapping[str, Any]

_LIST_KEYS = ("Action", "NotAction", "Resource", "NotResource")
_KEY_ORDER = ("Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource",
              "NotResource", "Condition")


def parse_policy(doc: PolicyInput | None) -> dict[str, Any]:
    """A document as a dict, from a JSON string or a mapping; None or "" is an empty policy."""
    if doc is None or (isinstance(doc, str) and not doc.strip()):
        return {"Version": "1", "Statement": []}
    if isinstance(doc, str):
        try:
            doc = json.loads(doc)
        except json.JSONDecodeError as exc:
            raise ValueError(f"policy document is not valid JSON: {exc.msg}") from None
    if not isinstance(doc, Mapping):
        raise ValueError("policy document must be a JSON object")
    return dict(doc)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _strings(value: Any, *, fold: bool) -> list[str]:
    out = {str(v).strip().lower() if fold else str(v).strip() for v in _as_list(value)}
    return sorted(out)


def _role_names_folded(values: list[str], *, fold: bool) -> list[str]:
    # Role names are case-insensitive in RAM and STS writes them lower-cased (cloud/arns.py).
    return sorted({fold_role_arn(v) for v in values}) if fold else values


def _principal(value: Any, *, fold: bool) -> Any:
    if isinstance(value, str):
        value = {"*": ["*"]} if value.strip() == "*" else {"RAM": [value.strip()]}
    if isinstance(value, Mapping):
        return {str(k): _role_names_folded(_strings(v, fold=False), fold=fold) for k, v in sorted(value.items())}
    return value


def _condition(value: Any, *, fold: bool) -> Any:
    if not isinstance(value, Mapping):
        return value
    out = {}
    for operator, clauses in sorted(value.items()):
        if isinstance(clauses, Mapping):
            # Condition keys are case-insensitive; values are not (a sub or an issuer URL).
            out[operator] = {(k.lower() if fold else k): _strings(v, fold=False)
                             for k, v in sorted(clauses.items(), key=lambda kv: kv[0].lower())}
        else:
            out[operator] = clauses
    return out


def _statement(raw: Mapping[str, Any], *, fold: bool) -> dict[str, Any]:
    stmt: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _LIST_KEYS:
            # Actions are case-insensitive in RAM; resources (ARNs) keep their case, except the
            # role name of a role ARN (RAM role names are case-insensitive).
            stmt[key] = _strings(value, fold=fold and key in ("Action", "NotAction"))
            if key in ("Resource", "NotResource"):
                stmt[key] = _role_names_folded(stmt[key], fold=fold)
        elif key in ("Principal", "NotPrincipal"):
            stmt[key] = _principal(value, fold=fold)
        elif key == "Condition":
            stmt[key] = _condition(value, fold=fold)
        elif key == "Effect":
            stmt[key] = str(value).strip().capitalize()
        else:
            stmt[key] = value.strip() if isinstance(value, str) else value
    ordered = {k: stmt[k] for k in _KEY_ORDER if k in stmt}
    ordered.update({k: stmt[k] for k in sorted(stmt) if k not in ordered})
    return ordered


def _sort_key(stmt: Mapping[str, Any]) -> str:
    return json.dumps(stmt, sort_keys=True)


def canonical(doc: PolicyInput | None) -> dict[str, Any]:
    """Stable spelling for display: key order, lists, statement order; case is kept."""
    return _normalise(doc, fold=False)


def normalise(doc: PolicyInput | None) -> dict[str, Any]:
    """The form two documents are compared in: `canonical` plus case-folded actions and keys."""
    return _normalise(doc, fold=True)


def _normalise(doc: PolicyInput | None, *, fold: bool) -> dict[str, Any]:
    parsed = parse_policy(doc)
    statements = {}
    for raw in _as_list(parsed.get("Statement")):
        if not isinstance(raw, Mapping):
            raise ValueError("each policy statement must be a JSON object")
        stmt = _statement(raw, fold=fold)
        # Identical statements say the same thing once; keep one.
        statements.setdefault(_sort_key(_statement(raw, fold=True)), stmt)
    return {"Version": str(parsed.get("Version", "1")).strip(),
            "Statement": [statements[k] for k in sorted(statements)]}


def policies_equal(a: PolicyInput | None, b: PolicyInput | None) -> bool:
    return normalise(a) == normalise(b)


def _covers_values(have: list[str], want: list[str]) -> bool:
    return all(any(fnmatchcase(w, h) for h in have) for w in want)


def _covers(have: Mapping[str, Any], want: Mapping[str, Any]) -> bool:
    """Does statement `have` allow (or deny) at least everything `want` does? Both normalised."""
    if have.get("Effect") != want.get("Effect"):
        return False
    if have.get("Condition") != want.get("Condition"):
        return False
    for key in ("NotAction", "NotResource", "NotPrincipal"):
        if have.get(key) != want.get(key):
            return False
    for key in ("Action", "Resource"):
        if key in want and not _covers_values(have.get(key, []), want[key]):
            return False
    want_principal = want.get("Principal")
    if want_principal is not None:
        have_principal = have.get("Principal") or {}
        if have_principal != {"*": ["*"]}:
            for kind, values in want_principal.items():
                if not _covers_values(have_principal.get(kind, []), values):
                    return False
    return True


def statements_missing(have: PolicyInput | None, want: PolicyInput | None) -> list[dict[str, Any]]:
    """The wanted statements (canonical form) that no statement of `have` covers."""
    have_n = normalise(have)["Statement"]
    want_c = canonical(want)["Statement"]
    missing = []
    for stmt in want_c:
        folded = _statement(stmt, fold=True)
        if not any(_covers(h, folded) for h in have_n):
            missing.append(stmt)
    return missing


def merge_statements(have: PolicyInput | None, add: PolicyInput | None) -> dict[str, Any]:
    """`have` with the statements of `add` it lacks appended. Never removes or rewrites a
    statement: other people's statements in a shared trust policy stay exactly as they were."""
    parsed = parse_policy(have)
    statements = _as_list(parsed.get("Statement"))
    missing = statements_missing(parsed, add)
    merged = dict(parsed)
    merged.setdefault("Version", "1")
    merged["Statement"] = [*statements, *missing]
    return merged


def render_policy(doc: PolicyInput | None) -> str:
    return json.dumps(canonical(doc), indent=2, ensure_ascii=False)


def policy_unified_diff(before: PolicyInput | None, after: PolicyInput | None, *,
                        before_name: str = "before", after_name: str = "after",
                        context: int = 3) -> str:
    """A unified diff of the canonical forms; "" when the documents mean the same."""
    if policies_equal(before, after):
        return ""
    lines = difflib.unified_diff(render_policy(before).splitlines(),
                                 render_policy(after).splitlines(),
                                 before_name, after_name, n=context, lineterm="")
    return "\n".join(lines)


def compact_statement(stmt: Mapping[str, Any]) -> str:
    """One statement on one line; spaces after separators so a narrow cell can wrap it."""
    return json.dumps(stmt, separators=(", ", ": "), ensure_ascii=False)


def statement_changes(before: PolicyInput | None, after: PolicyInput | None
                      ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(statements that go, statements that come), canonical, compared by meaning."""
    old = {_sort_key(_statement(s, fold=True)): s for s in canonical(before)["Statement"]}
    new = {_sort_key(_statement(s, fold=True)): s for s in canonical(after)["Statement"]}
    return ([s for k, s in old.items() if k not in new], [s for k, s in new.items() if k not in old])


def changed_lines(before: PolicyInput | None, after: PolicyInput | None) -> list[str]:
    """A compact diff for a plan cell: "- stmt" for each statement that goes, "+ stmt" for each
    that comes (statements compared by meaning), and the Version if it changes."""
    gone, come = statement_changes(before, after)
    lines = []
    old_version, new_version = normalise(before)["Version"], normalise(after)["Version"]
    if old_version != new_version:
        lines.append(f"Version: {old_version} -> {new_version}")
    lines.extend(f"- {compact_statement(s)}" for s in gone)
    lines.extend(f"+ {compact_statement(s)}" for s in come)
    return lines


def looks_like_policy(value: Any) -> bool:
    """A mapping or JSON string with a Statement: shown and compared as a policy document."""
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return False
    return isinstance(value, Mapping) and "Statement" in value


def statement_count(doc: Iterable[Any] | PolicyInput | None) -> int:
    return len(canonical(doc)["Statement"])  # type: ignore[arg-type]
