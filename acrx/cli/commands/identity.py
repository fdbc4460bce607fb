"""`acrx rrsa enable`, `acrx roles apply`, `acrx policy attach`: one identity step each, planned
first, applied on --yes or confirmation, through the shared flow (acrx.cli.flow)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from acrx.cli.root import app, app_context

rrsa_app = typer.Typer(help="RRSA (OIDC) on the cluster.", no_args_is_help=True, rich_markup_mode=None)
roles_app = typer.Typer(help="The cluster-side and registry-side RAM roles.", no_args_is_help=True,
                        rich_markup_mode=None)
policy_app = typer.Typer(help="The registry pull policy and its attachment.", no_args_is_help=True,
                         rich_markup_mode=None)
app.add_typer(rrsa_app, name="rrsa")
app.add_typer(roles_app, name="roles")
app.add_typer(policy_app, name="policy")

FileOpt = Annotated[Path, typer.Option("-f", "--file", help="Config file.")]
ModeOpt = Annotated[Optional[str], typer.Option("--mode", help="rrsa | worker-role | access-key (overrides the file).")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Plan only; make no change.")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Apply without asking.")]
OutputOpt = Annotated[str, typer.Option("-o", "--output", help="table | json.")]
DetailedOpt = Annotated[bool, typer.Option("--detailed-exitcode",
                                           help="With --dry-run: exit 3 when there are changes.")]
AssumeOpt = Annotated[Optional[str], typer.Option(
    "--assume-policy", help="custom (sts:AssumeRole on the registry role only) | system (AliyunSTSAssumeRoleAccess).")]
ScopeOpt = Annotated[str, typer.Option(
    "--pull-policy-scope", help="instance (this instance's repositories) | any (every instance, as documented).")]
PlainAkOpt = Annotated[bool, typer.Option("--allow-plaintext-access-key",
                                          help="access-key mode: accept the AccessKey in the ConfigMap.")]
MODES = ("rrsa", "worker-role", "access-key")


def _run(ctx: typer.Context, which: str, *, file: Path, mode: Optional[str], dry_run: bool, yes: bool,
         output: str, detailed_exitcode: bool, assume_policy: Optional[str], pull_policy_scope: str,
         allow_plaintext_access_key: bool) -> int:
    from acrx import facts
    from acrx.cli.flow import RunOptions, load_config, plan_and_apply, step_context
    from acrx.errors import UsageError
    from acrx.steps.context import StepOptions
    from acrx.steps.identity import PolicyStep, RolesStep, RrsaStep

    if mode is not None and mode not in MODES:
        raise UsageError(f"unknown mode {mode!r}; use {', '.join(MODES)}", field="--mode")
    if assume_policy is not None and assume_policy not in facts.ASSUME_POLICY_KINDS:
        raise UsageError(f"unknown value {assume_policy!r}; use custom or system", field="--assume-policy")
    if pull_policy_scope not in facts.PULL_POLICY_SCOPES:
        raise UsageError(f"unknown value {pull_policy_scope!r}; use instance or any", field="--pull-policy-scope")
    run = RunOptions(dry_run=dry_run, yes=yes, output=output, detailed_exitcode=detailed_exitcode)
    run.check()
    actx = app_context(ctx)
    config = load_config(file, {"mode": mode})
    options = StepOptions(assume_policy=assume_policy, allow_plaintext_access_key=allow_plaintext_access_key,
                          extra={"pull_policy_scope": pull_policy_scope})
    step = {"rrsa": RrsaStep, "roles": RolesStep, "policy": PolicyStep}[which](standalone=True)
    return plan_and_apply(actx, step_context(actx, config, options), [step], run)


@rrsa_app.command("enable")
def rrsa_enable(ctx: typer.Context, file: FileOpt = Path("acrx.yaml"), mode: ModeOpt = None,
                dry_run: DryRunOpt = False, yes: YesOpt = False, output: OutputOpt = "table",
                detailed_exitcode: DetailedOpt = False, assume_policy: AssumeOpt = None,
                pull_policy_scope: ScopeOpt = "instance", allow_plaintext_access_key: PlainAkOpt = False) -> int:
    """Enable RRSA on the cluster (ModifyCluster) and wait for the OIDC provider."""
    return _run(ctx, "rrsa", file=file, mode=mode, dry_run=dry_run, yes=yes, output=output,
                detailed_exitcode=detailed_exitcode, assume_policy=assume_policy,
                pull_policy_scope=pull_policy_scope, allow_plaintext_access_key=allow_plaintext_access_key)


@roles_app.command("apply")
def roles_apply(ctx: typer.Context, file: FileOpt = Path("acrx.yaml"), mode: ModeOpt = None,
                dry_run: DryRunOpt = False, yes: YesOpt = False, output: OutputOpt = "table",
                detailed_exitcode: DetailedOpt = False, assume_policy: AssumeOpt = None,
                pull_policy_scope: ScopeOpt = "instance", allow_plaintext_access_key: PlainAkOpt = False) -> int:
    """The cluster role (rrsa), the registry role, and the permission to assume it."""
    return _run(ctx, "roles", file=file, mode=mode, dry_run=dry_run, yes=yes, output=output,
                detailed_exitcode=detailed_exitcode, assume_policy=assume_policy,
                pull_policy_scope=pull_policy_scope, allow_plaintext_access_key=allow_plaintext_access_key)


@policy_app.command("attach")
def policy_attach(ctx: typer.Context, file: FileOpt = Path("acrx.yaml"), mode: ModeOpt = None,
                  dry_run: DryRunOpt = False, yes: YesOpt = False, output: OutputOpt = "table",
                  detailed_exitcode: DetailedOpt = False, assume_policy: AssumeOpt = None,
                  pull_policy_scope: ScopeOpt = "instance", allow_plaintext_access_key: PlainAkOpt = False) -> int:
    """The pull policy and its attachment (to the registry role, or the RAM user and its key)."""
    return _run(ctx, "policy", file=file, mode=mode, dry_run=dry_run, yes=yes, output=output,
                detailed_exitcode=detailed_exitcode, assume_policy=assume_policy,
                pull_policy_scope=pull_policy_scope, allow_plaintext_access_key=allow_plaintext_access_key)
