"""Pod logs: append-only text per (namespace, pod, container), with follow support."""

from __future__ import annotations

import threading
from typing import Iterator


class PodLogs:
    def __init__(self) -> None:
        self._chunks: dict[tuple[str, str, str], list[str]] = {}
        self._changed = threading.Condition()
        self._generation: dict[tuple[str, str], int] = {}  # bumps when a pod's logs are dropped

    def append(self, namespace: str, pod: str, container: str, text: str) -> None:
        with self._changed:
            self._chunks.setdefault((namespace, pod, container), []).append(text)
            self._changed.notify_all()

    def has_output(self, namespace: str, pod: str, container: str) -> bool:
        with self._changed:
            return (namespace, pod, container) in self._chunks

    def read(self, namespace: str, pod: str, container: str, tail_lines: int | None = None) -> str:
        with self._changed:
            text = "".join(self._chunks.get((namespace, pod, container), []))
        if tail_lines is not None:
            lines = text.splitlines(keepends=True)
            text = "".join(lines[-tail_lines:]) if tail_lines > 0 else ""
        return text

    def drop_pod(self, namespace: str, pod: str) -> None:
        with self._changed:
            for key in [k for k in self._chunks if k[0] == namespace and k[1] == pod]:
                del self._chunks[key]
            self._generation[(namespace, pod)] = self._generation.get((namespace, pod), 0) + 1
            self._changed.notify_all()

    def follow(self, namespace: str, pod: str, container: str, start: int,
               stop: threading.Event, poll: float = 0.5) -> Iterator[str]:
        """Yield text appended after character offset `start` until the pod goes or `stop` is set."""
        key = (namespace, pod, container)
        with self._changed:
            generation = self._generation.get((namespace, pod), 0)
        offset = start
        while not stop.is_set():
            with self._changed:
                if self._generation.get((namespace, pod), 0) != generation:
                    return
                text = "".join(self._chunks.get(key, []))
                if len(text) <= offset:
                    self._changed.wait(poll)
                    piece = ""  # an empty piece lets the caller check its client between appends
                else:
                    piece, offset = text[offset:], len(text)
            yield piece
