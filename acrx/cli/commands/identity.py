"""`acrx rrsa enable`, `acrx roles apply`, `acrx policy attach`: one identity step each, planned
first, applied on --yes or confirmation, through the shared flow (acrx.cli.flow)."""


from pathlib import Path
from typing import Optional

import typer

from acrx.cli.options import (DEFAULT_FILE, AssumeOpt, DetailedOpt, DryRunOpt, FileOpt, LockTimeoutOpt, ModeOpt,
                              ForeignAkOpt, NoResumeOpt, OutputOpt, PlainAkOpt, ScopeOpt, YesOpt)
from acrx.cli.root import app

rrsa_app = typer.Typer(help="RRSA (OIDC) on the cluster.", no_args_is_help=True, rich_markup_mode=None)
roles_app = typer.Typer(help="The cluster-side and registry-side RAM roles.", no_args_is_help=True,
                        rich_markup_mode=None)
policy_app = typer.Typer(help="The registry pull policy and its attachment.", no_args_is_help=True,
                         rich_markup_mode=None)
app.add_typer(rrsa_app, name="rrsa")
app.add_typer(roles_app, name="roles")
app.add_typer(policy_app, name="policy")


def _run(ctx: typer.Context, which: str, *, file: Path, mode: Optional[str], dry_run: bool, yes: bool,
         output: str, detailed_exitcode: bool, assume_policy: Optional[str] = None,
         pull_policy_scope: Optional[str] = None, allow_plaintext_access_key: bool = False,
         allow_foreign_access_key: bool = False, lock_timeout: Optional[str] = None, no_resume: bool = False) -> int:
    from acrx.cli.desired import check_marks, load
    from acrx.cli.flow import RunOptions, plan_and_apply
    from acrx.steps.identity import PolicyStep, RolesStep, RrsaStep

    run = RunOptions(dry_run=dry_run, yes=yes, output=output, detailed_exitcode=detailed_exitcode,
                     lock_timeout=lock_timeout, no_resume=no_resume)
    run.check()
    # Only `policy attach` makes the access-key user's key; the other steps never write it, so the
    # consent to keep it in plaintext is not theirs to ask for (nor a flag of theirs).
    consent = allow_plaintext_access_key if which == "policy" else True
    d = load(ctx, file, mode=mode, assume_policy=assume_policy, pull_policy_scope=pull_policy_scope,
             allow_plaintext_access_key=consent, allow_foreign_access_key=allow_foreign_access_key)
    check_marks(d, takes=TAKES[which], command=None if dry_run else COMMANDS[which])
    step = {"rrsa": RrsaStep, "roles": RolesStep, "policy": PolicyStep}[which](standalone=True)
    return plan_and_apply(d.actx, d.step_ctx, [step], run)


COMMANDS = {"rrsa": "acrx rrsa enable", "roles": "acrx roles apply", "policy": "acrx policy attach"}
# the desired-state settings each step plans by (and so has flags for)
TAKES = {"rrsa": {"mode"}, "roles": {"mode", "assume_policy"}, "policy": {"mode", "pull_policy_scope"}}


@rrsa_app.command("enable")
def rrsa_enable(ctx: typer.Context, file: FileOpt = DEFAULT_FILE, mode: ModeOpt = None,
                dry_run: DryRunOpt = False, yes: YesOpt = False, output: OutputOpt = "table",
                detailed_exitcode: DetailedOpt = False,
                lock_timeout: LockTimeoutOpt = None, no_resume: NoResumeOpt = False) -> int:
    """Enable RRSA on the cluster (ModifyCluster) and wait for the OIDC provider."""
    return _run(ctx, "rrsa", file=file, mode=mode, dry_run=dry_run, yes=yes, output=output,
                detailed_exitcode=detailed_exitcode, lock_timeout=lock_timeout, no_resume=no_resume)


@roles_app.command("apply")
def roles_apply(ctx: typer.Context, file: FileOpt = DEFAULT_FILE, mode: ModeOpt = None,
                assume_policy: AssumeOpt = None,
                dry_run: DryRunOpt = False, yes: YesOpt = False, output: OutputOpt = "table",
                detailed_exitcode: DetailedOpt = False,
                lock_timeout: LockTimeoutOpt = None, no_resume: NoResumeOpt = False) -> int:
    """The cluster role (rrsa), the registry role, and the permission to assume it."""
    return _run(ctx, "roles", file=file, mode=mode, dry_run=dry_run, yes=yes, output=output,
                detailed_exitcode=detailed_exitcode, assume_policy=assume_policy,
                lock_timeout=lock_timeout, no_resume=no_resume)


@policy_app.command("attach")
def policy_attach(ctx: typer.Context, file: FileOpt = DEFAULT_FILE, mode: ModeOpt = None,
                  pull_policy_scope: ScopeOpt = None, allow_plaintext_access_key: PlainAkOpt = False,
                  allow_foreign_access_key: ForeignAkOpt = False, dry_run: DryRunOpt = False, yes: YesOpt = False, output: OutputOpt = "table",
                  detailed_exitcode: DetailedOpt = False,
                  lock_timeout: LockTimeoutOpt = None, no_resume: NoResumeOpt = False) -> int:
    """The pull policy and its attachment (to the registry role, or the RAM user and its key)."""
    return _run(ctx, "policy", file=file, mode=mode, dry_run=dry_run, yes=yes, output=output,
                detailed_exitcode=detailed_exitcode, pull_policy_scope=pull_policy_scope,
                allow_plaintext_access_key=allow_plaintext_access_key, allow_foreign_access_key=allow_foreign_access_key,
                lock_timeout=lock_timeout,
                no_resume=no_resume)
