"""`python -m acrx.sandbox serve --state-dir DIR`: run the sandbox in the foreground until
SIGTERM or SIGINT. `acrx sandbox up` starts this in the background and waits for it."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from acrx.sandbox.app import ENV_FILE, KUBECONFIG_FILE, PID_FILE, Sandbox
from acrx.sandbox.scenario import VARIANTS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m acrx.sandbox")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the sandbox until SIGTERM")
    serve.add_argument("--state-dir", type=Path, required=True)
    serve.add_argument("--scenario", default="default", choices=sorted(VARIANTS) + ["fleet"])
    serve.add_argument("--clusters", type=int, default=5)   # --scenario fleet (acrx.sandbox.fleet)
    serve.add_argument("--accounts", type=int, default=2)
    serve.add_argument("--clock-scale", type=float, default=0.05)
    serve.add_argument("--port", type=int, default=0)
    serve.add_argument("--mode", default="rrsa")
    serve.add_argument("--network", default="peering")
    args = parser.parse_args(argv)

    state_dir: Path = args.state_dir
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / PID_FILE).write_text(str(os.getpid()))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if args.scenario == "fleet":
        from acrx.sandbox.fleet import FleetSandbox

        # Each cluster keeps its own mixed mode and network (--mode/--network do not apply).
        sandbox = FleetSandbox(args.clusters, args.accounts, clock_scale=args.clock_scale).start(port=args.port)
        write = lambda: sandbox.write_state(state_dir)  # noqa: E731
    else:
        sandbox = Sandbox(args.scenario, clock_scale=args.clock_scale).start(port=args.port)
        write = lambda: sandbox.write_state(state_dir, mode=args.mode, network=args.network)  # noqa: E731
    try:
        write()
        print(f"sandbox ready: cloud {sandbox.cloud.url}, registry {sandbox.registry.url}, "
              f"cluster {sandbox.cluster.url}", flush=True)
        stop.wait()
    finally:
        sandbox.stop()
        for name in (ENV_FILE, KUBECONFIG_FILE, PID_FILE):
            (state_dir / name).unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
