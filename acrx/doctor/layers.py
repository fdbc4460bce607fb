"""The layers of `acrx verify` and `acrx doctor`, their results, and the run that stops at the
first failing layer.

A layer is a function of a `VerifyRun` returning a `LayerResult`: its checks, each passed,
failed (with the cause and the acrx command that fixes it), skipped (it did not run, and why) or
unknown (it ran but could not decide, and why). A check that did not run is never a pass:

- a layer fails when one of its checks fails;
- else it is unknown when one of its checks is unknown;
- else it is skipped when none of its checks passed (a layer of only skips, or of none);
- else it passes.

Layers after a failing one are reported as skipped, since what they would test rests on the
broken one. `verdict()` turns the layers into the run's verdict and its one-line summary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

PASS, FAIL, SKIP, UNKNOWN = "pass", "fail", "skip", "unknown"

LAYER_CONTROL_PLANE = "control plane"
LAYER_COMPONENT = "component"
LAYER_PULL = "pull"
LAYER_PROBE = "registry probe"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool | None                  # True pass, False fail, None: skipped or unknown
    detail: str = ""
    cause: str | None = None
    fix_command: str | None = None
    undecided: bool = False          # with ok None: it ran but could not decide (unknown)

    @property
    def status(self) -> str:
        if self.ok is None:
            return UNKNOWN if self.undecided else SKIP
        return PASS if self.ok else FAIL

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "ok": self.ok, "detail": self.detail,
                "cause": self.cause, "fix_command": self.fix_command}


def passed(name: str, detail: str = "") -> Check:
    return Check(name, True, detail)


def failed(name: str, detail: str, cause: str | None = None, fix_command: str | None = None) -> Check:
    return Check(name, False, detail, cause or detail, fix_command)


def skipped(name: str, why: str) -> Check:
    return Check(name, None, why)


def unknown(name: str, why: str, fix_command: str | None = None) -> Check:
    """A check that ran but cannot tell pass from fail (e.g. a policy construct acrx does not model)."""
    return Check(name, None, why, why, fix_command, undecided=True)


def _why(checks: list[Check], status: str) -> str:
    return "; ".join(dict.fromkeys(c.detail or c.name for c in checks if c.status == status))


@dataclass
class LayerResult:
    name: str
    ok: bool | None                  # True pass, False fail, None: skipped or unknown
    checks: list[Check] = field(default_factory=list)
    skipped_reason: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)   # e.g. the pull outcome
    undecided: bool = False          # with ok None: unknown rather than skipped
    unknown_reason: str | None = None

    @property
    def status(self) -> str:
        if self.ok is None:
            return UNKNOWN if self.undecided else SKIP
        return PASS if self.ok else FAIL

    @property
    def first_failure(self) -> Check | None:
        return next((c for c in self.checks if c.ok is False), None)

    @property
    def reason(self) -> str | None:
        """Why the layer is skipped or unknown (None when it passed or failed)."""
        return self.unknown_reason if self.status == UNKNOWN else (
            self.skipped_reason if self.status == SKIP else None)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "status": self.status, "ok": self.ok,
                               "checks": [c.to_dict() for c in self.checks]}
        failure = self.first_failure
        if failure is not None:
            out["cause"], out["fix_command"] = failure.cause, failure.fix_command
        if self.skipped_reason:
            out["skipped_reason"] = self.skipped_reason
        if self.unknown_reason:
            out["unknown_reason"] = self.unknown_reason
        out.update(self.extra)
        return out


def layer_from_checks(name: str, checks: list[Check], **extra: Any) -> LayerResult:
    """The layer's status from its checks (see the module docstring): a skipped check never
    makes a pass, an unknown one never a pass either."""
    statuses = {c.status for c in checks}
    if FAIL in statuses:
        return LayerResult(name, False, checks, extra=dict(extra))
    if UNKNOWN in statuses:
        return LayerResult(name, None, checks, extra=dict(extra), undecided=True,
                           unknown_reason=_why(checks, UNKNOWN))
    if PASS not in statuses:
        return LayerResult(name, None, checks, extra=dict(extra),
                           skipped_reason=_why(checks, SKIP) or "nothing to check")
    return LayerResult(name, True, checks, extra=dict(extra))


@dataclass
class VerifyRun:
    """What every layer reads: the step context (config, cloud session, cluster client) and the
    options of this run. `fix()` words an acrx command for this config file."""

    ctx: Any                                    # acrx.steps.context.StepContext
    config_file: str | None = None              # shown in fix commands when not the default
    timeout_s: float = 300.0
    keep: bool = False
    poll_s: float = 0.5
    progress: Callable[[str], None] | None = None
    memo: dict[str, Any] = field(default_factory=dict)
    # the desired-state flags this run was given, worded for a fix command (acrx.cli.desired):
    # a fix must keep the settings the user chose, not revert them to the file's
    fix_flags: Callable[[str], str] | None = None

    @property
    def config(self):
        return self.ctx.config

    def fix(self, command: str | None) -> str | None:
        if not command:
            return command
        flags = self.fix_flags(command) if self.fix_flags is not None else ""
        if flags:
            command = f"{command} {flags}"
        if not self.config_file or self.config_file == "acrx.yaml":
            return command
        return f"{command} -f {self.config_file}"

    def say(self, message: str) -> None:
        if self.progress is not None:
            self.progress(message)


Layer = tuple[str, Callable[[], LayerResult]]


def run_layers(layers: list[Layer], *, on_layer: Callable[[LayerResult], None] | None = None) -> list[LayerResult]:
    """Run the layers in order; after the first failure the rest are skipped, not run."""
    results: list[LayerResult] = []
    broken: str | None = None
    for name, run in layers:
        if broken is not None:
            result = LayerResult(name, None, skipped_reason=f"not run: the {broken} layer failed")
        else:
            result = run()
            if result.ok is False:
                broken = name
        results.append(result)
        if on_layer is not None:
            on_layer(result)
    return results


@dataclass(frozen=True)
class Verdict:
    """The run's verdict: pass, fail or unknown, and the summary line that says why."""
    status: str
    summary: str

    @property
    def ok(self) -> bool:
        return self.status == PASS


