"""`acrx sandbox up|down|env` and the state directory they share."""


import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Literal, Optional

import typer

from acrx.cli.options import Mode, NetworkMode
from acrx.cli.root import app, app_context
from acrx.errors import AcrxError, UsageError

sandbox_app = typer.Typer(help="Run the local sandbox cloud and cluster.", no_args_is_help=True)
app.add_typer(sandbox_app, name="sandbox")

DEFAULT_STATE_DIR = Path(".acrx/sandbox")
STATE_DIR_OPTION = typer.Option(None, "--state-dir", help="Where the sandbox keeps its files; default the global "
                                "--sandbox DIR (or ACRX_SANDBOX), else .acrx/sandbox.")
SCENARIO_OPTION = typer.Option("default", "--scenario", help="A seeded variant of the sandbox world (see docs/sandbox.md).")
CLOCK_SCALE_OPTION = typer.Option(0.05, "--clock-scale", help="Real seconds per cloud second of slow work.")
READY_TIMEOUT_S = 60


def _state_dir(actx, given: Optional[Path]) -> Path:
    """--state-dir, else the global --sandbox DIR / ACRX_SANDBOX, else .acrx/sandbox."""
    return given or actx.sandbox_dir or DEFAULT_STATE_DIR


def _pid(state_dir: Path) -> int | None:
    try:
        return int((state_dir / "sandbox.pid").read_text().strip())
    except (OSError, ValueError):
        return None


def _check_scenario(scenario: str) -> None:
    from acrx.sandbox.scenario import VARIANTS

    if scenario not in VARIANTS and scenario != "fleet":   # fleet: acrx.sandbox.fleet (issue 16)
        raise UsageError(f"unknown scenario {scenario!r}; choose one of {', '.join(sorted(VARIANTS))}", field="--scenario")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@sandbox_app.command("up")
def up(
    ctx: typer.Context,
    state_dir: Optional[Path] = STATE_DIR_OPTION,
    scenario: str = SCENARIO_OPTION,
    clock_scale: float = CLOCK_SCALE_OPTION,
    mode: Mode = typer.Option("rrsa", "--mode", help="Mode written into DIR/acrx.yaml."),
    network: NetworkMode = typer.Option("peering", "--network", help="Network mode written into DIR/acrx.yaml."),
    operators: bool = typer.Option(False, "--operators", help="Also seed operator identities holding exactly "
                                   "acrx's operator policies; write DIR/acrx-ci.yaml (oidc) and DIR/acrx-operator.yaml."),
    clusters: int = typer.Option(5, "--clusters", min=1, max=150,
                                 help="--scenario fleet: how many clusters (mixed modes and networks)."),
    accounts: int = typer.Option(2, "--accounts", min=1, max=150, help="--scenario fleet: over how many cluster accounts."),
) -> None:
    """Start the sandbox in the background; write sandbox.env, acrx.yaml and kubeconfig to DIR."""
    actx = app_context(ctx)
    state_dir = _state_dir(actx, state_dir)
    _check_scenario(scenario)
    if scenario == "fleet" and accounts > clusters:
        raise UsageError(f"{accounts} accounts for {clusters} clusters leaves an account empty", field="--accounts")
    pid = _pid(state_dir)
    if pid and _alive(pid):
        raise UsageError(f"a sandbox already runs from {state_dir} (pid {pid}); run `acrx sandbox down --state-dir {state_dir}` first",
                         field="--state-dir")
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / "sandbox.env").unlink(missing_ok=True)
    log = open(state_dir / "sandbox.log", "ab")
    cmd = [sys.executable, "-m", "acrx.sandbox", "serve", "--state-dir", str(state_dir), "--scenario", scenario,
           "--clock-scale", str(clock_scale), "--mode", mode, "--network", network]
    if scenario == "fleet":
        cmd += ["--clusters", str(clusters), "--accounts", str(accounts)]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if (state_dir / "sandbox.env").exists() and (state_dir / "kubeconfig").exists():
            break
        if proc.poll() is not None:
            raise AcrxError(f"the sandbox exited with code {proc.returncode}; see {state_dir / 'sandbox.log'}")
        time.sleep(0.1)
    else:
        proc.terminate()
        raise AcrxError(f"the sandbox did not become ready in {READY_TIMEOUT_S}s; see {state_dir / 'sandbox.log'}")
    actx.out.print(f"sandbox up (pid {proc.pid}); state in {state_dir}")
    if operators:
        from acrx.cli.commands.sandbox_operators import seed

        paths = seed(state_dir)
        actx.out.print(f"  operators: {paths['ci']} (CI, oidc, read-only), {paths['operator']} (setup/destroy)")
    actx.out.print(f"  . {state_dir / 'sandbox.env'}")
    command = "fleet plan" if scenario == "fleet" else "plan"
    actx.out.print(f"  acrx --sandbox {state_dir} {command} -f {state_dir / 'acrx.yaml'}")
    actx.out.print(f"  kubectl --kubeconfig {state_dir / 'kubeconfig'} get ns")


