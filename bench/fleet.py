"""Issue 16: a fleet on the sandbox's fleet scenario, at a per-call latency (default 50 ms) with
the per-account, per-API QPS limits on.

    python bench/fleet.py --clusters 1,10,50,100 [--accounts 3] [--latency 0.05] [--parallelism N]

(--parallelism: the CLI's default, acrx.cli.fleet_defaults.DEFAULT_PARALLELISM, unless given.)

For each size, in a fresh process holding the sandbox: a full `acrx fleet setup --yes
--no-verify`, then a no-change `acrx fleet plan` (3 times, --repeat: the median is shown), each
run as a child process (the CLI as a user runs it, start-up included); for each, the wall time,
the API calls, the calls per cluster, the wall time against the single-cluster figure of the
same run, acrx's CPU time and peak RSS (os.wait4 on the child). "sandbox RSS" is the process holding the sandbox (one Kubernetes API server per
cluster); "throttled" counts the sandbox's refusals. The pacing floor is the least wall time acrx's
token buckets allow for the calls a no-change plan made (pacing_floor): with 34 clusters in an
account, CS's 35/10(s) per API bounds a 100-cluster plan at ~9.6 s however little CPU it takes.
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

# The sandbox's in-cluster controllers (the credential helper of every cluster) reconcile in this
# process, on the machine acrx runs on; at 0.5 s, 100 of them took ~4.5 s of CPU during a 10 s
# plan, which a real fleet's clusters never take from acrx. They reconcile every 5 s here (a setup
# with --no-verify waits for none of them); --reconcile changes it.
RECONCILE_S = 5.0


def pacing_floor(calls) -> tuple[float, str]:
    """The shortest wall acrx's own pacing allows for `calls` (sandbox Call records): per account,
    region and API, the calls beyond the bucket's burst at acrx's share of the published rate
    (acrx.cloud.ratelimit, acrx.cloud.api_limits), the slowest of them; and which one that is.
    A floor that ignores the order calls depend on, so the real wall is above it."""
    from collections import Counter

    from acrx.cloud.api_limits import region_key, windows_for
    from acrx.cloud.ratelimit import SHARE

    worst, which = 0.0, "-"
    counts = Counter((c.account, f"{c.service}:{c.action}", region_key(f"{c.service}:{c.action}", c.region))
                     for c in calls)
    for (account, action, _), n in counts.items():
        for limit, period in windows_for(action):
            seconds = max(0.0, n - max(1.0, limit * (1 - SHARE))) / (limit / period * SHARE)
            if seconds > worst:
                worst, which = seconds, f"{action} x{n} in one account at {limit}/{period:g}s"
    return round(worst, 2), which


def _run(sandbox, state: Path, env: dict, args: list[str], parallelism: int | None, clusters: int) -> dict:
    mark = sandbox.world.calls.mark()
    started = time.monotonic()
    pool = ["--parallelism", str(parallelism)] if parallelism else []
    proc = subprocess.Popen([sys.executable, "-m", "acrx", "--sandbox", str(state), "fleet", *args,
                             *pool, "-f", str(state / "acrx.yaml")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    calls = sandbox.world.calls.since(mark)
    return {"exit": os.waitstatus_to_exitcode(status), "wall_s": round(wall, 2), "calls": len(calls),
            "reads": sum(1 for c in calls if not c.writes), "calls_per_cluster": round(len(calls) / clusters, 1),
            "acrx_rss_mb": round(usage.ru_maxrss / 1024, 1), "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
            "floor": pacing_floor(calls)}


def one(clusters: int, accounts: int, latency: float, parallelism: int | None, repeat: int = 3,
        reconcile_s: float = RECONCILE_S) -> dict:
    """The sandbox in this process; acrx as a child process, as a user runs it, so that its peak
    RSS (os.wait4) is acrx's alone. The setup once, then the no-change plan `repeat` times: its
    figures are the run of median wall time (a busy machine makes single runs noisy)."""
    from acrx.sandbox.fleet import FleetSandbox

    sandbox = FleetSandbox(clusters, min(accounts, clusters), reconcile_interval_s=reconcile_s).start()
    out: dict = {"clusters": clusters, "accounts": min(accounts, clusters)}
    try:
        with tempfile.TemporaryDirectory(prefix="acrx-bench-fleet-") as tmp:
            state = Path(tmp) / "sb"
            env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
            env["ACRX_STATE_DIR"] = str(Path(tmp) / "journal")
            sandbox.write_state(state)
            sandbox.world.knobs.latency_s = latency
            out["setup"] = _run(sandbox, state, env, ["setup", "--yes", "--no-verify"], parallelism, clusters)
            plans = sorted((_run(sandbox, state, env, ["plan", "--detailed-exitcode"], parallelism, clusters)
                            for _ in range(max(1, repeat))), key=lambda r: r["wall_s"])
            out["plan"] = {**plans[len(plans) // 2], "walls": [r["wall_s"] for r in plans],
                           "exit": max(r["exit"] for r in plans)}
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
    parser.add_argument("--repeat", type=int, default=3, help="no-change plans per size (the median is shown)")
    parser.add_argument("--reconcile", type=float, default=RECONCILE_S, help="sandbox controllers' interval, s")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(one(args.one, args.accounts, args.latency, args.parallelism, args.repeat, args.reconcile)))
        return 0
    sizes = [int(n) for n in args.clusters.split(",")]
    rows = []
    for n in sizes:
        pool = ["--parallelism", str(args.parallelism)] if args.parallelism else []
        proc = subprocess.run([sys.executable, __file__, "--one", str(n), "--accounts", str(args.accounts),
                               "--latency", str(args.latency), "--repeat", str(args.repeat),
                               "--reconcile", str(args.reconcile), *pool],
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
          f"{'x 1-cl':>7} {'throttled':>9} {'acrx CPU s':>10} {'acrx RSS MB':>11} {'sandbox RSS MB':>14}")
    for row in rows:
        for name in ("plan", "setup"):
            r = row[name]
            ratio = f"{r['wall_s'] / base[name]:.2f}" if base and base[name] else "-"
            print(f"{row['clusters']:>8} {name:>5} {r['exit']:>4} {r['wall_s']:>8.2f} {r['calls']:>6} {r['reads']:>6} "
                  f"{r['calls_per_cluster']:>8} {ratio:>7} {row['throttled']:>9} {r['cpu_s']:>10} "
                  f"{r['acrx_rss_mb']:>11} {row['process_rss_mb']:>14}")
    print("no-change plan walls (s), sorted, per size: "
          + "; ".join(f"{row['clusters']}: {row['plan']['walls']}" for row in rows))
    print("pacing floor of each no-change plan (acrx's share of the published limits; the wall is above it): "
          + "; ".join(f"{row['clusters']}: {row['plan']['floor'][0]} s ({row['plan']['floor'][1]})" for row in rows))
    if base:
        last = rows[-1]
        print(f"targets: {last['clusters']}-cluster plan {last['plan']['wall_s'] / base['plan']:.2f}x the 1-cluster "
              f"plan (<= 3); peak acrx RSS {max(r[k]['acrx_rss_mb'] for r in rows for k in ('plan', 'setup'))} MB "
              f"(< 300); {last['plan']['calls_per_cluster']} calls per cluster")
    return 0


if __name__ == "__main__":
    sys.exit(main())