def _listed(results: list[LayerResult], status: str) -> str:
    return "; ".join(f"{r.name} ({r.reason})" if r.reason else r.name for r in results if r.status == status)


def verdict(results: list[LayerResult], proof: str | None = None) -> Verdict:
    """Fail when a layer failed. Otherwise pass when the `proof` layer (the real pull) passed, or
    when every layer passed or was skipped and at least one passed; the summary still lists what
    was unknown or skipped. Otherwise unknown: acrx cannot say the pull works."""
    broken = first_failing(results)
    if broken is not None:
        failure = broken.first_failure
        return Verdict(FAIL, f"failed: {broken.name} ({failure.cause if failure else 'a check failed'})")
    proven = any(r.name == proof and r.status == PASS for r in results)
    undecided = [r for r in results if r.status == UNKNOWN]
    status = PASS if proven or (not undecided and any(r.status == PASS for r in results)) else UNKNOWN
    parts = ["passed" if status == PASS else "not proven"]
    for label, state in (("unknown", UNKNOWN), ("skipped", SKIP)):
        listed = _listed(results, state)
        if listed:
            parts.append(f"{label}: {listed}")
    return Verdict(status, "; ".join(parts))


def fix_commands(result: LayerResult) -> list[str]:
    """Every distinct fix command of the layer's failing checks, in the order they failed."""
    return list(dict.fromkeys(c.fix_command for c in result.checks if c.ok is False and c.fix_command))


def fix_hint(result: LayerResult, setup_command: str | None) -> str | None:
    """One fix: run it. Several: `acrx setup` applies them all (in order), or each one."""
    commands = fix_commands(result)
    if not commands:
        return None
    if len(commands) == 1:
        return f"run `{commands[0]}`"
    each = ", ".join(f"`{c}`" for c in commands)
    return f"run `{setup_command}` to fix them all, or in turn: {each}" if setup_command else f"run in turn: {each}"


def all_passed(results: list[LayerResult]) -> bool:
    return verdict(results).ok


def first_failing(results: list[LayerResult]) -> LayerResult | None:
    return next((r for r in results if r.ok is False), None)


# -- the three layers, as the commands call them ------------------------------------------------
def control_plane_layer(run) -> LayerResult:
    from acrx.doctor.control_plane import check_control_plane

    return layer_from_checks(LAYER_CONTROL_PLANE, check_control_plane(run))


def component_layer(run) -> LayerResult:
    from acrx.doctor.component import check_component

    return layer_from_checks(LAYER_COMPONENT, check_component(run))


def pull_layer(run) -> LayerResult:
    from acrx.doctor.pull import check_pull

    checks, outcome = check_pull(run)
    extra = {"pull": outcome.to_dict()} if outcome is not None else {}
    return layer_from_checks(LAYER_PULL, checks, **extra)


def probe_layer(run) -> LayerResult:
    from acrx.doctor.pull import check_registry_probe

    return layer_from_checks(LAYER_PROBE, check_registry_probe(run))
