"""One watcher's queue of (type, object) events, filtered by its selectors.

A MODIFIED event is translated the way the real watch cache does it for a filtered watch: an
object that starts matching arrives as ADDED, one that stops matching as DELETED.
"""

from __future__ import annotations

import queue
from typing import TYPE_CHECKING, Any, Callable, Iterator

if TYPE_CHECKING:
    from .store import StoreEvent

_STOP = object()


class Watch:
    def __init__(self, resource: str, matches: Callable[[dict], bool], on_stop: Callable[["Watch"], None]):
        self.resource = resource
        self._matches = matches
        self._on_stop = on_stop
        self._queue: queue.Queue = queue.Queue()
        self.stopped = False

    def offer(self, event: "StoreEvent") -> None:
        """Called by the store (lock held) for every change; keeps what this watch selects."""
        if event.resource != self.resource or self.stopped:
            return
        now = self._matches(event.obj)
        if event.type == "MODIFIED":
            before = event.old is not None and self._matches(event.old)
            if now and before:
                self.push("MODIFIED", event.obj)
            elif now:
                self.push("ADDED", event.obj)
            elif before:
                self.push("DELETED", event.obj)
        elif now:
            self.push(event.type, event.obj)

    def push(self, event_type: str, obj: dict[str, Any]) -> None:
        self._queue.put((event_type, obj))

    def get(self, timeout: float | None = None) -> tuple[str, dict[str, Any]] | None:
        """The next event, or None on timeout or once stopped."""
        if self.stopped and self._queue.empty():
            return None
        try:
            item = self._queue.get(timeout=timeout)
        except queue.Empty:
            return None
        if item is _STOP:
            self.stopped = True
            return None
        return item

    def stop(self) -> None:
        if not self.stopped:
            self.stopped = True
            self._on_stop(self)
            self._queue.put(_STOP)

    def __iter__(self) -> Iterator[tuple[str, dict[str, Any]]]:
        while True:
            item = self.get()
            if item is None:
                return
            yield item

    def __enter__(self) -> "Watch":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
