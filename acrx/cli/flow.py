"""The one flow every planning command shares: load config, build the session, plan, show,
confirm, apply, report. Commands only choose which steps run and which flags they take."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

import typer

from acrx.cli.context import AppContext
from acrx.cli.options import DEFAULT_FILE, check_output, lock_timeout_seconds
from acrx.errors import ChangesPending, UsageError

DEFAULT_CONFIG = DEFAULT_FILE   # a missing default file means "all defaults", not an error


def state_dir(actx: AppContext | None = None) -> Path:
    """Where journals live: $ACRX_STATE_DIR, else the sandbox's DIR/state when --sandbox is given,
    else ./.acrx (created 0700 on first write)."""
    if os.environ.get("ACRX_STATE_DIR"):
        return Path(os.environ["ACRX_STATE_DIR"])
    if actx is not None and actx.sandbox_dir is not None:
        return Path(actx.sandbox_dir) / "state"
    return Path(".acrx")


@dataclass
class RunOptions:
    dry_run: bool = False
    yes: bool = False
    output: str = "table"
    detailed_exitcode: bool = False
    out: Path | None = None
    lock_timeout: str | None = None   # --lock-timeout: how long to wait for another run's lock
    no_resume: bool = False           # --no-resume: ignore the journals of interrupted runs

    def check(self) -> None:
        check_output(self.output)
        lock_timeout_seconds(self.lock_timeout, dry_run=self.dry_run)


def load_config(path: Path | None, overrides: dict[str, Any], sandbox_dir: Path | None = None):
    """The config from `path`; with no ./acrx.yaml and a sandbox given, the sandbox's own acrx.yaml."""
    from acrx.config.loader import load_config as _load

    if path == DEFAULT_CONFIG and not path.exists() and sandbox_dir is not None:
        path = Path(sandbox_dir) / "acrx.yaml"
    if path is not None and not path.exists():
        if path != DEFAULT_CONFIG:
            raise UsageError(f"{path} does not exist", field="--file", hint="run `acrx init` to write one")
        path = None
    return _load(path, overrides)


def open_session(actx: AppContext, config):
    from acrx.cloud import dead_ends
    from acrx.cloud.sandbox_target import SandboxTarget
    from acrx.cloud.session import CloudSession

    # A connection failure that acrx retries says so at once, with the host (acrx.cloud.dead_ends).
    dead_ends.set_notice(lambda m: actx.err.print(f"warning: {m}", markup=False, highlight=False))
    sandbox = SandboxTarget.load(actx.sandbox_dir) if actx.sandbox_dir else None
    return CloudSession(config, sandbox)


def step_context(actx: AppContext, config, options=None, *, save_kubeconfig: Path | None = None,
                 private_kubeconfig: bool = False):
    """The run's StepContext; its Kubernetes client is built on first use (see KubeAccess)."""
    from acrx.steps.context import StepContext

    from acrx.config.crossing import check_access_key_crossing

    session = open_session(actx, config)
    # access-key mode: an account's own key must never become the ConfigMap's (exit 2 before any read)
    check_access_key_crossing(config, sandbox=session.sandbox,
                              allow_foreign=bool((getattr(options, "extra", None) or {}).get("allow_foreign_access_key")))
    kubeconfig = getattr(options, "kubeconfig", None)
    access = KubeAccess(actx, config, session, kubeconfig=Path(kubeconfig) if kubeconfig else None,
                        save=save_kubeconfig, private=private_kubeconfig)
    ctx = StepContext(config, session, options,
                      warn=lambda m: actx.err.print(f"warning: {m}", markup=False, highlight=False),
                      kube_factory=access.client)
    access.save_now()
    return ctx


KUBECONFIG_MINUTES = 60   # the temporary kubeconfig outlives one run, not much more


