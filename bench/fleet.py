"""Issue 16: a fleet on the sandbox's fleet scenario, at a per-call latency (default 50 ms) with
the per-account, per-API QPS limits on.

    python bench/fleet.py --clusters 1,10,50,100 [--accounts 3] [--latency 0.05] [--parallelism N]

(--parallelism: the CLI's default, acrx.cli.fleet_defaults.DEFAULT_PARALLELISM, unless given.)

For each size, in a fresh process holding the sandbox: a full `acrx fleet setup --yes
--no-verify`, then a no-change `acrx fleet plan`, each run as a child process (the CLI as a user
runs it, start-up included); for each, the wall time, the API calls, the calls per cluster, the
wall time against the single-cluster figure of the same run, and acrx's peak RSS (os.wait4 on
the child). "sandbox RSS" is the process holding the sandbox (one Kubernetes API server per
cluster); "throttled" counts the sandbox's refusals.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def one(clusters: int, accounts: int, latency: float, parallelism: int | None) -> dict:
    """The sandbox in this process; acrx as a child process, as a user runs it, so that its peak
    RSS (os.wait4) is acrx's alone."""
    from acrx.sandbox.fleet import FleetSandbox

    sandbox = FleetSandbox(clusters, min(accounts, clusters)).start()
    out: dict = {"clusters": clusters, "accounts": min(accounts, clusters)}
    try:
        with tempfile.TemporaryDirectory(prefix="acrx-bench-fleet-") as tmp:
            state = Path(tmp) / "sb"
            env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
            env["ACRX_STATE_DIR"] = str(Path(tmp) / "journal")
            sandbox.write_state(state)
            sandbox.world.knobs.latency_s = latency
            for name, args in (("setup", ["setup", "--yes", "--no-verify"]), ("plan", ["plan", "--detailed-exitcode"])):
                mark = sandbox.world.calls.mark()
                started = time.monotonic()
                pool = ["--parallelism", str(parallelism)] if parallelism else []
                proc = subprocess.Popen([sys.executable, "-m", "acrx", "--sandbox", str(state), "fleet", *args,
                                         *pool, "-f", str(state / "acrx.yaml")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
                _, status, usage = os.wait4(proc.pid, 0)
                wall = time.monotonic() - started
                calls = sandbox.world.calls.since(mark)
                out[name] = {"exit": os.waitstatus_to_exitcode(status), "wall_s": round(wall, 2), "calls": len(calls),
                             "reads": sum(1 for c in calls if not c.writes),
                             "calls_per_cluster": round(len(calls) / clusters, 1),
                             "acrx_rss_mb": round(usage.ru_maxrss / 1024, 1)}
            out["throttled"] = sandbox.world.qps.throttled
    finally:
        sandbox.stop()
    out["process_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clusters", default="1,10,50,100")
    parser.add_argument("--accounts", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--parallelism", type=int, default=None, help="default: the CLI's")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(one(args.one, args.accounts, args.latency, args.parallelism)))
        return 0
    sizes = [int(n) for n in args.clusters.split(",")]
    rows = []
    for n in sizes:
        pool = ["--parallelism", str(args.parallelism)] if args.parallelism else []
        proc = subprocess.run([sys.executable, __file__, "--one", str(n), "--accounts", str(args.accounts),
                               "--latency", str(args.latency), *pool],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
            return 1
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    base = {k: rows[0][k]["wall_s"] for k in ("setup", "plan")} if sizes[0] == 1 else None
    from acrx.cli.fleet_defaults import DEFAULT_PARALLELISM

    print(f"latency {args.latency * 1000:.0f} ms per call, QPS limits on, "
          f"parallelism {args.parallelism or DEFAULT_PARALLELISM}, "
          f"up to {args.accounts} cluster accounts")
    print(f"{'clusters':>8} {'run':>5} {'exit':>4} {'wall s':>8} {'calls':>6} {'reads':>6} {'calls/cl':>8} "
          f"{'x 1-cl':>7} {'throttled':>9} {'acrx RSS MB':>11} {'sandbox RSS MB':>14}")
    for row in rows:
        for name in ("plan", "setup"):
            r = row[name]
            ratio = f"{r['wall_s'] / base[name]:.2f}" if base and base[name] else "-"
            print(f"{row['clusters']:>8} {name:>5} {r['exit']:>4} {r['wall_s']:>8.2f} {r['calls']:>6} {r['reads']:>6} "
                  f"{r['calls_per_cluster']:>8} {ratio:>7} {row['throttled']:>9} {r['acrx_rss_mb']:>11} "
                  f"{row['process_rss_mb']:>14}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
