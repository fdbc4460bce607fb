"""The one JSON envelope every `-o json` output uses: {"apiVersion", "kind", "data"}."""

from __future__ import annotations

import json
from typing import Any, Mapping

from rich.console import Console

from acrx.plan.change import encode_value

API_VERSION = "acrx/v1"

KIND_PLAN = "Plan"
KIND_APPLY_RESULT = "ApplyResult"
KIND_VERIFY = "Verify"
KIND_DOCTOR = "Doctor"


def envelope(kind: str, data: Mapping[str, Any]) -> dict[str, Any]:
    # encode_value turns any Ref/Sensitive left in `data` into its display form, so a secret
    # cannot reach stdout through a JSON output either.
    return {"apiVersion": API_VERSION, "kind": kind, "data": encode_value(dict(data))}


def dumps(kind: str, data: Mapping[str, Any]) -> str:
    return json.dumps(envelope(kind, data), indent=2, ensure_ascii=False)


def print_json(console: Console, kind: str, data: Mapping[str, Any]) -> None:
    """Write the envelope as-is: no wrapping, markup or highlighting, so it always parses."""
    console.out(dumps(kind, data), highlight=False)


def plan_data(plan) -> dict[str, Any]:
    """The data of a Plan envelope: summary first (what CI looks at), then the changes."""
    counts = plan.counts
    summary: dict[str, Any] = {
        "create": counts["create"], "update": counts["update"], "replace": counts["replace"],
        "delete": counts["delete"], "no-op": counts["no-op"], "has_changes": plan.has_changes,
    }
    if not plan.has_changes:
        summary["reason"] = plan.why_no_changes()
    return {
        "summary": summary,
        "fingerprint": plan.fingerprint,
        "meta": encode_value(plan.meta),
        "changes": [change.to_dict() for change in plan.changes],
    }


def print_plan_json(console: Console, plan) -> None:
    print_json(console, KIND_PLAN, plan_data(plan))
