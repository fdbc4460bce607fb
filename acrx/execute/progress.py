"""What the user sees on stderr while an apply runs: which step, what it waits for, how long."""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Mapping, Protocol

from rich.console import Console
from rich.markup import escape


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


class RichProgress:
    """One line per event on the given (stderr) console; safe to call from worker threads.

    Lines rather than a redrawn live view, so CI logs read the same as a terminal. Waiting lines
    are throttled per address (`wait_every` seconds) so a 10-minute wait is not 200 lines.
    """

    def __init__(self, console: Console, *, clock: Callable[[], float] = time.monotonic,
                 wait_every: float = 10.0):
        self.console = console
        self._clock = clock
        self._wait_every = wait_every
        self._lock = threading.Lock()
        self._started: dict[str, float] = {}
        self._last_wait: dict[str, tuple[str, float]] = {}

    def _line(self, text: str) -> None:
        with self._lock:
            self.console.print(text, highlight=False, soft_wrap=True)

    def step_started(self, address: str, what: str) -> None:
        self._started[address] = self._clock()
        self._line(f"[bold]->[/bold] {escape(address)}: {escape(what)}")

    def waiting(self, address: str, what: str, elapsed: float) -> None:
        last = self._last_wait.get(address)
        now = self._clock()
        if last and last[0] == what and now - last[1] < self._wait_every:
            return
        self._last_wait[address] = (what, now)
        self._line(f"   {escape(address)}: waiting for {escape(what)} ({elapsed:.0f}s)")

    def _elapsed(self, address: str) -> str:
        start = self._started.get(address)
        return "" if start is None else f" ({self._clock() - start:.1f}s)"

    def step_done(self, address: str, outputs: Mapping[str, Any]) -> None:
        # Outputs are not printed: they may hold secrets, and the summary shows what matters.
        self._line(f"[green]ok[/green] {escape(address)}{self._elapsed(address)}")

    def step_failed(self, address: str, error: BaseException | str) -> None:
        text = " ".join(str(error).split()) or type(error).__name__
        self._line(f"[red]failed[/red] {escape(address)}{self._elapsed(address)}: {escape(text)}")