@sandbox_app.command("down")
def down(ctx: typer.Context, state_dir: Optional[Path] = STATE_DIR_OPTION) -> None:
    """Stop the sandbox started from DIR and remove its secret files."""
    actx = app_context(ctx)
    state_dir = _state_dir(actx, state_dir)
    pid = _pid(state_dir)
    if pid is None or not _alive(pid):
        (state_dir / "sandbox.pid").unlink(missing_ok=True)
        actx.out.print(f"no sandbox running from {state_dir}")
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
    for name in ("sandbox.env", "kubeconfig", "sandbox.pid"):
        (state_dir / name).unlink(missing_ok=True)
    actx.out.print(f"sandbox down (pid {pid})")


@sandbox_app.command("env")
def env(ctx: typer.Context, state_dir: Optional[Path] = STATE_DIR_OPTION) -> None:
    """Print DIR/sandbox.env (export lines, including the sandbox's own AccessKeys)."""
    state_dir = _state_dir(app_context(ctx), state_dir)
    path = state_dir / "sandbox.env"
    if not path.exists():
        raise UsageError(f"{path} does not exist; start one with `acrx sandbox up --state-dir {state_dir}`",
                         field="--state-dir")
    typer.echo(path.read_text(), nl=False)


@app.command("demo")
def demo(
    ctx: typer.Context,
    mode: Mode = typer.Option("rrsa", "--mode", help="How the helper gets credentials."),
    network: Literal["public", "peering", "cen"] = typer.Option(
        "peering", "--network", help="How nodes reach the registry (the demo builds the path itself, so not none)."),
    scenario: str = SCENARIO_OPTION,
    clock_scale: float = CLOCK_SCALE_OPTION,
) -> int:
    """Run the whole procedure on a built-in sandbox: plan, apply, verify, then stop it."""
    import tempfile

    from acrx.cli.commands.setup import setup
    from acrx.sandbox.app import CONFIG_FILE, Sandbox

    actx = app_context(ctx)
    _check_scenario(scenario)
    if network not in ("public", "peering", "cen"):
        raise UsageError(f"the demo connects the networks itself: use public, peering or cen, not {network!r}",
                         field="--network")
    with tempfile.TemporaryDirectory(prefix="acrx-demo-") as tmp:
        state = Path(tmp)
        actx.err.print(f"starting the sandbox ({scenario}: two accounts, an ACK cluster, an ACR EE instance)",
                       highlight=False)
        sandbox = Sandbox(scenario, clock_scale=clock_scale).start()
        previous_state_dir = os.environ.get("ACRX_STATE_DIR")
        try:
            sandbox.write_state(state, mode=mode, network=network)
            actx.sandbox_dir = state
            os.environ["ACRX_STATE_DIR"] = str(state / "journal-state")
            if mode == "access-key":
                actx.err.print("access-key mode: the sandbox's own key goes into the ConfigMap in plaintext",
                               highlight=False)
            started = time.monotonic()
            code = setup(ctx, file=state / CONFIG_FILE, mode=mode, network=network, yes=True, output="table",
                         no_verify=False, saved_plan=None, keep=False, assume_policy=None,
                         pull_policy_scope="instance", allow_plaintext_access_key=mode == "access-key",
                         allow_any_source=False, route_to=None, kubeconfig=None)
            actx.err.print(f"demo finished in {time.monotonic() - started:.1f}s; stopping the sandbox", highlight=False)
            return code
        finally:
            if previous_state_dir is None:
                os.environ.pop("ACRX_STATE_DIR", None)
            else:
                os.environ["ACRX_STATE_DIR"] = previous_state_dir
            sandbox.stop()


from acrx.cli.commands import sandbox_faults  # noqa: E402,F401  (sandbox faults)
