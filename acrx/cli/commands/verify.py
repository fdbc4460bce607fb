"""`acrx verify` (control plane, component, a real pull by an nginx Deployment) and `acrx doctor`
(the same first two layers plus a registry probe, without creating anything in the cluster).

Layers run in order and stop at the first failure; each is printed with its checks and, on
failure, the cause and the acrx command that fixes it, then one summary line (`passed; skipped:
registry probe (<why>)`). Exit 0 when the pull is proven (see acrx.doctor.layers.verdict), 4
(through acrx.errors.VerificationFailed) when a layer fails or nothing proves the pull: a check
that was skipped or could not be decided is never counted as a pass.
"""


import re
from pathlib import Path
from typing import Annotated, Optional

import typer

from acrx.cli.options import (DEFAULT_FILE, AnySourceOpt, AssumeOpt, FileOpt, KubeconfigOpt, ModeOpt, NetworkOpt,
                              OutputOpt, RouteToOpt, ScopeOpt, check_output)
from acrx.cli.root import app

TimeoutOpt = Annotated[Optional[str], typer.Option(
    "--timeout", help="How long to wait for the pull (e.g. 90s, 5m; default verify.timeout).")]
DoctorTimeoutOpt = Annotated[Optional[str], typer.Option(
    "--timeout", help="How long to wait for the helper's pull Secret (at most 20s) and for the registry probe's "
                      "answer (at most 30s), e.g. 10s; default verify.timeout.")]
KeepOpt = Annotated[bool, typer.Option("--keep", help="Leave the acrx-verify Deployment in place.")]
AllOpt = Annotated[bool, typer.Option(
    "--all", help="Every cluster of a fleet config (clusters:), concurrently; the default there. "
                  "A single-cluster config is a fleet of one.")]
MARK = {"pass": "PASS", "fail": "FAIL", "skip": "SKIP", "unknown": "UNKNOWN"}


def _timeout_seconds(text: Optional[str], config) -> float:
    from acrx.config.formats import MAX_VERIFY_TIMEOUT_S, duration_seconds, spell_seconds
    from acrx.errors import UsageError

    if text is None:
        return float(config.verify_timeout_seconds)
    try:
        seconds = float(text) if text.replace(".", "", 1).isdigit() else float(duration_seconds(text))
    except ValueError as exc:
        raise UsageError(str(exc), field="--timeout", hint="use e.g. 90s or 5m") from None
    if not 0 < seconds <= MAX_VERIFY_TIMEOUT_S:
        raise UsageError(f"{seconds:g} seconds is not between 0 and {spell_seconds(MAX_VERIFY_TIMEOUT_S)}",
                         field="--timeout", hint=f"use at most {spell_seconds(MAX_VERIFY_TIMEOUT_S)}")
    return seconds


def _prepare(ctx: typer.Context, file: Path, output: str, timeout: Optional[str], kubeconfig: Optional[Path],
             keep: bool, flags: Optional[dict] = None):
    """The run over the desired state (file + flags), refused (exit 2) before any layer runs when
    acrx's marks say the cluster is set up for other settings, or when verify.image cannot be
    reached over the configured network."""
    from acrx.cli.desired import check_marks, fix_flags, load

    check_output(output)
    # verify and doctor plan only to compare: they never write the key, so the consent that
    # --allow-plaintext-access-key gives for writing it is not asked for here.
    d = load(ctx, file, kubeconfig=kubeconfig, reads_only=True, **(flags or {}))
    run = verify_run(d.actx, d.step_ctx, file, timeout, keep)   # a bad --timeout fails before any read
    run.fix_flags = fix_flags(d)
    check_image_network(d.config)
    check_marks(d)
    return d.actx, run


_DOMAIN_RE = re.compile(r"(?P<name>[a-z0-9][a-z0-9-]*?)-registry(?P<vpc>-vpc)?\.(?P<region>[a-z0-9-]+)\.cr\.aliyuncs\.com")


