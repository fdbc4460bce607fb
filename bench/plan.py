"""A full `acrx setup --yes --no-verify` and a no-change `acrx plan` against the in-process sandbox
with 50 ms of latency on every cloud call: API calls, wall time, and wall time over the critical path.

    python bench/plan.py [--mode rrsa|worker-role|access-key] [--network public|peering|cen] [--latency 0.05]
                         [--calls]   (list the no-change plan's calls with their depths, on stderr)

How the critical path is computed (the longest chain of calls that depend on each other):

1. Attribution run (a separate sandbox, no latency): the same setup is planned in-process and
   applied with ONE worker, each handler wrapped so that the sandbox call log's length before
   and after it gives the exact number of calls that change made. The plan's reads are counted
   too (`plan_calls`): apply starts only after the plan exists, so they come first in the chain.
   Counting every read as a link is an upper bound: the planner reads its three lanes (identity,
   network, addon) side by side (acrx.steps.setup.PLAN_LANES), so a ratio below 1 is possible.
2. The apply part is the longest path through the plan's dependency graph (Change.all_dependencies,
   stage order included) where a change weighs the calls it made; calls inside one handler are
   sequential (create, then poll), so they are all on the chain.
3. critical path (s) = (plan_calls + longest apply path) x latency. The ratio wall / critical path
   says how close the run comes to the least time its dependencies allow: 1.0 is perfect, the
   excess is local overhead (CLI start, signing, JSON, the executor) plus reads that could have
   run side by side but did not.

For the no-change plan the bound is the chain of dependent reads (issue 16): its data depth as
bench/read_chain.py defines it, the fewest rounds of calls any planner could use (a call needs
the answer that first revealed an identifier of its request). Its ratio wall / (chain x latency)
is the target (<= 1.5). Printed beside it: the rounds the run really used (run depth), all calls
in sequence (the bound this bench printed before), and the same plan with no latency at all, so
that the part of the wall that is acrx's own work (CLI start, config, signing, rendering) is seen
apart from the part spent waiting on the cloud.
The measured runs (latency on) use the real CLI in-process, on a fresh sandbox.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import tempfile
import time
from pathlib import Path


def _prepare(sandbox, tmp: Path, mode: str, network: str) -> Path:
    from acrx.sandbox.app import CONFIG_FILE

    state = tmp / "sandbox"
    os.environ["ACRX_STATE_DIR"] = str(tmp / "acrx-state")
    sandbox.write_state(state, mode=mode, network=network)
    return state / CONFIG_FILE


def _flags(mode: str) -> list[str]:
    return ["--allow-plaintext-access-key"] if mode == "access-key" else []


def attribute(mode: str, network: str) -> dict:
    """Calls per change (one worker, no latency), the plan's reads, and the longest apply path."""
    from acrx.cli.context import AppContext
    from acrx.cli.flow import load_config, step_context
    from acrx.execute.executor import Executor
    from acrx.sandbox.app import Sandbox
    from acrx.steps.base import handlers_for
    from acrx.steps.context import StepOptions
    from acrx.steps.setup import plan_setup, setup_steps

    with tempfile.TemporaryDirectory() as tmp, Sandbox() as sandbox:
        config_path = _prepare(sandbox, Path(tmp), mode, network)
        actx = AppContext(sandbox_dir=config_path.parent)
        config = load_config(config_path, {})
        ctx = step_context(actx, config, StepOptions(allow_plaintext_access_key=True))
        calls = sandbox.world.calls
        mark = calls.mark()
        steps = setup_steps(config, network)
        plan = plan_setup(ctx, steps)
        plan_calls = calls.mark() - mark
        per_change: dict[str, int] = {}

        def counting(handler):
            class Counted:
                required_inputs = getattr(handler, "required_inputs", ())

                def describe(self, change):
                    return handler.describe(change) if hasattr(handler, "describe") else change.address

                def apply(self, change, apply_ctx):
                    before = calls.mark()
                    try:
                        return (handler.apply if hasattr(handler, "apply") else handler)(change, apply_ctx)
                    finally:
                        per_change[change.address] = calls.mark() - before
            return Counted()

        handlers = {kind: counting(h) for kind, h in handlers_for(ctx, steps).items()}
        Executor(handlers, max_workers=1).apply(plan)
        longest: dict[str, int] = {}
        for change in plan.changes:                      # plan.changes is in dependency order
            deps = [longest.get(d, 0) for d in change.all_dependencies()]
            longest[change.address] = per_change.get(change.address, 0) + max(deps, default=0)
        return {"plan_calls": plan_calls, "apply_chain": max(longest.values(), default=0),
                "apply_calls": sum(per_change.values()), "changes": len(plan.pending)}


