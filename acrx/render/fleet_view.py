"""The console side of a fleet: the merged plan, the summary table, the verify table."""

from __future__ import annotations

from typing import Any, Iterable

from rich.console import Console
from rich.text import Text


def print_rows(console: Console, rows: list[dict[str, Any]], columns: Iterable[str]) -> None:
    """A plain aligned table (no box characters: it is read in CI logs and grepped)."""
    columns = list(columns)
    cells = [[str(c).upper() for c in columns]] + [[_cell(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    for row in cells:
        line = "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip()
        console.print(Text(line), soft_wrap=True, highlight=False)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    return " ".join(str(value).split())


def render_fleet_plan(plan, console: Console, *, show_noops: bool) -> None:
    """The merged plan grouped by account (cluster-scoped addresses carry the cluster's name),
    then one row per cluster and a line on the shared resources."""
    from acrx.plan.fleet import summary_rows
    from acrx.render.plan_view import render_plan_table

    render_plan_table(plan, console, show_noops=show_noops)
    console.print()
    print_rows(console, summary_rows(plan), ["cluster", "account", "region", "mode", "network",
                                             "create", "update", "delete"])
    users = plan.meta.get("shared_users") or {}
    if users:
        pending = sum(1 for key in users if key in plan and not plan[key].is_noop)
        console.print(Text(f"shared: {len(users)} resource(s) planned once for the clusters using them, "
                           f"{pending} with changes"), soft_wrap=True, highlight=False)
