"""The process-wide cancellation event: Ctrl-C or SIGTERM sets it, every wait and retry loop obeys it.

A leaf module like acrx.errors (imports nothing from acrx), so every layer may use it. Waits go
through `sleep()`, which wakes at once when the event is set and raises Interrupted; loops that do
not sleep call `check()` between steps. The apply loop registers what is in flight with
`applying()`, so the signal handler can say what it is finishing.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Callable, Iterator


class Interrupted(BaseException):
    """The run was cancelled (exit 130). Not an Exception, so `except Exception` in a step or a
    retry loop cannot swallow it; not a KeyboardInterrupt either, which typer would turn into a
    silent exit 130 before acrx could say how to resume."""

    hint: str | None = None

    def __init__(self, message: str = "interrupted", hint: str | None = None):
        super().__init__(message)
        if hint is not None:
            self.hint = hint


_event = threading.Event()
_in_flight: list[Callable[[], list[str]]] = []   # a stack: the innermost apply reports


def cancelled() -> bool:
    return _event.is_set()


def cancel() -> None:
    _event.set()


def reset() -> None:
    """A new run in this process (tests run the CLI in-process) starts uncancelled."""
    _event.clear()


def check() -> None:
    if _event.is_set():
        raise Interrupted()


def sleep(seconds: float) -> None:
    """time.sleep that returns early, raising Interrupted, as soon as the run is cancelled."""
    check()
    if _event.wait(max(float(seconds), 0.0)):
        raise Interrupted()


@contextlib.contextmanager
def applying(in_flight: Callable[[], list[str]]) -> Iterator[None]:
    """Mark an apply as running; `in_flight()` names the changes it would finish on a cancel."""
    _in_flight.append(in_flight)
    try:
        yield
    finally:
        _in_flight.remove(in_flight)


def in_flight() -> list[str] | None:
    """The addresses an apply is carrying out now, or None when no apply runs."""
    if not _in_flight:
        return None
    try:
        return list(_in_flight[-1]())
    except RuntimeError:   # the running set changed under us; say nothing rather than fail
        return []
