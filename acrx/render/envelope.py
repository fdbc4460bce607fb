"""The one JSON envelope every `-o json` output uses: {"apiVersion", "kind", "data"}."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Mapping

from acrx.plan.change import encode_value

if TYPE_CHECKING:   # rich is imported by whoever builds the console, not by this module
    from rich.console import Console

API_VERSION = "acrx/v1"

KIND_PLAN = "Plan"
KIND_APPLY_RESULT = "ApplyResult"
KIND_VERIFY = "Verify"
KIND_DOCTOR = "Doctor"
KIND_ERROR = "Error"

# How many envelopes this process has printed: the CLI's error handler prints an Error envelope
# only when the failing command printed none, so stdout always holds exactly one document.
_PRINTED = [0]


def printed() -> int:
    return _PRINTED[0]


def envelope(kind: str, data: Mapping[str, Any]) -> dict[str, Any]:
    # encode_value turns any Ref/Sensitive left in `data` into its display form, so a secret
    # cannot reach stdout through a JSON output either.
    return {"apiVersion": API_VERSION, "kind": kind, "data": encode_value(dict(data))}


def dumps(kind: str, data: Mapping[str, Any]) -> str:
    return json.dumps(envelope(kind, data), indent=2, ensure_ascii=False)


def print_json(console: Console, kind: str, data: Mapping[str, Any]) -> None:
    """Write the envelope as-is: no wrapping, markup or highlighting, so it always parses."""
    console.out(dumps(kind, data), highlight=False)
    _PRINTED[0] += 1


# exit code -> the `error.code` of a failure that carries no cloud error code
CODE_NAMES = {1: "error", 2: "usage", 3: "changes-pending", 4: "verification-failed", 130: "interrupted"}


def code_name(exit_code: int) -> str:
    return CODE_NAMES.get(int(exit_code), "error")


def error_data(exc: BaseException, message: str, code: str) -> dict[str, Any]:
    """`{code, message, field, hint}` of a failure; `code` is the cloud's error code when the
    cloud refused, else what kind of failure it was (usage, error, interrupted, ...)."""
    cause = getattr(exc, "cause", None)
    cloud_code = getattr(exc, "code", None) or getattr(cause, "code", None)
    return {
        "code": cloud_code if isinstance(cloud_code, str) and cloud_code else code,
        "message": message,
        "field": getattr(exc, "field", None),
        "hint": getattr(exc, "hint", None) or getattr(cause, "hint", None),
    }


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