def check_image_network(config) -> None:
    """verify.image on an instance's system domain must be the one the network reaches: the VPC
    domain resolves (PrivateZone) and routes only over peering or CEN, the internet domain only
    over the public endpoint. Caught before any pod runs; `none` is the user's own path."""
    from acrx.errors import UsageError

    image, network = config.verify.image, config.network.mode
    found = _DOMAIN_RE.fullmatch((image or "").split("/", 1)[0].lower())
    if not found or network == "none":
        return
    vpc = bool(found["vpc"])
    if vpc == (network != "public"):
        return
    other = f"{found['name']}-registry{'' if vpc else '-vpc'}.{found['region']}.cr.aliyuncs.com"
    instead = other + "/" + image.split("/", 1)[1] if "/" in image else other
    cause = ("names the VPC domain, which only a VPC path (peering or cen) reaches; network.mode is public"
             if vpc else f"names the internet domain, which only the public endpoint serves; network.mode is {network}")
    raise UsageError(f"{image} {cause}", field="verify.image", hint=f"set verify.image: {instead}")


def verify_run(actx, step_ctx, file: Path, timeout: Optional[str], keep: bool):
    """The layers' shared state for one run over an existing StepContext (setup reuses its own)."""
    from acrx.doctor.layers import VerifyRun

    return VerifyRun(step_ctx, config_file=str(file), timeout_s=_timeout_seconds(timeout, step_ctx.config),
                     keep=keep, progress=None if getattr(actx, "quiet", False)
                     else lambda m: actx.err.print(m, highlight=False, markup=False))


def _print_layer(console, result) -> None:
    console.print(f"{MARK[result.status]}  {result.name}", highlight=False, markup=False, emoji=False)
    if not result.checks:
        console.print(f"      {result.reason or ''}", highlight=False, markup=False, emoji=False)
        return
    for check in result.checks:
        line = f"   {MARK[check.status].lower():4} {check.name}"
        if check.detail:
            line += f": {check.detail}"
        console.print(line, highlight=False, markup=False, emoji=False)
        if check.ok is False:
            if check.cause and check.cause not in (check.detail or ""):
                console.print(f"        cause: {check.cause}", highlight=False, markup=False, emoji=False)
            if check.fix_command:
                console.print(f"        fix:   {check.fix_command}", highlight=False, markup=False, emoji=False)


def _report(actx, kind: str, results, output: str, success_line: Optional[str],
            sink: Optional[dict] = None, proof: Optional[str] = None, setup_command: Optional[str] = None) -> int:
    """Print the result (or, with `sink`, put the JSON data there for the caller's one envelope).
    The summary says what passed, and what was skipped or could not be decided, and why."""
    from acrx.doctor.layers import fix_commands, fix_hint, first_failing, verdict
    from acrx.errors import VerificationFailed
    from acrx.render.envelope import print_json

    found = verdict(results, proof)
    broken = first_failing(results)
    if output == "json":
        data = {"ok": found.ok, "verdict": found.status, "summary": found.summary,
                "layers": [r.to_dict() for r in results]}
        if broken is not None:
            failure = broken.first_failure
            data["failed_layer"] = broken.name
            data["cause"] = failure.cause if failure else None
            data["fix_command"] = failure.fix_command if failure else None
            data["fix_commands"] = fix_commands(broken)
        if success_line:
            data["pulled"] = success_line
        if sink is not None:
            sink.update(data)
        else:
            print_json(actx.out, kind, data)
    else:
        actx.out.print(found.summary, highlight=False, markup=False, emoji=False)
        if found.ok and success_line:
            actx.out.print(f"verified: {success_line}", highlight=False, markup=False, emoji=False)
    if broken is not None:
        failure = broken.first_failure
        cause = failure.cause if failure else "a check failed"
        raise VerificationFailed(f"the {broken.name} layer failed: {cause}",
                                 hint=fix_hint(broken, setup_command))
    if not found.ok:
        raise VerificationFailed(f"a pull is not proven: {found.summary}",
                                 hint="the layers marked UNKNOWN or SKIP say what acrx could not check")
    return 0


