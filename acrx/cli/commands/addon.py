"""`acrx addon install`: the credential helper addon, planned first.

Also the kubeconfig plumbing the cluster-side commands share: the kubeconfig comes from CS
DescribeClusterUserKubeconfig (temporary; public address unless --private-kubeconfig) or from
--kubeconfig FILE. It stays in memory unless --save-kubeconfig FILE asks for a copy (mode 0600).
"""


import os
from pathlib import Path

import typer

from acrx.cli.options import (DEFAULT_FILE, DetailedOpt, DryRunOpt, FileOpt, KubeconfigOpt, ModeOpt, OutputOpt,
                              PrivateOpt, SaveKubeconfigOpt, YesOpt)
from acrx.cli.root import app, app_context
from acrx.errors import UsageError

KUBECONFIG_MINUTES = 60   # the temporary kubeconfig outlives one run, not much more

addon_app = typer.Typer(help="The aliyun-acr-credential-helper addon (managed or self-managed).",
                        no_args_is_help=True, rich_markup_mode=None)
app.add_typer(addon_app, name="addon")


class KubeAccess:
    """Builds the run's KubeClient once: from --kubeconfig, or from CS (saved only on request)."""

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
    """Create or truncate `path` as 0600 from its first byte."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, 0o600)


def cluster_step_context(actx, config, options, *, kubeconfig: Path | None, save: Path | None, private: bool):
    """A StepContext whose Kubernetes client comes from KubeAccess."""
    from acrx.cli.flow import open_session
    from acrx.steps.context import StepContext

    session = open_session(actx, config)
    access = KubeAccess(actx, config, session, kubeconfig=kubeconfig, save=save, private=private)
    ctx = StepContext(config, session, options,
                      warn=lambda m: actx.err.print(f"warning: {m}", markup=False, highlight=False),
                      kube_factory=access.client)
    access.save_now()
    return ctx


@addon_app.command("install")
def install(ctx: typer.Context, file: FileOpt = DEFAULT_FILE, mode: ModeOpt = None,
            dry_run: DryRunOpt = False, yes: YesOpt = False, output: OutputOpt = "table",
            detailed_exitcode: DetailedOpt = False, kubeconfig: KubeconfigOpt = None,
            save_kubeconfig: SaveKubeconfigOpt = None, private_kubeconfig: PrivateOpt = False) -> int:
    """Install the credential helper addon, or mend its config; self-managed pods that started
    before RRSA was enabled are restarted."""
    from acrx.cli.flow import RunOptions, load_config, plan_and_apply
    from acrx.steps.addon import AddonStep
    from acrx.steps.context import StepOptions

    actx = app_context(ctx)
    run = RunOptions(dry_run=dry_run, yes=yes, output=output, detailed_exitcode=detailed_exitcode)
    run.check()
    config = load_config(file, {"mode": mode}, actx.sandbox_dir)
    options = StepOptions(kubeconfig=str(kubeconfig) if kubeconfig else None)
    step_ctx = cluster_step_context(actx, config, options, kubeconfig=kubeconfig, save=save_kubeconfig,
                                    private=private_kubeconfig)
    return plan_and_apply(actx, step_ctx, [AddonStep()], run)
