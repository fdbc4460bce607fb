"""What the user sees on stderr while an apply runs: which step of how many, what it waits for,
how long.

On a terminal, a live view of the running steps (redrawn, with elapsed time) sits under the
event lines; piped (CI logs), every event is a plain line and a heartbeat line per waiting step
comes at least every `heartbeat` seconds, so a log never goes quiet for minutes. `--quiet`
prints failures only.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Mapping, Protocol

from rich.console import Console
from rich.text import Text


class ProgressReporter(Protocol):
    def step_started(self, address: str, what: str) -> None: ...

    def waiting(self, address: str, what: str, elapsed: float) -> None: ...

    def step_done(self, address: str, outputs: Mapping[str, Any]) -> None: ...

    def step_failed(self, address: str, error: BaseException | str) -> None: ...


class SilentProgress:
    def step_started(self, address: str, what: str) -> None:
        pass

    def waiting(self, address: str, what: str, elapsed: float) -> None:
        pass

    def step_done(self, address: str, outputs: Mapping[str, Any]) -> None:
        pass

    def step_failed(self, address: str, error: BaseException | str) -> None:
        pass

    def __enter__(self) -> "SilentProgress":
        return self

    def __exit__(self, *exc: object) -> None:
        pass


class _Step:
    def __init__(self, number: int, what: str, now: float):
        self.number, self.what, self.started, self.last_line = number, what, now, now
        self.awaiting: str | None = None


class RichProgress:
    """One line per event on the given (stderr) console; safe to call from worker threads.

    Use as a context manager around the apply: it runs the heartbeat (piped) or the live view
    (terminal) while open. `total` is the number of changes to apply, for the `[3/15]` counter.
    """

    def __init__(self, console: Console, *, total: int | None = None, quiet: bool = False,
                 live: bool | None = None, clock: Callable[[], float] = time.monotonic,
                 wait_every: float = 10.0, heartbeat: float = 10.0):
        self.console = console
        self.total, self.quiet = total, quiet
        self.live = console.is_terminal and not quiet if live is None else live
        self._clock = clock
        self._wait_every, self._heartbeat = wait_every, heartbeat
        self._lock = threading.RLock()
        self._steps: dict[str, _Step] = {}
        self._running: dict[str, _Step] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._live_view = None

    # -- lifetime ---------------------------------------------------------------------------
    def __enter__(self) -> "RichProgress":
        if self.quiet:
            return self
        if self.live:
            from rich.live import Live

            # No stdout redirection: results (stdout) must never land in the progress stream.
            self._live_view = Live(self._render_running(), console=self.console, transient=True,
                                   refresh_per_second=4, get_renderable=self._render_running,
                                   redirect_stdout=False, redirect_stderr=False)
            self._live_view.start()
        else:
            self._thread = threading.Thread(target=self._beat, name="acrx-heartbeat", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._live_view is not None:
            self._live_view.stop()

    # -- the view ---------------------------------------------------------------------------
    def _counter(self, step: _Step) -> str:
        return f"[{step.number}/{self.total}]" if self.total else f"[{step.number}]"

    def _line(self, text: Text, step: _Step | None = None) -> None:
        with self._lock:
            if step is not None:
                step.last_line = self._clock()
            if not self.quiet:
                self.console.print(text, highlight=False, soft_wrap=True)

    def _render_running(self) -> Text:
        now = self._clock()
        with self._lock:
            lines = [f"  {self._counter(s)} {address}: {s.awaiting or s.what} ({now - s.started:.0f}s)"
                     for address, s in self._running.items()]
        return Text("\n".join(lines), style="dim")

    def _beat(self) -> None:
        """Piped: a line for every step that has printed nothing for `heartbeat` seconds."""
        while not self._stop.wait(min(1.0, self._heartbeat / 4)):
            now = self._clock()
            with self._lock:
                quiet_steps = [(a, s) for a, s in self._running.items() if now - s.last_line >= self._heartbeat]
            for address, step in quiet_steps:
                awaited = f"waiting for {step.awaiting}" if step.awaiting else f"still {step.what}"
                self._line(Text(f"   {self._counter(step)} {address}: {awaited} "
                                f"({now - step.started:.0f}s elapsed)"), step)

    # -- events from the executor -------------------------------------------------------------
    def step_started(self, address: str, what: str) -> None:
        with self._lock:
            step = self._steps.get(address)
            if step is None:
                step = self._steps[address] = _Step(len(self._steps) + 1, what, self._clock())
            step.what, step.awaiting = what, None
            self._running[address] = step
        line = Text()
        line.append(self._counter(step), style="bold")
        line.append(f" {address}: {what}")
        self._line(line, step)

    def waiting(self, address: str, what: str, elapsed: float) -> None:
        with self._lock:
            step = self._steps.get(address)
            if step is None:
                return
            repeat = step.awaiting == what and self._clock() - step.last_line < self._wait_every
            step.awaiting = what
        if not repeat and not self.live:
            self._line(Text(f"   {self._counter(step)} {address}: waiting for {what} ({elapsed:.0f}s elapsed)"), step)

    def _finish(self, address: str) -> tuple[_Step | None, str]:
        with self._lock:
            step = self._running.pop(address, None) or self._steps.get(address)
        took = "" if step is None else f" ({self._clock() - step.started:.1f}s)"
        return step, took

    def step_done(self, address: str, outputs: Mapping[str, Any]) -> None:
        # Outputs are not printed: they may hold secrets, and the summary shows what matters.
        step, took = self._finish(address)
        line = Text()
        line.append("ok", style="green")
        line.append(f" {self._counter(step) + ' ' if step else ''}{address}{took}")
        self._line(line, step)

    def step_failed(self, address: str, error: BaseException | str) -> None:
        step, took = self._finish(address)
        text = " ".join(str(error).split()) or type(error).__name__
        line = Text()
        line.append("failed", style="red")
        line.append(f" {self._counter(step) + ' ' if step else ''}{address}{took}: {text}")
        with self._lock:   # a failure is printed even with --quiet
            self.console.print(line, highlight=False, soft_wrap=True)
