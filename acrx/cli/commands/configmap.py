"""`acrx configmap render` (offline) and `acrx configmap apply` (planned first).

`render` is the same command as `acrx render configmap` (one implementation, two names).
`apply` writes only the keys acrx manages in kube-system/acr-configuration and keeps the rest.
"""


import typer

from acrx.cli.commands.render import configmap_cmd
from acrx.cli.options import (DEFAULT_FILE, DetailedOpt, DryRunOpt, FileOpt, KubeconfigOpt, LockTimeoutOpt,
                              ForeignAkOpt, ModeOpt, OutputOpt, NoResumeOpt, PlainAkOpt, PrivateOpt, SaveKubeconfigOpt, YesOpt)
from acrx.cli.root import app
from acrx.errors import UsageError

configmap_app = typer.Typer(help="The kube-system/acr-configuration ConfigMap of the self-managed helper.",
                            no_args_is_help=True, rich_markup_mode=None)
app.add_typer(configmap_app, name="configmap")

configmap_app.command("render", help="Print the ConfigMap offline (same as `acrx render configmap`).")(configmap_cmd)


@configmap_app.command("apply")
def apply(ctx: typer.Context, file: FileOpt = DEFAULT_FILE, mode: ModeOpt = None,
          dry_run: DryRunOpt = False, yes: YesOpt = False, output: OutputOpt = "table",
          detailed_exitcode: DetailedOpt = False, kubeconfig: KubeconfigOpt = None,
          save_kubeconfig: SaveKubeconfigOpt = None, private_kubeconfig: PrivateOpt = False,
          allow_plaintext_access_key: PlainAkOpt = False, allow_foreign_access_key: ForeignAkOpt = False,
          lock_timeout: LockTimeoutOpt = None,
          no_resume: NoResumeOpt = False) -> int:
    """Set the keys acrx manages in acr-configuration; every other key is kept."""
    from acrx.cli.desired import check_marks, load
    from acrx.cli.flow import RunOptions, load_config, plan_and_apply
    from acrx.cli.root import app_context
    from acrx.steps.configmap import ConfigMapStep

    run = RunOptions(dry_run=dry_run, yes=yes, output=output, detailed_exitcode=detailed_exitcode,
                     lock_timeout=lock_timeout, no_resume=no_resume)
    run.check()
    config = load_config(file, {"mode": mode}, app_context(ctx).sandbox_dir)
    if config.addon_flavour != "self-managed":
        raise UsageError("the managed addon takes its settings from its addon config, not from the ConfigMap",
                         field="addon.flavour", hint="run `acrx addon install`, or set addon.flavour: self-managed")
    d = load(ctx, file, mode=mode, kubeconfig=kubeconfig, save_kubeconfig=save_kubeconfig,
             private_kubeconfig=private_kubeconfig, allow_plaintext_access_key=allow_plaintext_access_key,
             allow_foreign_access_key=allow_foreign_access_key)
    check_marks(d, takes={"mode"}, command=None if dry_run else "acrx configmap apply")
    if d.config.mode == "access-key" and allow_plaintext_access_key:
        d.actx.err.print("warning: the ConfigMap holds the registry AccessKey secret in plaintext; anyone who can "
                         "read ConfigMaps in kube-system can read it", markup=False, highlight=False)
    return plan_and_apply(d.actx, d.step_ctx, [ConfigMapStep()], run)