class KubeAccess:
    """Builds the run's KubeClient once: from --kubeconfig, or from CS DescribeClusterUserKubeconfig
    (temporary; public address unless --private-kubeconfig). The text stays in memory unless
    --save-kubeconfig FILE asks for a copy (mode 0600)."""

    def __init__(self, actx, config, session, *, kubeconfig: Path | None, save: Path | None, private: bool):
        if kubeconfig is not None and save is not None:
            raise UsageError("--save-kubeconfig saves the kubeconfig from CS; with --kubeconfig there is none",
                             field="--save-kubeconfig")
        if kubeconfig is not None and not kubeconfig.is_file():
            raise UsageError(f"{kubeconfig} is not a file", field="--kubeconfig")
        self.actx, self.config, self.session = actx, config, session
        self.kubeconfig, self.save, self.private = kubeconfig, save, private
        self._text: str | None = None

    def _fetch(self) -> str:
        if self._text is None:
            cs = self.session.account(self.config.cluster.account).cs_api(self.config.cluster.region)
            kubeconfig = cs.user_kubeconfig(self.config.cluster.id, private=self.private, minutes=KUBECONFIG_MINUTES)
            self._text = kubeconfig.text.reveal()
            if self.save is not None:
                write_private(self.save, self._text)
                until = f", valid until {kubeconfig.expiration}" if kubeconfig.expiration else ""
                self.actx.err.print(f"wrote the cluster kubeconfig to {self.save} (mode 0600{until})",
                                    markup=False, highlight=False)
        return self._text

    def client(self):
        from acrx.kube.client import KubeClient

        if self.kubeconfig is not None:
            return KubeClient.from_file(self.kubeconfig)
        return KubeClient.from_text(self._fetch())

    def save_now(self) -> None:
        """--save-kubeconfig is a request in itself, even when the plan needs no cluster access."""
        if self.save is not None:
            self._fetch()


def write_private(path: Path, text: str) -> None:
    """Create or truncate `path` as 0600 from its first byte (plans, kubeconfigs)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, 0o600)


def confirm(actx: AppContext, question: str) -> bool:
    if not sys.stdin.isatty():
        raise UsageError("changes need confirmation and stdin is not a terminal", field="--yes",
                         hint="re-run with --yes to apply without asking")
    return typer.confirm(question, err=True, default=False)


def show_plan(actx: AppContext, plan, output: str) -> None:
    if output == "json":
        from acrx.render.envelope import print_plan_json

        print_plan_json(actx.out, plan)
    else:
        from acrx.render.plan_view import render_plan_table

        render_plan_table(plan, actx.out)


def plan_and_apply(actx: AppContext, ctx, steps: Iterable[Any], run: RunOptions, **kwargs) -> int:
    """`_plan_and_apply`, holding the cluster's run lock (acrx.execute.lock) when it applies: two
    applies against one cluster at once create duplicates. A dry run takes no lock."""
    run.check()
    if run.dry_run:
        return _plan_and_apply(actx, ctx, steps, run, **kwargs)
    from acrx.execute.lock import acquire

    with acquire(state_dir(actx), ctx.config.cluster.id, _command_path(),
                 timeout_s=lock_timeout_seconds(run.lock_timeout),
                 warn=lambda m: actx.err.print(f"warning: {m}", markup=False, highlight=False)):
        return _plan_and_apply(actx, ctx, steps, run, **kwargs)


def _command_path() -> str:
    """"acrx setup", "acrx rrsa enable": journals resume only runs of the same command, and the
    run lock names the command that holds it."""
    try:
        from typer._click.globals import get_current_context   # typer >= 0.20 vendors click
    except ImportError:  # pragma: no cover - an older typer on the real click
        from click import get_current_context
    current = get_current_context(silent=True)
    return current.command_path if current is not None else "acrx"


def _plan_and_apply(actx: AppContext, ctx, steps: Iterable[Any], run: RunOptions, *,
                   planner: Callable[[Any, list], Any] | None = None, saved=None,
                   after_apply: Callable[[dict | None], int] | None = None,
                   settings: dict[str, Any] | None = None, command: str | None = None) -> int:
    """Plan the steps, show the plan, and apply it unless this is a dry run.

    With `saved` (a Plan read by acrx.cli.saved_plan), the live plan is computed only to prove the
    saved one still describes the world; the saved plan is what gets applied. `settings` are the
    flags that shaped the plan (saved with it). Before applying, what an interrupted run of the
    same `command` finished is resumed where the live plan shows it still holds (see
    acrx.execute.resume); a successful apply retires every unfinished journal of the cluster.
    With `-o json` exactly one envelope reaches stdout in every outcome: the Plan for a dry run,
    else an ApplyResult with the plan, the result (or the error) and `after_apply`'s verify."""
    from acrx.steps.base import plan_steps

    run.check()
    if run.out is not None:
        check_out_path(run.out)
    steps = list(steps)
    live = (planner or plan_steps)(ctx, steps)
    live.settings = dict(settings or {})
    plan = live if saved is None else saved
    command = command or _command_path()
    resume = None
    if not run.dry_run and not run.no_resume:
        from acrx.execute.resume import plan_resume

        resume = plan_resume(state_dir(actx), ctx.config.cluster.id, command, plan, live)
    if saved is not None:
        saved.ensure_matches(live, skip=resume.skip if resume else (), source=getattr(saved, "source", None))
    as_json = run.output == "json"
    if run.out is not None:
        _save_plan(plan, run.out)
    if not as_json or run.dry_run:
        show_plan(actx, plan, run.output)
    if run.dry_run:
        if run.detailed_exitcode and plan.has_changes:
            raise ChangesPending("changes pending")
        return 0
    envelope: dict[str, Any] = {}
    try:
        if plan.has_changes:
            if not run.yes and not confirm(actx, "Apply these changes?"):
                actx.err.print("nothing applied")
                envelope["error"] = {"code": "declined", "message": "nothing applied", "field": None, "hint": None}
                return 1
            envelope["result"] = _apply(actx, ctx, steps, plan, command, resume, envelope)
        from acrx.execute.journal import retire

        retire(state_dir(actx), ctx.config.cluster.id)   # the cloud is the whole truth again
        if after_apply is None:
            return 0
        envelope["verify"] = {}
        return after_apply(envelope["verify"] if as_json else None)
    except BaseException as exc:
        if "error" not in envelope:
            from acrx.exitcodes import exit_code_for
            from acrx.render.envelope import code_name, error_data

            envelope["error"] = error_data(exc, " ".join(str(exc).split()) or type(exc).__name__,
                                           code_name(exit_code_for(exc)))
        raise
    finally:
        if as_json:
            from acrx.render.envelope import KIND_APPLY_RESULT, plan_data, print_json

            print_json(actx.out, KIND_APPLY_RESULT, {"plan": plan_data(plan), **envelope})


