"""The flags several commands share, declared once, and the checks of their values.

Light on purpose: `acrx --help` imports every command module, so nothing here may import an SDK
or the config model (acrx.facts and acrx.errors are plain Python).
"""


import re
from pathlib import Path
from typing import Annotated, Optional, Sequence

import typer

from acrx import facts
from acrx.errors import UsageError

DEFAULT_FILE = Path("acrx.yaml")
OUTPUTS = ("table", "json")
ROUTE_TOS = ("endpoint", "vpc")

# -- the config file and what overrides it ---------------------------------------------------------
FileOpt = Annotated[Path, typer.Option("-f", "--file", help="Config file.")]
ModeOpt = Annotated[Optional[str], typer.Option("--mode",
                                                help="rrsa | worker-role | access-key (overrides the file).")]
NetworkOpt = Annotated[Optional[str], typer.Option("--network",
                                                   help="public | peering | cen | none (overrides the file).")]

# -- plan and apply ----------------------------------------------------------------------------------
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Plan only; change nothing.")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Apply without asking.")]
OutputOpt = Annotated[str, typer.Option("-o", "--output", help="table | json.")]
DetailedOpt = Annotated[bool, typer.Option("--detailed-exitcode",
                                           help="With --dry-run: exit 3 when changes are pending.")]
NoResumeOpt = Annotated[bool, typer.Option(
    "--no-resume", help="Ignore the journals of interrupted runs: apply the fresh plan as it is.")]

# -- identity ----------------------------------------------------------------------------------------
AssumeOpt = Annotated[Optional[str], typer.Option(
    "--assume-policy", help="custom (sts:AssumeRole on the registry role only) | system (AliyunSTSAssumeRoleAccess).")]
ScopeOpt = Annotated[str, typer.Option(
    "--pull-policy-scope", help="instance (this instance's repositories) | any (every instance, as documented).")]
PlainAkOpt = Annotated[bool, typer.Option("--allow-plaintext-access-key",
                                          help="access-key mode: allow the AccessKey in the ConfigMap.")]

# -- network -----------------------------------------------------------------------------------------
AnySourceOpt = Annotated[bool, typer.Option("--allow-any-source", help="public mode: allow 0.0.0.0/0 in the ACL.")]
RouteToOpt = Annotated[Optional[str], typer.Option("--route-to", help="peering/cen: endpoint (/32) | vpc (B's CIDR).")]

# -- cluster access ----------------------------------------------------------------------------------
KubeconfigOpt = Annotated[Optional[Path], typer.Option(
    "--kubeconfig", help="Use this kubeconfig instead of asking CS for a temporary one.")]
SaveKubeconfigOpt = Annotated[Optional[Path], typer.Option(
    "--save-kubeconfig", help="Also write the kubeconfig from CS to FILE (mode 0600).")]
PrivateOpt = Annotated[bool, typer.Option("--private-kubeconfig", help="Ask CS for the private (VPC) API address.")]

# -- the run lock (setup, destroy and the step commands) ---------------------------------------------
LockTimeoutOpt = Annotated[Optional[str], typer.Option(
    "--lock-timeout",
    help="Wait this long (e.g. 30s, 2m) for another run's lock on the cluster; default: fail at once.")]
LOCK_TIMEOUT_MAX_S = 24 * 3600


_SECONDS_RE = re.compile(r"\d+(?:\.\d+)?")
_DURATION_RE = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


def lock_timeout_seconds(value: Optional[str], *, dry_run: bool = False) -> float:
    """--lock-timeout in seconds (0 when not given); a usage error when it is not a duration."""
    if value is None:
        return 0.0
    if dry_run:
        raise UsageError("a dry run takes no lock, so there is nothing to wait for", field="--lock-timeout",
                         hint="drop --lock-timeout, or drop --dry-run to apply")
    # fullmatch: "1h\n" is not a duration ($ in a regex would match before the newline)
    match = _DURATION_RE.fullmatch(value)
    if _SECONDS_RE.fullmatch(value):
        seconds = float(value)
    elif match and any(match.groups()):
        hours, minutes, secs = (int(g or 0) for g in match.groups())
        seconds = hours * 3600 + minutes * 60 + secs
    else:
        raise UsageError(f"{value[:40]!r} is not a duration; use e.g. 30s, 2m or 1h", field="--lock-timeout")
    if seconds > LOCK_TIMEOUT_MAX_S:
        raise UsageError(f"{value[:40]!r} is longer than 24h", field="--lock-timeout", hint="use at most 24h")
    return seconds


def check_choice(value: Optional[str], choices: Sequence[str], flag: str, *, what: str = "value",
                 use: Optional[str] = None) -> None:
    """A usage error (exit 2) naming `flag` when `value` is given and not one of `choices`."""
    if value is None or value in choices:
        return
    if use is None:
        use = " or ".join(choices) if len(choices) == 2 else ", ".join(choices)
    from acrx.config.echo import echo

    raise UsageError(f"unknown {what} {echo(value)}; use {use}", field=flag)


def check_output(output: str) -> None:
    check_choice(output, OUTPUTS, "--output", what="output format")


def check_mode(mode: Optional[str]) -> None:
    check_choice(mode, facts.MODES, "--mode", what="mode")


def check_network_mode(mode: Optional[str], flag: str) -> None:
    check_choice(mode, facts.NETWORK_MODES, flag, what="network mode", use=f"one of {', '.join(facts.NETWORK_MODES)}")


def check_route_to(route_to: Optional[str]) -> None:
    check_choice(route_to, ROUTE_TOS, "--route-to")


def check_identity_flags(assume_policy: Optional[str], pull_policy_scope: str) -> None:
    """--assume-policy and --pull-policy-scope, which the identity steps read from StepOptions."""
    check_choice(assume_policy, facts.ASSUME_POLICY_KINDS, "--assume-policy")
    check_choice(pull_policy_scope, facts.PULL_POLICY_SCOPES, "--pull-policy-scope")


def check_any_source(allow_any_source: bool, network_mode: str) -> None:
    """--allow-any-source only changes the public endpoint's ACL; elsewhere it would do nothing."""
    if allow_any_source and network_mode != "public":
        raise UsageError(f"applies to network mode public only; with {network_mode} it would do nothing",
                         field="--allow-any-source", hint="drop the flag, or use --network public")
