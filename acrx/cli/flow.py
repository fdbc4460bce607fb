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
from acrx.cli.options import DEFAULT_FILE, check_output
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

    def check(self) -> None:
        check_output(self.output)


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
    from acrx.cloud.sandbox_target import SandboxTarget
    from acrx.cloud.session import CloudSession

    sandbox = SandboxTarget.load(actx.sandbox_dir) if actx.sandbox_dir else None
    return CloudSession(config, sandbox)


def step_context(actx: AppContext, config, options=None, *, save_kubeconfig: Path | None = None,
                 private_kubeconfig: bool = False):
    """The run's StepContext; its Kubernetes client is built on first use (see KubeAccess)."""
    from acrx.steps.context import StepContext

    session = open_session(actx, config)
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


def plan_and_apply(actx: AppContext, ctx, steps: Iterable[Any], run: RunOptions, *,
                   planner: Callable[[Any, list], Any] | None = None, saved: Path | None = None,
                   after_apply: Callable[[dict | None], int] | None = None) -> int:
    """Plan the steps, show the plan, and apply it unless this is a dry run.

    With `saved` (a plan written by `--out`), the live plan is computed only to prove the saved
    one still describes the world; the saved plan is what gets applied. With `-o json` exactly one
    envelope reaches stdout: the Plan for a dry run, else an Apply holding the plan, the result and
    what `after_apply` (setup's verify) put in the dict it is handed."""
    from acrx.execute.executor import Executor
    from acrx.execute.journal import Journal
    from acrx.execute.progress import RichProgress
    from acrx.steps.base import handlers_for, plan_steps

    run.check()
    steps = list(steps)
    plan = (planner or plan_steps)(ctx, steps)
    if saved is not None:
        plan = _checked_saved_plan(saved, plan, state_dir(actx))
    as_json = run.output == "json"
    if not as_json or run.dry_run:
        show_plan(actx, plan, run.output)
    if run.out is not None:
        _save_plan(plan, run.out)
    if run.dry_run:
        if run.detailed_exitcode and plan.has_changes:
            raise ChangesPending("changes pending")
        return 0
    envelope: dict[str, Any] = {}
    try:
        if plan.has_changes:
            if not run.yes and not confirm(actx, "Apply these changes?"):
                actx.err.print("nothing applied")
                return 1
            journal = Journal(state_dir(actx), plan.fingerprint)
            executor = Executor(handlers_for(ctx, steps), journal, progress=RichProgress(actx.err))
            result = executor.apply(plan)
            envelope["result"] = result.to_dict()
            actx.err.print(f"applied {len(result.applied)} change(s)", highlight=False)
        if after_apply is None:
            return 0
        envelope["verify"] = {}
        return after_apply(envelope["verify"] if as_json else None)
    finally:
        if as_json:
            from acrx.render.envelope import KIND_APPLY_RESULT, plan_data, print_json

            print_json(actx.out, KIND_APPLY_RESULT, {"plan": plan_data(plan), **envelope})


def _checked_saved_plan(path: Path, live, journals: Path):
    """The saved plan, refused (StalePlan) when the live state moved since it was made."""
    import json

    from acrx.execute.journal import Journal
    from acrx.plan.plan import Plan

    try:
        saved = Plan.from_dict(json.loads(path.read_text()))
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read the saved plan {path}: {exc}", field="--plan") from None
    saved.ensure_matches(live, skip=Journal(journals, saved.fingerprint).completed())
    return saved


def _save_plan(plan, path: Path) -> None:
    import json

    write_private(path, json.dumps(plan.to_dict(), indent=2, sort_keys=True))
