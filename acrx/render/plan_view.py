"""The plan as a table on the console passed in, one table per account."""

from __future__ import annotations

import json
from typing import Any, Mapping

from rich import box
from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from acrx.plan.change import KNOWN_AFTER_APPLY, SENSITIVE, Action, Change, Ref, Sensitive
from acrx.plan.diff import ABSENT, diff_values
from acrx.plan.plan import Plan
from acrx.plan.policy_diff import canonical, looks_like_policy, normalise, statement_changes

MARKERS = {
    Action.CREATE: "+",
    Action.UPDATE: "~",
    Action.REPLACE: "-/+",
    Action.DELETE: "-",
    Action.NOOP: "=",
}
_STYLES = {
    Action.CREATE: "green",
    Action.UPDATE: "yellow",
    Action.REPLACE: "magenta",
    Action.DELETE: "red",
    Action.NOOP: "dim",
}
NO_ACCOUNT = "(local)"


def account_heading(plan: Plan, account: str | None) -> str:
    """"Account <alias>", plus what the command knows of it (meta["accounts"][alias], e.g. a
    UID), so each account's owner finds the part of the plan that is theirs."""
    known = (plan.meta.get("accounts") or {}).get(account) if account else None
    return f"Account {account or NO_ACCOUNT}" + (f" ({known})" if known else "")


def headline(plan: Plan) -> str:
    if not plan.has_changes:
        return f"No changes. {plan.why_no_changes()}"
    c = plan.counts
    return (f"{c['create']} to create, {c['update']} to update, "
            f"{c['replace']} to replace, {c['delete']} to delete")


def format_scalar(value: Any) -> str:
    if isinstance(value, Ref):
        return KNOWN_AFTER_APPLY
    if isinstance(value, Sensitive):
        return SENSITIVE
    if value is ABSENT:
        return "(absent)"
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value if value.strip() == value and value else json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_scalar(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {format_scalar(v)}" for k, v in value.items()) + "}"
    return str(value)


def statement_lines(stmt: Mapping[str, Any]) -> list[str]:
    """A canonical statement as a few short lines a reviewer reads at a glance:
    `Allow sts:AssumeRole`, `principal Federated: ...`, `on <resources>`, `if <condition>`."""
    actions = stmt.get("Action") or [f"not {a}" for a in stmt.get("NotAction", [])]
    lines = [f"{stmt.get('Effect', '?')} {', '.join(actions)}"]
    for key in ("Principal", "NotPrincipal"):
        for kind, values in (stmt.get(key) or {}).items():
            label = "principal" if key == "Principal" else "not principal"
            lines.append(f"  {label} {kind}: {', '.join(values)}")
    for key, label in (("Resource", "on"), ("NotResource", "not on")):
        if stmt.get(key):
            lines.append(f"  {label} {', '.join(stmt[key])}")
    for operator, clauses in (stmt.get("Condition") or {}).items():
        for name, values in (clauses.items() if isinstance(clauses, Mapping) else ()):
            lines.append(f"  if {operator} {name} = {', '.join(values)}")
    extra = [k for k in stmt if k not in ("Effect", "Action", "NotAction", "Principal",
                                            "NotPrincipal", "Resource", "NotResource", "Condition")]
    lines.extend(f"  {k}: {format_scalar(stmt[k])}" for k in extra)
    return lines


def _policy_lines(doc: Any, indent: str = "") -> list[str]:
    return [f"{indent}{line}" for stmt in canonical(doc)["Statement"]
            for line in statement_lines(stmt)]


def _policy_diff_lines(old: Any, new: Any, indent: str) -> list[str]:
    gone, come = statement_changes(old, new)
    lines = []
    old_version, new_version = normalise(old)["Version"], normalise(new)["Version"]
    if old_version != new_version:
        lines.append(f"{indent}Version: {old_version} -> {new_version}")
    for sign, statements in (("-", gone), ("+", come)):
        for stmt in statements:
            lines.extend(f"{indent}{sign} {line}" for line in statement_lines(stmt))
    return lines


