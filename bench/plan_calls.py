"""API calls of a no-change identity plan for one cluster, after an apply.

Starts an in-process sandbox, applies RRSA, the roles and the pull policy (`acrx rrsa enable`,
`acrx roles apply`, `acrx policy attach`), then plans all three steps once more in one run (as
`acrx setup` would) and prints the calls that plan made, by action, from the sandbox call log.

    python bench/plan_calls.py [--mode rrsa|worker-role|access-key] [--json]
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", default="rrsa", choices=("rrsa", "worker-role", "access-key"))
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
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
