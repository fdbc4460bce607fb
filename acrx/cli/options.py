"""The flags several commands share, declared once, and the checks of their values.

Light on purpose: `acrx --help` imports every command module, so nothing here may import an SDK
or the config model (acrx.facts and acrx.errors are plain Python).
"""


import re
from pathlib import Path
from typing import Annotated, Any, Literal, Optional, Sequence

import typer

from acrx import facts
from acrx.errors import UsageError

DEFAULT_FILE = Path("acrx.yaml")
OUTPUTS = ("table", "json")
ROUTE_TOS = ("endpoint", "vpc")

# Enum flags are Literal types: typer validates them while parsing (exit 2 naming the flag, before
# anything is read) and lists the choices in --help as <a|b|c>.
Mode = Literal[facts.MODES]
NetworkMode = Literal[facts.NETWORK_MODES]
RouteTo = Literal[ROUTE_TOS]
AssumeKind = Literal[facts.ASSUME_POLICY_KINDS]
Scope = Literal[facts.PULL_POLICY_SCOPES]
Output = Literal[OUTPUTS]

# -- the config file ---------------------------------------------------------------------------------
FileOpt = Annotated[Path, typer.Option("-f", "--file", help="Config file.")]

# -- the desired state: one group, each flag overriding one acrx.yaml key ----------------------------
# plan, setup, verify, doctor, destroy and the step commands that use a setting take the same flag
# for it, and the flag is only an override of the key (see desired_overrides): a setting lives in
# acrx.yaml, so a plain run after `setup --route-to vpc` can be told what the cluster was set up for.
ModeOpt = Annotated[Optional[Mode], typer.Option("--mode", help="How the helper gets credentials (key: mode).")]
NetworkOpt = Annotated[Optional[NetworkMode], typer.Option(
    "--network", help="How nodes reach the registry (key: network.mode).")]
RouteToOpt = Annotated[Optional[RouteTo], typer.Option(
    "--route-to", help="peering/cen: route the endpoint's /32 or B's VPC CIDR (key: network.route_to).")]
AnySourceOpt = Annotated[bool, typer.Option(
    "--allow-any-source", help="public: allow 0.0.0.0/0 in the ACL (key: network.allow_any_source).")]
AssumeOpt = Annotated[Optional[AssumeKind], typer.Option(
    "--assume-policy", help="custom: sts:AssumeRole on the registry role only; system: AliyunSTSAssumeRoleAccess "
                            "(key: roles.assume_policy).")]
ScopeOpt = Annotated[Optional[Scope], typer.Option(
    "--pull-policy-scope", help="instance: this instance's repositories; any: every instance, as documented "
                                "(key: roles.pull_policy_scope).")]
ZoneVswitchOpt = Annotated[bool, typer.Option(
    "--create-zone-vswitch", help="cen: create a small vSwitch where a VPC lacks one in a zone the transit router "
                                  "needs (key: network.create_zone_vswitch).")]
# A consent to write the key in plaintext, not a shape of the desired state: a flag only.
PlainAkOpt = Annotated[bool, typer.Option("--allow-plaintext-access-key",
                                          help="access-key mode: allow the AccessKey in the ConfigMap.")]
# Likewise a consent: the key for the ConfigMap may be an account's credential or another user's.
ForeignAkOpt = Annotated[bool, typer.Option(
    "--allow-foreign-access-key",
    help="access-key mode: let addon.access_key name a key that is not acrx's pull user's own (warns).")]

# flag -> the acrx.yaml key it overrides (saved plans and the marks comparison name both)
DESIRED_KEYS = {
    "--mode": "mode",
    "--network": "network.mode",
    "--route-to": "network.route_to",
    "--assume-policy": "roles.assume_policy",
    "--pull-policy-scope": "roles.pull_policy_scope",
    "--allow-any-source": "network.allow_any_source",
    "--create-zone-vswitch": "network.create_zone_vswitch",
}


def desired_overrides(mode: Optional[str] = None, network: Optional[str] = None, route_to: Optional[str] = None,
                      assume_policy: Optional[str] = None, pull_policy_scope: Optional[str] = None,
                      allow_any_source: bool = False) -> dict[str, Any]:
    """The config overrides the desired-state flags make (None: the file's value stands)."""
    return {"mode": mode, "network.mode": network, "network.route_to": route_to,
            "roles.assume_policy": assume_policy, "roles.pull_policy_scope": pull_policy_scope,
            "network.allow_any_source": True if allow_any_source else None}


def settings_of(config, allow_plaintext_access_key: bool = False,
                allow_foreign_access_key: bool = False) -> dict[str, Any]:
    """Every setting that shaped a plan, read from the effective config (saved with the plan)."""
    return {"mode": config.mode, "network": config.network.mode, "route_to": config.network.route_to,
            "assume_policy": config.roles.assume_policy, "pull_policy_scope": config.roles.pull_policy_scope,
            "allow_plaintext_access_key": bool(allow_plaintext_access_key),
            "allow_foreign_access_key": bool(allow_foreign_access_key),
            "allow_any_source": bool(config.network.allow_any_source),
            "create_zone_vswitch": bool(config.network.create_zone_vswitch)}


# -- plan and apply ----------------------------------------------------------------------------------
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Plan only; change nothing.")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Apply without asking.")]
OutputOpt = Annotated[Output, typer.Option("-o", "--output", help="table or json.")]
DetailedOpt = Annotated[bool, typer.Option("--detailed-exitcode",
                                           help="With --dry-run: exit 3 when changes are pending.")]
NoResumeOpt = Annotated[bool, typer.Option(
    "--no-resume", help="Ignore the journals of interrupted runs: apply the fresh plan as it is.")]
OutOpt = Annotated[Optional[Path], typer.Option("--out", help="Save the plan (JSON) to apply it later with --plan.")]

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


def check_any_source(allow_any_source: bool, network_mode: str) -> None:
    """--allow-any-source only changes the public endpoint's ACL; elsewhere it would do nothing."""
    if allow_any_source and network_mode != "public":
        raise UsageError(f"applies to network mode public only; with {network_mode} it would do nothing",
                         field="--allow-any-source", hint="drop the flag, or use --network public")


def check_zone_vswitch(create_zone_vswitch: bool, network_mode: str) -> None:
    """--create-zone-vswitch only shapes a CEN attachment's zone mappings; elsewhere it would do nothing."""
    if create_zone_vswitch and network_mode != "cen":
        raise UsageError(f"applies to network mode cen only; with {network_mode} it would do nothing",
                         field="--create-zone-vswitch", hint="drop the flag, or use --network cen")


def bad_value_line(exc) -> Optional[str]:
    """One line for a flag whose value the parser refused (a choice, a number): `--route-to: 'vcp'
    is not one of 'endpoint', 'vpc'`, instead of click's usage block. None for other usage errors."""
    if exc.__class__.__name__ != "BadParameter" or getattr(exc, "param", None) is None:
        return None
    opts = getattr(exc.param, "opts", None) or []
    flag = max(opts, key=len) if opts else getattr(exc.param, "name", None) or "value"
    message = " ".join(str(exc.format_message() if hasattr(exc, "format_message") else exc).split())
    for noise in ("Value error, ", f"Invalid value for '{flag}': ", "Invalid value: "):
        message = message.replace(noise, "")
    return f"{flag}: {message.rstrip('.')}"
