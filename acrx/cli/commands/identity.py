"""`acrx rrsa enable`, `acrx roles apply`, `acrx policy attach`: one identity step each, planned
first, applied on --yes or confirmation, through the shared flow (acrx.cli.flow)."""


from pathlib import Path
from typing import Optional

import typer

from acrx.cli.options import (DEFAULT_FILE, AssumeOpt, DetailedOpt, DryRunOpt, FileOpt, LockTimeoutOpt, ModeOpt,
                              NoResumeOpt, OutputOpt, PlainAkOpt, ScopeOpt, YesOpt, check_identity_flags,
                              check_mode)
from acrx.cli.root import app, app_context

rrsa_app = typer.Typer(help="RRSA (OIDC) on the cluster.", no_args_is_help=True, rich_markup_mode=None)
roles_app = typer.Typer(help="The cluster-side and registry-side RAM roles.", no_args_is_help=True,
                        rich_markup_mode=None)
policy_app = typer.Typer(help="The registry pull policy and its attachment.", no_args_is_help=True,
                         rich_markup_mode=None)
app.add_typer(rrsa_app, name="rrsa")
app.add_typer(roles_app, name="roles")
app.add_typer(policy_app, name="policy")



def _run(ctx: typer.Context, which: str, *, file: Path, mode: Optional[str], dry_run: bool, yes: bool,
         output: str, detailed_exitcode: bool, assume_policy: Optional[str], pull_policy_scope: str,
         allow_plaintext_access_key: bool, lock_timeout: Optional[str] = None, no_resume: bool = False) -> int:
    from acrx.cli.flow import RunOptions, load_config, plan_and_apply, step_context
    from acrx.steps.context import StepOptions
    from acrx.steps.identity import PolicyStep, RolesStep, RrsaStep

    check_mode(mode)
    check_identity_flags(assume_policy, pull_policy_scope)
    run = RunOptions(dry_run=dry_run, yes=yes, output=output, detailed_exitcode=detailed_exitcode,
                     lock_timeout=lock_timeout, no_resume=no_resume)
    run.check()
    actx = app_context(ctx)
    config = load_config(file, {"mode": mode}, actx.sandbox_dir)
    options = StepOptions(assume_policy=assume_policy, allow_plaintext_access_key=allow_plaintext_access_key,
                          extra={"pull_policy_scope": pull_policy_scope})
    step = {"rrsa": RrsaStep, "roles": RolesStep, "policy": PolicyStep}[which](standalone=True)
    return plan_and_apply(actx, step_context(actx, config, options), [step], run)


def _identity_command(which: str, doc: str):
    """One command per identity step: the same flags, the same flow, a different step."""
    def command(ctx: typer.Context, file: FileOpt = DEFAULT_FILE, mode: ModeOpt = None,
                dry_run: DryRunOpt = False, yes: YesOpt = False, output: OutputOpt = "table",
                detailed_exitcode: DetailedOpt = False, assume_policy: AssumeOpt = None,
                pull_policy_scope: ScopeOpt = "instance", allow_plaintext_access_key: PlainAkOpt = False,
                lock_timeout: LockTimeoutOpt = None, no_resume: NoResumeOpt = False) -> int:
        return _run(ctx, which, file=file, mode=mode, dry_run=dry_run, yes=yes, output=output,
                    detailed_exitcode=detailed_exitcode, assume_policy=assume_policy,
                    pull_policy_scope=pull_policy_scope, allow_plaintext_access_key=allow_plaintext_access_key,
                    lock_timeout=lock_timeout, no_resume=no_resume)

    command.__doc__ = doc
    return command


rrsa_enable = rrsa_app.command("enable")(_identity_command(
    "rrsa", "Enable RRSA on the cluster (ModifyCluster) and wait for the OIDC provider."))
roles_apply = roles_app.command("apply")(_identity_command(
    "roles", "The cluster role (rrsa), the registry role, and the permission to assume it."))
policy_attach = policy_app.command("attach")(_identity_command(
    "policy", "The pull policy and its attachment (to the registry role, or the RAM user and its key)."))