@app.command("verify")
def verify(ctx: typer.Context, file: FileOpt = DEFAULT_FILE, mode: ModeOpt = None, network: NetworkOpt = None,
           route_to: RouteToOpt = None, assume_policy: AssumeOpt = None, pull_policy_scope: ScopeOpt = None,
           allow_any_source: AnySourceOpt = False, keep: KeepOpt = False,
           output: OutputOpt = "table", timeout: TimeoutOpt = None, kubeconfig: KubeconfigOpt = None,
           all_clusters: AllOpt = False) -> int:
    """Prove a pod pulls: control plane, then the component, then an nginx Deployment's pull.
    With a fleet config (clusters:), every cluster, concurrently, in one table (`acrx fleet verify`)."""
    from acrx.cli.commands.fleet import is_fleet_file

    flags = dict(mode=mode, network=network, route_to=route_to, assume_policy=assume_policy,
                 pull_policy_scope=pull_policy_scope, allow_any_source=allow_any_source)
    if is_fleet_file(ctx, file):   # --all is the default there; a single-cluster config stays as it was
        from acrx.cli.commands.fleet import refuse_single_cluster_flags, verify_fleet_file
        from acrx.cli.options import desired_overrides

        check_output(output)
        refuse_single_cluster_flags(**{"--kubeconfig": kubeconfig})
        return verify_fleet_file(ctx, file, desired_overrides(**flags), output, timeout, keep)
    actx, run = _prepare(ctx, file, output, timeout, kubeconfig, keep, flags)
    return run_verify(actx, run, output)


def run_verify(actx, run, output: str, sink: Optional[dict] = None) -> int:
    """Every layer in order; exit 0, or VerificationFailed (exit 4) naming the first failing layer."""
    from acrx.doctor import layers as L
    from acrx.render.envelope import KIND_VERIFY

    show = (lambda r: _print_layer(actx.out, r)) if output == "table" else None
    results = L.run_layers([(L.LAYER_CONTROL_PLANE, lambda: L.control_plane_layer(run)),
                            (L.LAYER_COMPONENT, lambda: L.component_layer(run)),
                            (L.LAYER_PULL, lambda: L.pull_layer(run))], on_layer=show)
    pulled = results[-1].extra.get("pull") if results[-1].ok else None
    success = pulled["message"] if pulled else None
    return _report(actx, KIND_VERIFY, results, output, success, sink, proof=L.LAYER_PULL,
                   setup_command=run.fix("acrx setup"))


@app.command("doctor")
def doctor(ctx: typer.Context, file: FileOpt = DEFAULT_FILE, mode: ModeOpt = None, network: NetworkOpt = None,
           route_to: RouteToOpt = None, assume_policy: AssumeOpt = None, pull_policy_scope: ScopeOpt = None,
           allow_any_source: AnySourceOpt = False, output: OutputOpt = "table",
           timeout: DoctorTimeoutOpt = None, kubeconfig: KubeconfigOpt = None) -> int:
    """Why a pull fails, and which step fixes it: verify's layers without creating a Deployment."""
    from acrx.doctor import layers as L
    from acrx.render.envelope import KIND_DOCTOR

    flags = dict(mode=mode, network=network, route_to=route_to, assume_policy=assume_policy,
                 pull_policy_scope=pull_policy_scope, allow_any_source=allow_any_source)
    actx, run = _prepare(ctx, file, output, timeout, kubeconfig, keep=False, flags=flags)
    show = (lambda r: _print_layer(actx.out, r)) if output == "table" else None
    results = L.run_layers([(L.LAYER_CONTROL_PLANE, lambda: L.control_plane_layer(run)),
                            (L.LAYER_COMPONENT, lambda: L.component_layer(run)),
                            (L.LAYER_PROBE, lambda: L.probe_layer(run))], on_layer=show)
    return _report(actx, KIND_DOCTOR, results, output, None, proof=L.LAYER_PROBE,
                   setup_command=run.fix("acrx setup"))
