"""`acrx sandbox faults`: read or change the fault knobs of a running sandbox.

It talks to the sandbox's control endpoint (acrx/sandbox/core/control.py, which says why an
endpoint and how it is authenticated) with the control secret of DIR/sandbox.env. Every value is
checked here first, so a bad flag exits 2 and changes nothing; the server checks again and
applies all or none.
"""

import json
import re
from pathlib import Path
from typing import Optional

import typer

from acrx.cli.commands.sandbox import sandbox_app
from acrx.cli.root import app_context
from acrx.errors import AcrxError, UsageError

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m)")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0}
_ACTION = re.compile(r"[A-Z][A-Za-z0-9]{1,80}")
MAX_DELAY_S = 600.0
TIMEOUT_S = 30   # one loopback call; generous for a loaded machine


def _seconds(text: str, option: str) -> float:
    match = _DURATION.fullmatch(text.strip())
    if not match:
        raise UsageError(f"{text!r} is not a duration; use e.g. 50ms, 5s or 2m", field=option)
    seconds = float(match.group(1)) * _UNIT_S[match.group(2)]
    if seconds > MAX_DELAY_S:
        raise UsageError(f"{text} is more than {MAX_DELAY_S:g}s", field=option)
    return seconds


def _rate(value: float, option: str) -> float:
    if not 0.0 <= value <= 1.0:
        raise UsageError(f"{value:g} is not a share of calls; use a number from 0 to 1, e.g. 0.05", field=option)
    return value


def _task_kinds(text: str, known: frozenset[str]) -> list[str]:
    if text.strip().lower() == "none":
        return []
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = sorted(set(names) - known)
    if unknown or not names:
        raise UsageError(f"unknown {', '.join(unknown) or repr(text)}; choose from {', '.join(sorted(known))}, "
                         "or none", field="--fail-task")
    return names


def _actions(text: str) -> list[str] | None:
    if text.strip().lower() == "all":
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    bad = [n for n in names if not _ACTION.fullmatch(n)]
    if bad or not names:
        raise UsageError(f"{(bad or [text])[0]!r} is not an API action name such as CreateCen; or use all",
                         field="--only-actions")
    return names


def _duration_text(seconds: float) -> str:
    if seconds and seconds < 1:
        return f"{seconds * 1000:g}ms"
    return f"{seconds:g}s"


def _render(knobs: dict, endpoint: str) -> list[str]:
    rows = [("latency", _duration_text(knobs["latency_s"])), ("throttle", f"{knobs['throttle_rate']:g}"),
            ("error-rate", f"{knobs['error_rate']:g}"), ("reset-rate", f"{knobs['reset_rate']:g}"),
            ("lost-answer-rate", f"{knobs['lost_answer_rate']:g}"),
            ("consistency-delay", _duration_text(knobs["consistency_delay_s"])),
            ("fail-task", ",".join(knobs["failing_tasks"]) or "none"),
            ("only-actions", ",".join(knobs["only_actions"]) if knobs["only_actions"] is not None else "all"),
            ("seed", str(knobs["seed"]))]
    return [f"faults in force on the sandbox at {endpoint}:"] + [f"  {name:<18} {value}" for name, value in rows]