def describe_value(value: Any, indent: str = "") -> list[str]:
    """Lines showing a whole value (for creates and deletes)."""
    if looks_like_policy(value):
        return _policy_lines(value, indent)
    if isinstance(value, Mapping):
        lines = []
        for key, item in value.items():
            if looks_like_policy(item) or (isinstance(item, Mapping) and item):
                lines.append(f"{indent}{key}:")
                lines.extend(describe_value(item, indent + "  "))
            else:
                lines.append(f"{indent}{key}: {format_scalar(item)}")
        return lines
    return [f"{indent}{format_scalar(value)}"]


def describe_update(before: Any, after: Any) -> list[str]:
    """Lines for what an update or replace changes: `path: old -> new`; a policy document as the
    statements that go (-) and come (+), compared by meaning."""
    lines = []
    for path, old, new in diff_values(before, after):
        old_policy, new_policy = looks_like_policy(old), looks_like_policy(new)
        if old_policy or new_policy:
            name = path or "policy"
            if old_policy and new_policy:
                lines.append(f"{name}:")
            elif new_policy:
                lines.append(f"{name}: {format_scalar(old)} ->")
            else:
                lines.append(f"{name}: -> {format_scalar(new)}")
            lines.extend(_policy_diff_lines(old if old_policy else None,
                                            new if new_policy else None, "  "))
        else:
            label = f"{path}: " if path else ""
            lines.append(f"{label}{format_scalar(old)} -> {format_scalar(new)}")
    return lines


def describe_change(change: Change) -> str:
    if change.action is Action.CREATE:
        lines = describe_value(change.after)
    elif change.action is Action.DELETE:
        lines = describe_value(change.before) + ["-> (deleted)"]
    elif change.action in (Action.UPDATE, Action.REPLACE):
        lines = describe_update(change.before, change.after)
    else:
        lines = []
    return "\n".join(lines)


def _column_widths(plan: Plan, width: int) -> tuple[int, int, int, int]:
    """Widths shared by every account's table, so the tables line up; the rest of the line
    goes 2:1 to before -> after and reason."""
    address = min(max([len("address"), *(len(c.address) for c in plan.changes)]), 48)
    action = max(len(f"{MARKERS[a]} {a.value}") for a in Action)
    rest = max(width - address - action - 8, 30)  # 8: one space each side of four columns
    values = rest * 2 // 3
    return address, action, values, rest - values


def _table(changes: list[Change], widths: tuple[int, int, int, int]) -> Table:
    address_w, action_w, values_w, reason_w = widths
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    # Rich counts a column's padding (one space each side) in its width.
    table.add_column("address", overflow="fold", width=address_w + 2)
    table.add_column("action", no_wrap=True, width=action_w + 2)
    table.add_column("before -> after", overflow="fold", width=values_w + 2)
    table.add_column("reason", overflow="fold", width=reason_w + 2)
    for change in changes:
        marker = f"{MARKERS[change.action]} {change.action.value}"
        table.add_row(Text(change.address), Text(marker, style=_STYLES[change.action]),
                      Text(describe_change(change)), Text(change.reason or ""))
    return table


NARROW = 100  # below this many columns a four-column table is unreadable; use a list instead


def _render_list(changes: list[Change], console: Console) -> None:
    """One block per change: marker, action and address, then its values and reason indented."""
    for change in changes:
        marker = f"{MARKERS[change.action]} {change.action.value}"
        head = Text(f"  {marker} ", style=_STYLES[change.action])
        head.append(change.address, style="bold")
        console.print(head)
        lines = describe_change(change).splitlines()
        if change.reason:
            lines.append(f"reason: {change.reason}")
        for line in lines:
            # Padding keeps wrapped continuation lines under the text, not at column 0.
            # soft_wrap=False: wrap even on a soft-wrapping console, never crop (CI logs need it all).
            console.print(Padding(Text(line), (0, 0, 0, 6), expand=False), soft_wrap=False)


def render_plan_table(plan: Plan, console: Console, *, show_noops: bool = True) -> None:
    """Print the plan grouped by account (a heading per alias), then the headline."""
    widths = _column_widths(plan, console.width)
    for account, changes in plan.by_account().items():
        shown = [c for c in changes if show_noops or not c.is_noop]
        if not shown:
            continue
        console.print(Text(account_heading(plan, account), style="bold"))
        if console.width < NARROW:
            _render_list(shown, console)
        else:
            console.print(_table(shown, widths))
    console.print(Text(headline(plan), style="bold"))
