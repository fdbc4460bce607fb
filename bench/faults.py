"""A seeded fault campaign: setups across the mode x network matrix with random fault knobs and a
random SIGINT or SIGKILL during the first apply, each re-run until it succeeds (at most 3 attempts).

    python bench/faults.py --runs 200 --seed 1 [--jobs 4] [--json results.json]

Each run has its own in-process sandbox; acrx runs as a real subprocess (`acrx --sandbox DIR ...`)
so that it can be interrupted or killed like a user's or a CI job's run. The knobs are set on the
running sandbox with `acrx sandbox faults`, the way a user practises failures. After the run
converged the knobs are cleared and the run is checked, reading the cloud back with the official
SDKs (bench/inventory.py), never through acrx:

- `acrx plan --detailed-exitcode` exits 0 (the world is what the config asks for);
- no resource of any kind exists twice (a second CEN, peering, attachment, zone, AccessKey ...);
- after `acrx destroy --yes`, nothing that was not there before setup is left;
- no secret of the sandbox (AccessKey secrets, STS tokens, the kube token) appears in any output
  of acrx, in its journals or in a saved plan;
- no traceback in acrx's output or from the sandbox's servers, and no command ran past its limit.

It prints one row per outcome and a summary table; the exit code is 0 only when every run
converged and every check held. tests/test_fault_campaign.py runs twelve of these; 200 is the
benchmark whose figures go into the closing notes.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

MODES = ("rrsa", "worker-role", "access-key")
NETWORKS = ("public", "peering", "cen")
MAX_ATTEMPTS = 3
COMMAND_LIMIT_S = 300       # a command still running after this is a hang
SIGINT_GRACE_S = 60         # an interrupted run must have exited by then (the contract is 5 s)


@dataclass
class RunResult:
    index: int
    mode: str
    network: str
    knobs: dict
    interruption: str | None = None       # "SIGINT@2.1s" / "SIGKILL@0.7s"; None when it finished first
    attempts: int = 0
    converged: bool = False
    plan_exit: int | None = None
    destroy_exit: int | None = None
    duplicates: list = field(default_factory=list)
    leaks: list = field(default_factory=list)
    secrets: list = field(default_factory=list)
    tracebacks: int = 0
    hangs: int = 0
    seconds: float = 0.0
    last_error: str = ""

    @property
    def clean(self) -> bool:
        return (self.converged and self.plan_exit == 0 and self.destroy_exit == 0 and not self.duplicates
                and not self.leaks and not self.secrets and not self.tracebacks and not self.hangs)


class _Tee(io.TextIOBase):
    """sys.stderr while a run lasts: the sandbox's servers print their tracebacks there."""

    def __init__(self, inner):
        self.inner, self.buffer_text, self._lock = inner, [], threading.Lock()

    def write(self, text):
        with self._lock:
            self.buffer_text.append(text)
        return len(text)

    def flush(self):
        pass

    def text(self) -> str:
        with self._lock:
            return "".join(self.buffer_text)


