"""The layers of `acrx verify` and `acrx doctor`, their results, and the run that stops at the
first failing layer.

A layer is a function of a `VerifyRun` returning a `LayerResult`: its checks, each passed,
failed (with the cause and the acrx command that fixes it) or skipped (with why). Layers after
a failing one are reported as skipped, since what they would test rests on the broken one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

PASS, FAIL, SKIP = "pass", "fail", "skip"

LAYER_CONTROL_PLANE = "control plane"
LAYER_COMPONENT = "component"
LAYER_PULL = "pull"
LAYER_PROBE = "registry probe"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool | None                  # None: skipped
    detail: str = ""
    cause: str | None = None
    fix_command: str | None = None

    @property
    def status(self) -> str:
        return SKIP if self.ok is None else (PASS if self.ok else FAIL)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "ok": self.ok, "detail": self.detail,
                "cause": self.cause, "fix_command": self.fix_command}


def passed(name: str, detail: str = "") -> Check:
    return Check(name, True, detail)


def failed(name: str, detail: str, cause: str | None = None, fix_command: str | None = None) -> Check:
    return Check(name, False, detail, cause or detail, fix_command)


def skipped(name: str, why: str) -> Check:
    return Check(name, None, why)


@dataclass
class LayerResult:
    name: str
    ok: bool | None                  # None: the layer did not run
    checks: list[Check] = field(default_factory=list)
    skipped_reason: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)   # e.g. the pull outcome

    @property
    def status(self) -> str:
        return SKIP if self.ok is None else (PASS if self.ok else FAIL)

    @property
    def first_failure(self) -> Check | None:
        return next((c for c in self.checks if c.ok is False), None)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "status": self.status, "ok": self.ok,
                               "checks": [c.to_dict() for c in self.checks]}
        failure = self.first_failure
        if failure is not None:
            out["cause"], out["fix_command"] = failure.cause, failure.fix_command
        if self.skipped_reason:
            out["skipped_reason"] = self.skipped_reason
        out.update(self.extra)
        return out


def layer_from_checks(name: str, checks: list[Check], **extra: Any) -> LayerResult:
    """A layer passes when none of its checks failed (skipped checks do not fail it)."""
    return LayerResult(name, not any(c.ok is False for c in checks), checks, extra=dict(extra))


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

    @property
    def config(self):
        return self.ctx.config

    def fix(self, command: str | None) -> str | None:
        if not command or not self.config_file or self.config_file == "acrx.yaml":
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


def all_passed(results: list[LayerResult]) -> bool:
    return all(r.ok is not False for r in results) and any(r.ok for r in results)


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
