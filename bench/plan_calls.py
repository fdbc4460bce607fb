"""API calls of a no-change identity plan for one cluster, after an apply.

Starts an in-process sandbox, applies RRSA, the roles and the pull policy (`acrx rrsa enable`,
`acrx roles apply`, `acrx policy attach`), then plans all three steps once more in one run (as
`acrx setup` would) and prints the calls that plan made, by action, from the sandbox call log.

    python bench/plan_calls.py [--mode rrsa|worker-role|access-key] [--json]

With --fleet N: the same for a no-change `acrx fleet plan` of N clusters on the fleet scenario
(--accounts K cluster accounts), after `acrx fleet setup --yes --no-verify`: every call of the
plan by action, with the calls per cluster and per (account, action), so that a read done once
per cluster where one per registry would do shows up as a count of N.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

COMMANDS = (("rrsa", "enable"), ("roles", "apply"), ("policy", "attach"))


def measure(mode: str) -> Counter:
    from acrx.cli.app import run
    from acrx.cloud.sandbox_target import SandboxTarget
    from acrx.cloud.session import CloudSession
    from acrx.config.loader import load_config
    from acrx.sandbox.app import CONFIG_FILE, Sandbox
    from acrx.steps.base import plan_steps
    from acrx.steps.context import StepContext, StepOptions
    from acrx.steps.identity import PolicyStep, RolesStep, RrsaStep

    os.environ["ALIBABA_CLOUD_ECS_METADATA_DISABLED"] = "true"
    with tempfile.TemporaryDirectory() as tmp, Sandbox() as sandbox:
        state = Path(tmp) / "sandbox"
        os.environ["ACRX_STATE_DIR"] = str(Path(tmp) / "acrx-state")
        sandbox.write_state(state, mode=mode)
        config_path = state / CONFIG_FILE
        for command in COMMANDS:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                code = run(["--sandbox", str(state), *command, "-f", str(config_path), "--yes",
                            "--allow-plaintext-access-key"])
            if code != 0:
                raise SystemExit(f"{' '.join(command)} failed with exit code {code}")
        config = load_config(config_path, {"mode": mode})
        ctx = StepContext(config, CloudSession(config, SandboxTarget.load(state)),
                          StepOptions(allow_plaintext_access_key=True))
        mark = sandbox.world.calls.mark()
        plan = plan_steps(ctx, [RrsaStep(), RolesStep(), PolicyStep()])
        if plan.has_changes:
            raise SystemExit("the plan after apply is not a no-change plan: "
                             + ", ".join(c.address for c in plan.pending))
        return Counter(f"{c.service}:{c.action}" for c in sandbox.world.calls.since(mark))


def measure_fleet(clusters: int, accounts: int) -> tuple[Counter, Counter]:
    """(calls by action, calls by (account alias, action)) of a no-change fleet plan."""
    from acrx.cli.app import run
    from acrx.sandbox.fleet import FleetSandbox

    os.environ["ALIBABA_CLOUD_ECS_METADATA_DISABLED"] = "true"
    sandbox = FleetSandbox(clusters, min(accounts, clusters), reconcile_interval_s=5.0).start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            state = Path(tmp) / "sb"
            os.environ["ACRX_STATE_DIR"] = str(Path(tmp) / "journal")
            sandbox.write_state(state)
            config = str(state / "acrx.yaml")
            for args, wanted in ((["setup", "--yes", "--no-verify"], (0,)), (["plan", "--detailed-exitcode"], (0,))):
                mark = sandbox.world.calls.mark()
                with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
                    code = run(["--sandbox", str(state), "fleet", *args, "-f", config])
                if code not in wanted:
                    raise SystemExit(f"fleet {args[0]} exited {code}:\n{err.getvalue()[-2000:]}")
            calls = sandbox.world.calls.since(mark)
            alias = {uid: a.alias for uid, a in sandbox.world.accounts.items()}
            return (Counter(f"{c.service}:{c.action}" for c in calls),
                    Counter((alias.get(c.account, c.account), f"{c.service}:{c.action}") for c in calls))
    finally:
        sandbox.stop()


def main_fleet(args) -> int:
    by_action, by_account = measure_fleet(args.fleet, args.accounts)
    total = sum(by_action.values())
    if args.json:
        print(json.dumps({"clusters": args.fleet, "total": total, "per_cluster": round(total / args.fleet, 2),
                          "by_action": dict(sorted(by_action.items()))}))
        return 0
    print(f"no-change fleet plan, {args.fleet} clusters, {args.accounts} cluster accounts: {total} API calls, "
          f"{total / args.fleet:.2f} per cluster")
    print("  calls  per-cluster  action")
    for action, count in sorted(by_action.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {count:5d}  {count / args.fleet:11.2f}  {action}")
    print("  by account:")
    for (account, action), count in sorted(by_account.items(), key=lambda kv: (kv[0][0], -kv[1], kv[0][1])):
        print(f"  {count:5d}  {account:<12} {action}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", default="rrsa", choices=("rrsa", "worker-role", "access-key"))
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--fleet", type=int, help="a fleet plan of this many clusters instead")
    parser.add_argument("--accounts", type=int, default=3, help="cluster accounts of the fleet")
    args = parser.parse_args(argv)
    if args.fleet:
        return main_fleet(args)
    counts = measure(args.mode)
    total = sum(counts.values())
    if args.json:
        print(json.dumps({"mode": args.mode, "total": total, "by_action": dict(sorted(counts.items()))}))
    else:
        print(f"no-change identity plan, mode {args.mode}, one cluster, one registry: {total} API calls")
        for action, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            print(f"  {count:3d}  {action}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    sys.exit(main())
