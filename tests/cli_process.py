"""acrx as a separate process, as a user (or CI) runs it: signals, exit codes and timing are real.

    with AcrxProcess(["--sandbox", sb.dir, "setup", "--yes"], state_dir) as proc:
        proc.wait_for("waiting for task")
        proc.send(signal.SIGINT)
        assert proc.wait(timeout=60) == 130

stderr is read line by line on a thread so a test can wait for what acrx says; every wait polls
with a generous deadline that ends early on success (the machine may be busy).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

PATIENCE_S = 120.0


def acrx_env(state_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env["ACRX_STATE_DIR"] = str(state_dir)
    env["ALIBABA_CLOUD_ECS_METADATA_DISABLED"] = "true"
    env["PYTHONUNBUFFERED"] = "1"
    return env


class AcrxProcess:
    def __init__(self, args: list, state_dir: Path):
        self.args = [str(a) for a in args]
        self.proc = subprocess.Popen([sys.executable, "-m", "acrx", *self.args], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=acrx_env(state_dir))
        self.pid = self.proc.pid
        self._lines: list[str] = []
        self._stdout = b""
        self._changed = threading.Condition()
        self._readers = [threading.Thread(target=self._read_err, daemon=True),
                         threading.Thread(target=self._read_out, daemon=True)]
        for reader in self._readers:
            reader.start()

    def _read_err(self) -> None:
        for raw in self.proc.stderr:
            with self._changed:
                self._lines.append(raw.decode("utf-8", "replace"))
                self._changed.notify_all()

    def _read_out(self) -> None:
        self._stdout = self.proc.stdout.read()

    @property
    def stderr(self) -> str:
        with self._changed:
            return "".join(self._lines)

    @property
    def stdout(self) -> str:
        return self._stdout.decode("utf-8", "replace")

    def wait_for(self, text: str, timeout: float = PATIENCE_S) -> float:
        """Block until stderr holds `text`; returns the monotonic time it was seen."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not any(text in line for line in self._lines):
                if self.proc.poll() is not None and not self._readers[0].is_alive():
                    raise AssertionError(f"acrx exited {self.proc.returncode} before saying {text!r}:\n"
                                         + "".join(self._lines)[-3000:])
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"acrx never said {text!r} in {timeout:.0f}s:\n" + "".join(self._lines)[-3000:])
                self._changed.wait(min(left, 0.5))
        return time.monotonic()

    def send(self, signum: int) -> float:
        self.proc.send_signal(signum)
        return time.monotonic()

    def wait(self, timeout: float = PATIENCE_S) -> int:
        code = self.proc.wait(timeout=timeout)
        for reader in self._readers:
            reader.join(timeout=30)
        return code

    def __enter__(self) -> "AcrxProcess":
        return self

    def __exit__(self, *exc) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)


def in_the_rrsa_wait(sb, proc: "AcrxProcess", mark: int) -> None:
    """Block until acrx has started the RRSA task and polled it once: it is now in the wait loop.
    Read from the sandbox's call log, so no wording of the progress view is relied on."""
    deadline = time.monotonic() + 120
    while True:
        actions = [c.action for c in sb.calls_since(mark) if c.status < 400]
        if "ModifyCluster" in actions and "DescribeTaskInfo" in actions[actions.index("ModifyCluster"):]:
            return
        assert proc.proc.poll() is None, f"acrx exited {proc.proc.returncode}:\n{proc.stderr[-3000:]}"
        assert time.monotonic() < deadline, "acrx never polled the RRSA task:\n" + proc.stderr[-3000:]
        time.sleep(0.1)


def run_acrx(args: list, state_dir: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "acrx", *[str(a) for a in args]], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout, env=acrx_env(state_dir))
