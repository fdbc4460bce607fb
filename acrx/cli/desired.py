"""The desired state every planning and checking command reads the same way: acrx.yaml, with the
desired-state flags (acrx.cli.options, one group) as overrides of its keys, and the check that the
cluster's marks agree with it (acrx.steps.applied).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from acrx.cli.options import DEFAULT_FILE, check_any_source, check_zone_vswitch, desired_overrides, settings_of


@dataclass
class Desired:
    actx: Any
    config: Any
    options: Any
    step_ctx: Any
    settings: dict[str, Any]
    given: set[str] = field(default_factory=set)
    source: str = str(DEFAULT_FILE)


def load(ctx, file: Path, *, mode: Optional[str] = None, network: Optional[str] = None,
         route_to: Optional[str] = None, assume_policy: Optional[str] = None,
         pull_policy_scope: Optional[str] = None, allow_any_source: bool = False,
         allow_plaintext_access_key: bool = False, create_zone_vswitch: bool = False,
         allow_foreign_access_key: bool = False, reads_only: bool = False, kubeconfig: Optional[Path] = None, save_kubeconfig: Optional[Path] = None, private_kubeconfig: bool = False,
         given: Optional[set[str]] = None) -> Desired:
    """The run's config, step options and StepContext from the file and the desired-state flags.

    The step options carry the effective values (file, or flag when given), so steps that read a
    setting from the options and steps that read it from the config see the same thing.
    `reads_only` (verify, doctor): the run never writes the access key, so the consents that guard
    writing it are given and nothing is warned about."""
    from acrx.cli.flow import load_config, step_context
    from acrx.cli.root import app_context
    from acrx.cli.saved_plan import given_flags
    from acrx.steps.context import StepOptions

    actx = app_context(ctx)
    if reads_only:
        allow_plaintext_access_key = allow_foreign_access_key = True
    overrides = desired_overrides(mode, network, route_to, assume_policy, pull_policy_scope)
    config = load_config(file, overrides, actx.sandbox_dir)
    # --allow-any-source outside public mode: blame the flag, not the file it would be merged into
    check_any_source(allow_any_source, config.network.mode)
    check_zone_vswitch(create_zone_vswitch, config.network.mode)
    if allow_any_source or create_zone_vswitch:
        config = load_config(file, {**overrides, "network.allow_any_source": True if allow_any_source else None,
                                    "network.create_zone_vswitch": True if create_zone_vswitch else None},
                             actx.sandbox_dir)
    net = config.network
    options = StepOptions(assume_policy=config.roles.assume_policy,
                          allow_plaintext_access_key=allow_plaintext_access_key,
                          allow_any_source=net.allow_any_source, route_to=net.route_to,
                          kubeconfig=str(kubeconfig) if kubeconfig else None,
                          extra={"pull_policy_scope": config.roles.pull_policy_scope,
                                 "allow_foreign_access_key": allow_foreign_access_key})
    step_ctx = step_context(actx, config, options, save_kubeconfig=save_kubeconfig,
                            private_kubeconfig=private_kubeconfig)
    if allow_foreign_access_key and config.mode == "access-key" and not reads_only:
        step_ctx.warn("--allow-foreign-access-key: the AccessKey written into the cluster's ConfigMap may be an "
                      "account's own credential or another user's key; anyone who can read kube-system can use it")
    return Desired(actx, config, options, step_ctx,
                   settings_of(config, allow_plaintext_access_key, allow_foreign_access_key),
                   given_flags(ctx) if given is None else given, _source(file, actx.sandbox_dir))


def _source(file: Path, sandbox_dir: Optional[Path]) -> str:
    """The file the config came from, as the user would name it in `edit ...`."""
    if Path(file).exists() or file != DEFAULT_FILE:
        return str(file)
    if sandbox_dir is not None and (Path(sandbox_dir) / "acrx.yaml").exists():
        return str(Path(sandbox_dir) / "acrx.yaml")
    return str(DEFAULT_FILE)


def check_marks(desired: Desired, takes: Optional[set[str]] = None, command: Optional[str] = None) -> None:
    """Exit 2, naming the flags that match the cluster, when acrx's marks say the cluster is set
    up for other settings than the ones this run would plan for (and no flag asked for them).
    `takes`: the settings a step command has flags for (and plans by); the others are not its
    business, and a message naming a flag it lacks would send the user to an error.
    `command`: a command that applies (setup, a step command) also says how to switch on purpose:
    the file's settings given as flags. Read-only commands offer nothing that would change the
    working setup."""
    from acrx.errors import UsageError
    from acrx.steps.applied import SETTINGS, differing, disagreement, flags_for, read_marks, stamp

    skip = set(desired.given) | (set(SETTINGS) - set(takes) if takes is not None else set())
    marks, wanted = read_marks(desired.step_ctx), stamp(desired.config)
    message = disagreement(marks, wanted, skip, desired.source)
    if message:
        hint = None
        if command:
            hint = (f"to set the cluster up for what {desired.source} says instead, ask for it with flags: "
                    f"{command} {flags_for(wanted, differing(marks, wanted, skip))}")
        raise UsageError(message, hint=hint)


# The desired-state settings each planning command takes a flag for (and so plans by).
ALL = {"mode", "network", "route_to", "assume_policy", "pull_policy_scope", "allow_any_source"}
TAKES = {
    "acrx setup": ALL, "acrx plan": ALL, "acrx destroy": ALL, "acrx verify": ALL, "acrx doctor": ALL,
    "acrx network apply": {"network", "route_to", "allow_any_source"},
    "acrx rrsa enable": {"mode"},
    "acrx roles apply": {"mode", "assume_policy"},
    "acrx policy attach": {"mode", "pull_policy_scope"},
    "acrx addon install": {"mode"},
    "acrx configmap apply": {"mode"},
}


def fix_flags(desired: Desired) -> Callable[[str], str]:
    """For a fix command: the desired-state flags given to this run that the command takes, so the
    fix applies the user's choice (`acrx network apply --network cen`), never the file's."""
    from acrx.steps.applied import SETTINGS

    def words(command: str) -> str:
        takes = TAKES.get(command, set())
        out = []
        for name in SETTINGS:
            if name in desired.given and name in takes:
                out.append(f"{SETTINGS[name][0]} {desired.settings[name]}")
        if "allow_any_source" in desired.given and "allow_any_source" in takes and desired.settings["allow_any_source"]:
            out.append("--allow-any-source")
        return " ".join(out)

    return words