def measure(mode: str, network: str, latency: float, show_calls: bool = False) -> dict:
    """The real CLI, in-process, on a fresh sandbox with latency on every call; the no-change
    plan's calls recorded for its chain of dependent reads (bench/read_chain.py)."""
    from acrx.cli.app import run
    from acrx.sandbox.app import Sandbox
    from read_chain import Recorder, config_strings

    with tempfile.TemporaryDirectory() as tmp, Sandbox() as sandbox:
        config_path = _prepare(sandbox, Path(tmp), mode, network)
        sandbox.world.knobs.set(latency_s=latency)
        out = {}
        for name, args in (("setup", ["setup", "--yes", "--no-verify"]), ("plan", ["plan", "--detailed-exitcode"])):
            mark = sandbox.world.calls.mark()
            recorder = Recorder(config_strings(config_path))
            started = time.perf_counter()
            with recorder, contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
                code = run(["--sandbox", str(config_path.parent), *args, "-f", str(config_path), *_flags(mode)])
            wall = time.perf_counter() - started
            if code not in (0, 3):
                raise SystemExit(f"{name} failed with exit code {code}: {err.getvalue()[-2000:]}")
            out[name] = {"calls": len(sandbox.world.calls.since(mark)), "wall_s": wall, "exit": code,
                         **recorder.chain()}
            if show_calls and name == "plan":
                base = min((c.started for c in recorder.calls), default=started)
                for call, data, ran in recorder.depths():
                    print(f"  {call.started - base:6.3f} {call.ended - base:6.3f}  data {data:2d}  run {ran:2d}  "
                          f"{call.action}", file=sys.stderr)
        # The same plan with no latency: what acrx itself costs (start-up, signing, JSON, rendering).
        sandbox.world.knobs.set(latency_s=0.0)
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            run(["--sandbox", str(config_path.parent), "plan", "--detailed-exitcode", "-f", str(config_path),
                 *_flags(mode)])
        out["plan"]["local_s"] = time.perf_counter() - started
        return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", default="rrsa", choices=("rrsa", "worker-role", "access-key"))
    parser.add_argument("--network", default="peering", choices=("public", "peering", "cen"))
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added to every cloud call")
    parser.add_argument("--calls", action="store_true", help="list the no-change plan's calls with their depths")
    args = parser.parse_args(argv)
    os.environ.setdefault("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
    chain = attribute(args.mode, args.network)
    runs = measure(args.mode, args.network, args.latency, show_calls=args.calls)
    setup, plan = runs["setup"], runs["plan"]
    setup_path = (chain["plan_calls"] + chain["apply_chain"]) * args.latency
    plan_path = plan["data_depth"] * args.latency
    print(f"mode {args.mode}, network {args.network}, latency {args.latency * 1000:.0f} ms per call")
    print(f"setup --yes --no-verify: {setup['calls']} API calls, wall {setup['wall_s']:.2f} s; "
          f"critical path {chain['plan_calls']} plan reads + {chain['apply_chain']} dependent apply calls "
          f"= {setup_path:.2f} s; ratio {setup['wall_s'] / setup_path:.2f}")
    print(f"  ({chain['changes']} changes, {chain['apply_calls']} apply calls in all: "
          f"{chain['apply_calls'] / max(chain['apply_chain'], 1):.1f}x the apply chain, the parallelism available)")
    print(f"no-change plan: {plan['calls']} API calls, wall {plan['wall_s']:.2f} s, exit {plan['exit']}; "
          f"chain of dependent reads {plan['data_depth']} x latency = {plan_path:.2f} s; "
          f"ratio {plan['wall_s'] / plan_path:.2f} (target <= 1.5)")
    print(f"  (the run used {plan['run_depth']} rounds of calls = {plan['run_depth'] * args.latency:.2f} s; "
          f"all {plan['calls']} in sequence would be {plan['calls'] * args.latency:.2f} s)")
    waited = plan["wall_s"] - plan["local_s"]
    print(f"  (the same plan at no latency: {plan['local_s']:.2f} s, acrx's own time; the wall less that, "
          f"{waited:.2f} s, is {waited / plan_path:.2f}x the chain)")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