def _call(endpoint: str, secret: str, payload: dict | None) -> dict:
    import urllib.error  # here, not at the top: `acrx --help` must not pay for urllib
    import urllib.request

    from acrx.sandbox.core.control import FAULTS_PATH

    data = None if payload is None else json.dumps(payload).encode()

    request = urllib.request.Request(f"http://{endpoint}{FAULTS_PATH}", data=data, method="GET" if data is None else "POST",
                                     headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never via a proxy
    try:
        with opener.open(request, timeout=TIMEOUT_S) as response:
            return json.loads(response.read())["knobs"]
    except urllib.error.HTTPError as exc:
        try:
            message = json.loads(exc.read()).get("error") or exc.reason
        except ValueError:
            message = exc.reason
        if exc.code == 400:
            raise UsageError(f"the sandbox refused the change: {message}", field="faults") from None
        raise AcrxError(f"the sandbox's control endpoint answered {exc.code}: {message}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise AcrxError(f"no sandbox answers at {endpoint} ({reason})",
                        hint="start one with `acrx sandbox up`, or name its directory with --state-dir") from None


@sandbox_app.command("faults")
def faults(
    ctx: typer.Context,
    state_dir: Optional[Path] = typer.Option(None, "--state-dir", help="The running sandbox's directory "
                                             "(default: --sandbox / ACRX_SANDBOX, else .acrx/sandbox)."),
    latency: Optional[str] = typer.Option(None, "--latency", help="Added to every cloud call, e.g. 50ms."),
    throttle: Optional[float] = typer.Option(None, "--throttle", help="Share of calls answered Throttling.User (0-1)."),
    error_rate: Optional[float] = typer.Option(None, "--error-rate", help="Share of calls answered 503 (0-1)."),
    reset_rate: Optional[float] = typer.Option(None, "--reset-rate",
                                               help="Share of calls dropped unanswered, before they run (0-1)."),
    lost_answer_rate: Optional[float] = typer.Option(None, "--lost-answer-rate",
                                                     help="Share of calls carried out whose answer is lost (0-1)."),
    consistency_delay: Optional[str] = typer.Option(None, "--consistency-delay",
                                                    help="New roles and policies stay invisible this long, e.g. 5s."),
    fail_task: Optional[str] = typer.Option(None, "--fail-task",
                                            help="Slow tasks that end in failure, e.g. rrsa,peering (none: no task)."),
    only_actions: Optional[str] = typer.Option(None, "--only-actions",
                                               help="Limit the random faults to these API actions, e.g. "
                                                    "CreateCen,CreateRouteEntry (all: every action)."),
    seed: Optional[int] = typer.Option(None, "--seed", min=0, help="Reseed the fault dice (same seed, same faults)."),
    clear: bool = typer.Option(False, "--clear", help="Turn every fault off first."),
) -> None:
    """Change the fault knobs of a running sandbox and print those in force (none given: print only)."""
    from acrx.cloud.sandbox_target import SandboxTarget
    from acrx.sandbox.core.control import SECRET_VAR
    from acrx.sandbox.core.knobs import TASK_KINDS

    actx = app_context(ctx)
    values: dict = {}
    if latency is not None:
        values["latency_s"] = _seconds(latency, "--latency")
    if consistency_delay is not None:
        values["consistency_delay_s"] = _seconds(consistency_delay, "--consistency-delay")
    for option, key, value in (("--throttle", "throttle_rate", throttle), ("--error-rate", "error_rate", error_rate),
                               ("--reset-rate", "reset_rate", reset_rate),
                               ("--lost-answer-rate", "lost_answer_rate", lost_answer_rate)):
        if value is not None:
            values[key] = _rate(value, option)
    if fail_task is not None:
        values["failing_tasks"] = _task_kinds(fail_task, TASK_KINDS)
    if only_actions is not None:
        values["only_actions"] = _actions(only_actions)
    if seed is not None:
        values["seed"] = seed
    directory = state_dir or actx.sandbox_dir or Path(".acrx/sandbox")
    target = SandboxTarget.load(directory)
    secret = target.value(SECRET_VAR)
    if not secret:
        raise UsageError(f"{directory / 'sandbox.env'} holds no {SECRET_VAR}: that sandbox predates "
                         "`acrx sandbox faults`", field="--state-dir", hint="restart it with `acrx sandbox up`")
    changing = bool(values) or clear
    knobs = _call(target.endpoint, secret, {"clear": clear, "set": values} if changing else None)
    for line in _render(knobs, target.endpoint):
        actx.out.print(line, highlight=False, soft_wrap=True)