class Campaign:
    def __init__(self, *, seed: int, clock_scale: float, workdir: Path, verbose: bool):
        self.seed, self.clock_scale, self.workdir, self.verbose = seed, clock_scale, workdir, verbose
        self.acrx = [sys.executable, "-m", "acrx"]

    # -- one acrx command ----------------------------------------------------------------------
    def _acrx(self, result: RunResult, outputs: list[str], args: list[str], *, interrupt=None) -> int | None:
        """Run acrx; `interrupt` = (signal, delay_s). Returns the exit code, None for a hang."""
        proc = subprocess.Popen(self.acrx + args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=self.env, text=True, start_new_session=True)
        timer = None
        if interrupt is not None:
            sig, delay = interrupt

            def fire():
                if proc.poll() is None:
                    result.interruption = f"{sig.name}@{delay:.1f}s"
                    with contextlib.suppress(ProcessLookupError):
                        proc.send_signal(sig)
            timer = threading.Timer(delay, fire)
            timer.start()
        try:
            out, err = proc.communicate(timeout=COMMAND_LIMIT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            result.hangs += 1
            outputs += [out, err]
            return None
        finally:
            if timer is not None:
                timer.cancel()
        outputs += [out, err]
        if result.interruption and result.interruption.startswith("SIGINT") and interrupt is not None:
            pass
        if "Traceback (most recent call last)" in out + err:
            result.tracebacks += 1
        if proc.returncode not in (0, 3):
            lines = err.strip().splitlines() or [""]
            errors = [line for line in lines if line.startswith(("error:", "interrupted"))]
            result.last_error = (errors or lines)[-1][:300]
        return proc.returncode

    def _faults(self, result: RunResult, outputs: list[str], state: Path, knobs: dict | None) -> None:
        """Set (or, with None, clear) the running sandbox's knobs through `acrx sandbox faults`."""
        args = ["sandbox", "faults", "--state-dir", str(state)]
        if knobs is None:
            args.append("--clear")
        else:
            for key, value in knobs.items():
                args += [f"--{key}", str(value)]
        code = self._acrx(result, outputs, args)
        if code != 0:
            raise RuntimeError(f"acrx sandbox faults failed ({code}): {outputs[-1][-400:]}")

    # -- one run -------------------------------------------------------------------------------
    def run(self, index: int) -> RunResult:
        from acrx.sandbox.app import Sandbox
        from bench import inventory

        rng = random.Random(self.seed * 100_003 + index)
        mode, network = rng.choice(MODES), rng.choice(NETWORKS)
        knobs = {"latency": f"{rng.choice([0, 5, 20])}ms", "throttle": round(rng.uniform(0, 0.1), 3),
                 "error-rate": round(rng.uniform(0, 0.05), 3), "reset-rate": round(rng.uniform(0, 0.02), 3),
                 "lost-answer-rate": round(rng.uniform(0, 0.02), 3),
                 "consistency-delay": f"{rng.choice([0, 0, 1, 3])}s", "seed": rng.randrange(1 << 30)}
        result = RunResult(index, mode, network, knobs)
        started = time.monotonic()
        state = self.workdir / f"run-{index}"
        outputs: list[str] = []
        tee = _Tee(sys.stderr)
        secrets: set[str] = set()
        with contextlib.redirect_stderr(tee), Sandbox(clock_scale=self.clock_scale) as sandbox:
            sandbox.write_state(state, mode=mode, network=network)
            self.env = {**os.environ, "ACRX_STATE_DIR": str(state / "state"), "NO_COLOR": "1"}
            self.env.pop("ACRX_SANDBOX", None)
            base = ["--sandbox", str(state)]
            config = ["-f", str(state / "acrx.yaml")]
            flags = ["--allow-plaintext-access-key"] if mode == "access-key" else []
            before = inventory.take(sandbox)
            secrets |= _secrets(sandbox)
            self._faults(result, outputs, state, knobs)
            for attempt in range(1, MAX_ATTEMPTS + 1):
                result.attempts = attempt
                interrupt = None
                if attempt == 1 and rng.random() < 0.75:
                    interrupt = (rng.choice([signal.SIGINT, signal.SIGKILL]), round(rng.uniform(0.5, 8.0), 1))
                code = self._acrx(result, outputs, base + ["setup", *config, "--yes", "--no-verify", *flags],
                                  interrupt=interrupt)
                secrets |= _secrets(sandbox)
                if code == 0:
                    result.converged = True
                    break
            self._faults(result, outputs, state, None)
            if result.converged:
                saved = state / "saved-plan.json"
                result.plan_exit = self._acrx(result, outputs, base + ["plan", *config, "--detailed-exitcode",
                                                                        "--out", str(saved), *flags])
                outputs.append(saved.read_text() if saved.exists() else "")
                after_setup = inventory.take(sandbox)
                result.duplicates = _duplicates(after_setup, before)
            result.destroy_exit = self._acrx(result, outputs, base + ["destroy", *config, "--yes"])
            after_destroy = inventory.take(sandbox)
            result.leaks = [f"{kind} {name}" for kind, name in after_destroy.minus(before)]
            secrets |= _secrets(sandbox)
            outputs += _journals(state / "state")
        server_log = tee.text()
        result.tracebacks += server_log.count("Traceback (most recent call last)")
        text = "\n".join(outputs)
        result.secrets = sorted({_mask(s) for s in secrets if s and s in text})
        result.seconds = round(time.monotonic() - started, 1)
        return result


def _secrets(sandbox) -> set[str]:
    """Every secret value the sandbox has handed out so far (root keys, RAM user keys, STS tokens)."""
    found = set()
    for cred in list(sandbox.world.keyring._by_id.values()):   # the sandbox's own record, read-only
        found.add(cred.secret)
        if getattr(cred, "security_token", None):
            found.add(cred.security_token)
    kubeconfig = sandbox.cluster.kubeconfig_yaml()
    for line in kubeconfig.splitlines():
        if line.strip().startswith("token:"):
            found.add(line.split(":", 1)[1].strip())
    return {s for s in found if s and len(s) >= 12}


def _duplicates(after, before) -> list[str]:
    from collections import Counter

    new = Counter(after.items)
    new.subtract(Counter(before.items))
    return sorted(f"{kind} {name} x{n + Counter(before.items)[(kind, name)]}"
                  for (kind, name), n in new.items()
                  if n > 0 and n + Counter(before.items)[(kind, name)] > 1)


def _journals(state_dir: Path) -> list[str]:
    if not state_dir.exists():
        return []
    return [p.read_text(errors="replace") for p in state_dir.rglob("*") if p.is_file()]


def _mask(secret: str) -> str:
    return secret[:4] + "..." if len(secret) > 4 else "..."


def summary(results: list[RunResult]) -> dict:
    return {
        "runs": len(results),
        "converged": sum(r.converged for r in results),
        "re-runs needed": sum(max(r.attempts - 1, 0) for r in results),
        "interrupted": sum(r.interruption is not None for r in results),
        "plan not clean": sum(r.converged and r.plan_exit != 0 for r in results),
        "duplicates": sum(len(r.duplicates) for r in results),
        "leaks": sum(len(r.leaks) for r in results),
        "secrets": sum(len(r.secrets) for r in results),
        "tracebacks": sum(r.tracebacks for r in results),
        "hangs": sum(r.hangs for r in results),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=12)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--clock-scale", type=float, default=0.02,
                        help="real seconds per cloud second of slow work (RRSA, peering, CEN ...)")
    parser.add_argument("--json", type=Path, help="also write every run's result here")
    parser.add_argument("--workdir", type=Path, help="keep each run's state here (default: a temporary dir)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="runs side by side, each in its own process (a run waits on acrx processes and "
                             "the sandbox clock far more than it computes)")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    os.environ.pop("ACRX_SANDBOX", None)
    import tempfile

    results: list[RunResult] = []
    with tempfile.TemporaryDirectory(prefix="acrx-faults-") as tmp:
        workdir = args.workdir or Path(tmp)
        for result in _runs(args, workdir):
            results.append(result)
            results.sort(key=lambda r: r.index)
            status = "ok" if result.clean else "FAIL"
            print(f"{status:4} run {result.index:3}  {result.mode:11} {result.network:8} attempts {result.attempts}  "
                  f"{result.interruption or '-':14} {result.seconds:6.1f}s"
                  + ("" if result.clean else f"  {_problems(result)}"), flush=True)
            if args.json:   # after every run, so a long campaign cut short still leaves its figures
                _write(args.json, results)
    table = summary(results)
    print()
    width = max(len(k) for k in table)
    for key, value in table.items():
        print(f"{key:<{width}}  {value}")
    if args.json:
        _write(args.json, results)
    return 0 if all(r.clean for r in results) else 1


def _one_run(seed: int, clock_scale: float, workdir: Path, verbose: bool, index: int) -> RunResult:
    """One run in a worker process. Each run seeds its own random from (seed, index), so which run
    gets which mode, knobs and interruption does not depend on --jobs."""
    os.environ.pop("ACRX_SANDBOX", None)
    return Campaign(seed=seed, clock_scale=clock_scale, workdir=workdir, verbose=verbose).run(index)


def _runs(args, workdir: Path):
    """Results as runs finish. Side by side, each run has its own process: a run redirects the
    process's stderr to catch its sandbox servers' tracebacks, which threads would mix up."""
    if args.jobs <= 1:
        for index in range(args.runs):
            yield _one_run(args.seed, args.clock_scale, workdir, args.verbose, index)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # spawn, not fork: a clean interpreter per worker, nothing of the parent's state shared.
    with ProcessPoolExecutor(max_workers=args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(_one_run, args.seed, args.clock_scale, workdir, args.verbose, index)
                   for index in range(args.runs)]
        try:
            for future in as_completed(futures):
                yield future.result()
        except BaseException:   # a run that raised (or Ctrl-C): start no further run
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def _write(path: Path, results: list[RunResult]) -> None:
    path.write_text(json.dumps({"summary": summary(results), "runs": [asdict(r) for r in results]}, indent=2))


def _problems(r: RunResult) -> str:
    parts = []
    if not r.converged:
        parts.append(f"did not converge ({r.last_error})")
    if r.converged and r.plan_exit != 0:
        parts.append(f"plan exit {r.plan_exit}")
    if r.destroy_exit != 0:
        parts.append(f"destroy exit {r.destroy_exit} ({r.last_error})")
    for name in ("duplicates", "leaks", "secrets"):
        if getattr(r, name):
            parts.append(f"{name}: {', '.join(getattr(r, name)[:4])}")
    if r.tracebacks:
        parts.append(f"{r.tracebacks} traceback(s)")
    if r.hangs:
        parts.append(f"{r.hangs} hang(s)")
    return "; ".join(parts)


if __name__ == "__main__":
    sys.exit(main())
