"""`acrx addon install`: the credential helper addon, planned first."""


import typer

from acrx.cli.options import (DEFAULT_FILE, DetailedOpt, DryRunOpt, FileOpt, KubeconfigOpt, LockTimeoutOpt,
                              ModeOpt, NoResumeOpt, OutputOpt, PrivateOpt, SaveKubeconfigOpt, YesOpt)
from acrx.cli.root import app

addon_app = typer.Typer(help="The aliyun-acr-credential-helper addon (managed or self-managed).",
                        no_args_is_help=True, rich_markup_mode=None)
app.add_typer(addon_app, name="addon")


@addon_app.command("install")
def install(ctx: typer.Context, file: FileOpt = DEFAULT_FILE, mode: ModeOpt = None,
            dry_run: DryRunOpt = False, yes: YesOpt = False, output: OutputOpt = "table",
            detailed_exitcode: DetailedOpt = False, kubeconfig: KubeconfigOpt = None,
            save_kubeconfig: SaveKubeconfigOpt = None, private_kubeconfig: PrivateOpt = False,
            lock_timeout: LockTimeoutOpt = None, no_resume: NoResumeOpt = False) -> int:
    """Install the credential helper addon, or mend its config; self-managed pods that started
    before RRSA was enabled are restarted."""
    from acrx.cli.desired import check_marks, load
    from acrx.cli.flow import RunOptions, plan_and_apply
    from acrx.steps.addon import AddonStep

    run = RunOptions(dry_run=dry_run, yes=yes, output=output, detailed_exitcode=detailed_exitcode,
                     lock_timeout=lock_timeout, no_resume=no_resume)
    run.check()
    d = load(ctx, file, mode=mode, kubeconfig=kubeconfig, save_kubeconfig=save_kubeconfig,
             private_kubeconfig=private_kubeconfig)
    check_marks(d, takes={"mode"}, command=None if dry_run else "acrx addon install")
    return plan_and_apply(d.actx, d.step_ctx, [AddonStep()], run)
