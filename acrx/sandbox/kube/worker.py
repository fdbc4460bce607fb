"""A store subscriber with one daemon thread that runs a round on every wake-up and at least
once a period: the shape of the kubelet and of the credential helper controller.

Subclasses call `_init_worker()` in __init__, implement `_on_event()` (usually: decide whether
to `_wake.set()`) and `_round()`, and may override `_started()` for work after subscribing.
"""

from __future__ import annotations

import logging
import threading

from .store import ClusterStore, StoreEvent

log = logging.getLogger(__name__)


class PeriodicWorker:
    store: ClusterStore
    period_s: float = 1.0          # the longest wait between two rounds
    join_timeout_s: float = 5.0
    failure_log = "round failed"   # a round's exception is logged with this, and the worker goes on
    log = log                      # subclasses log under their own module's name

    def _init_worker(self, store: ClusterStore, period_s: float) -> None:
        self.store = store
        self.period_s = period_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._unsubscribe = None

    def _start_worker(self, thread_name: str) -> None:
        self._unsubscribe = self.store.subscribe(self._on_event)
        self._started()
        self._thread = threading.Thread(target=self._run, name=thread_name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._unsubscribe:
            self._unsubscribe()
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=self.join_timeout_s)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.period_s)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self._round()
            except Exception:  # the component keeps running whatever one round does
                self.log.exception(self.failure_log)

    def _started(self) -> None:
        """Work between subscribing and the thread's first round (none by default)."""

    def _on_event(self, event: StoreEvent) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _round(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError
