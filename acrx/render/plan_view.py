"""The plan on the console passed in, one table (or list, when narrow) per account."""

from __future__ import annotations

import json
from typing import Any, Mapping

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from acrx.plan.change import KNOWN_AFTER_APPLY, SENSITIVE, Action, Change, Ref, Sensitive
from acrx.plan.diff import ABSENT, diff_values
from acrx.plan.plan import Plan
from acrx.plan.policy_diff import canonical, looks_like_policy, normalise, statement_changes
from acrx.render.text_layout import GAP, min_width, natural_width, pad, wrap_lines

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


MIN_REASON = 20   # a reason column narrower than this reads as a list of fragments
MIN_VALUES = 15
VALUES_HEAD, REASON_HEAD = "before -> after", "reason"


def _marker(change: Change) -> str:
    return f"{MARKERS[change.action]} {change.action.value}"


def _reason_lines(change: Change) -> list[str]:
    return [change.reason] if change.reason else []


def table_widths(plans: list[list[Change]], width: int) -> tuple[int, int, int, int] | None:
    """Column widths shared by every account's table (so they line up), or None when a table
    cannot show every token whole at this width (then the list view is used). The address and
    action columns take what their longest entry needs; the values column what its lines need,
    up to what leaves the reason column its minimum; the reason column takes the rest."""
    changes = [c for group in plans for c in group]
    address = max([len("address"), *(cell_len(c.address) for c in changes)])
    action = max(len(f"{MARKERS[a]} {a.value}") for a in Action)
    values = [line for c in changes for line in describe_change(c).splitlines()]
    reasons = [line for c in changes for line in _reason_lines(c)]
    room = width - address - action - 3 * len(GAP)
    min_values = max(min_width(values), MIN_VALUES)
    min_reason = max(min_width(reasons), min(natural_width(reasons), MIN_REASON), len(REASON_HEAD))
    if min_values + min_reason > room:
        return None
    # The reason column may ask for up to a third of the room; the values take what it leaves.
    reason_want = max(min_reason, min(natural_width(reasons), room // 3))
    values_w = max(min_values, min(max(natural_width(values), len(VALUES_HEAD)), room - reason_want))
    return address, action, values_w, room - values_w


def _row(cells: list[tuple[str, str | None]], widths: tuple[int, ...]) -> Text:
    line = Text()
    for i, (text, style) in enumerate(cells):
        last = i == len(cells) - 1
        line.append(text if last else pad(text, widths[i]), style=style)
        if not last:
            line.append(GAP)
    line.rstrip()
    return line


def _render_table(changes: list[Change], widths: tuple[int, int, int, int], rule: int,
                  console: Console) -> None:
    address_w, action_w, values_w, reason_w = widths
    console.print(_row([("address", None), ("action", None), (VALUES_HEAD, None), (REASON_HEAD, None)],
                       widths), soft_wrap=True)
    console.print("─" * rule, soft_wrap=True)
    for change in changes:
        values = wrap_lines(describe_change(change).splitlines(), values_w)
        reason = wrap_lines(_reason_lines(change), reason_w)
        for i in range(max(len(values), len(reason), 1)):
            cells = [(change.address if i == 0 else "", None),
                     (_marker(change) if i == 0 else "", _STYLES[change.action] if i == 0 else None),
                     (values[i] if i < len(values) else "", None),
                     (reason[i] if i < len(reason) else "", None)]
            console.print(_row(cells, widths), soft_wrap=True)


def _render_list(changes: list[Change], console: Console) -> None:
    """One block per change: marker, action and address, then its values and reason indented."""
    for change in changes:
        head = Text(f"  {_marker(change)} ", style=_STYLES[change.action])
        head.append(change.address, style="bold")
        console.print(head, soft_wrap=True)
        lines = describe_change(change).splitlines()
        if change.reason:
            lines.append(f"reason: {change.reason}")
        for line in wrap_lines([f"      {line}" for line in lines], console.width):
            console.print(Text(line), soft_wrap=True)


def render_plan_table(plan: Plan, console: Console, *, show_noops: bool = True) -> None:
    """Print the plan grouped by account (a heading per alias), then the headline: a table when
    the console is wide enough to show every token whole, else a list. Lines are wrapped here
    and printed with soft_wrap, so rich neither folds a token nor pads a line."""
    groups = {account: [c for c in changes if show_noops or not c.is_noop]
              for account, changes in plan.by_account().items()}
    groups = {account: shown for account, shown in groups.items() if shown}
    widths = table_widths(list(groups.values()), console.width) if groups else None
    if widths is not None:   # the rule under the headings is as wide as the widest row
        reasons = [line for shown in groups.values() for c in shown for line in _reason_lines(c)]
        rule = sum(widths[:3]) + 3 * len(GAP) + min(widths[3], max(natural_width(reasons), len(REASON_HEAD)))
    for account, shown in groups.items():
        console.print(Text(account_heading(plan, account), style="bold"), soft_wrap=True)
        if widths is None:
            _render_list(shown, console)
        else:
            _render_table(shown, widths, rule, console)
    console.print(Text(headline(plan), style="bold"), soft_wrap=True)