def _apply(actx: AppContext, ctx, steps: list, plan, command: str, resume, envelope: dict) -> dict:
    """Run the executor under a fresh journal; on failure put the error (the failed address, the
    code, message and hint, and what was applied before it) in `envelope` and re-raise."""
    from acrx.execute.executor import ApplyFailed, Executor
    from acrx.execute.journal import Journal
    from acrx.execute.progress import RichProgress
    from acrx.steps.base import handlers_for

    if resume is not None and resume.message():
        actx.err.print(resume.message(), markup=False, highlight=False)
    journal = Journal(state_dir(actx), plan.fingerprint, cluster=ctx.config.cluster.id, command=command,
                      pending=[c.address for c in plan.pending])
    skip = resume.skip if resume else {}
    progress = RichProgress(actx.err, quiet=actx.quiet,
                            total=len([c for c in plan.pending if c.address not in skip]))
    executor = Executor(handlers_for(ctx, steps), journal, progress=progress)
    try:
        with progress:
            result = executor.apply(plan, resume=resume.skip if resume else None)
    except BaseException as exc:
        from acrx.exitcodes import exit_code_for
        from acrx.render.envelope import code_name, error_data

        error = error_data(exc, " ".join(str(exc).split()) or type(exc).__name__,
                           "apply-failed" if isinstance(exc, Exception) else code_name(exit_code_for(exc)))
        if isinstance(exc, ApplyFailed):
            error.update(address=exc.address, applied=list(exc.applied),
                         message=" ".join(str(exc.cause).split()) or type(exc.cause).__name__)
        else:
            error["applied"] = journal.completed()
        envelope["error"] = error
        raise
    if result.resumed:
        actx.err.print(f"resumed {len(result.resumed)} change(s) done by the interrupted run", highlight=False)
    actx.err.print(f"applied {len(result.applied)} change(s)", highlight=False)
    return result.to_dict()


def check_out_path(path: Path) -> None:
    """`--out FILE` must be writable before anything is planned (one line, exit 2)."""
    parent = Path(path).parent
    if not parent.is_dir():
        raise UsageError(f"cannot save the plan to {path}: the directory {parent} does not exist",
                         field="--out", hint=f"create {parent} first, or give --out a path in an existing directory")
    if Path(path).is_dir():
        raise UsageError(f"cannot save the plan to {path}: it is a directory", field="--out")


def _save_plan(plan, path: Path) -> None:
    import json

    try:
        write_private(path, json.dumps(plan.to_dict(), indent=2, sort_keys=True))
    except OSError as exc:
        raise UsageError(f"cannot save the plan to {path}: {exc.strerror or exc}", field="--out") from None
