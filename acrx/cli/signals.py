"""Ctrl-C and SIGTERM: the first cancels the run (acrx.cancel), a second stops the process at once.

During an apply the first signal only sets the cancellation event: no new change starts, every
wait and retry loop wakes and raises Interrupted, and the executor reports how to resume. Outside
an apply (planning, verify, doctor) it also raises Interrupted in the main thread, as Python's own
Ctrl-C would. A second signal exits 130 at once with os._exit: the journal is written one fsync'd
line per event, so it is never left half-written, and the run lock is released first.
CI cancels jobs with SIGTERM, so SIGTERM behaves exactly like Ctrl-C.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from typing import Iterator

from acrx import cancel

SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _say(line: str) -> None:
    # os.write, not print: a handler may run while the main thread is inside a write to stderr,
    # and a buffered stream would raise "reentrant call" there.
    try:
        os.write(2, (line + "\n").encode("utf-8", "replace"))
    except OSError:
        pass


def _stop_now() -> None:
    lock = sys.modules.get("acrx.execute.lock")   # loaded whenever a lock is held; never import here

    _say("stopped at once; hint: run the same command again to resume (every finished change is journaled)")
    if lock is not None:
        lock.release_all()
    os._exit(130)


@contextlib.contextmanager
def interrupt_signals() -> Iterator[None]:
    """Install the handlers for one run (and restore the previous ones after it)."""
    cancel.reset()
    if threading.current_thread() is not threading.main_thread():
        yield   # signal.signal works only in the main thread; an embedding caller keeps its own
        return
    received = 0

    def handler(signum, frame) -> None:
        nonlocal received
        received += 1
        if received > 1:
            _stop_now()
        cancel.cancel()
        flying = cancel.in_flight()
        if flying is None:
            raise cancel.Interrupted()
        names = f" ({', '.join(flying)})" if flying else ""
        _say(f"interrupted: finishing {len(flying)} change(s) in flight{names}; Ctrl-C again to stop now")

    previous = {sig: signal.signal(sig, handler) for sig in SIGNALS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old if old is not None else signal.SIG_DFL)
