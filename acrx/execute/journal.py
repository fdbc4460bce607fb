"""The apply journal: one JSON line per event, so an interrupted apply of the same plan resumes.

The cloud is the state; this file only remembers which changes of one plan (by fingerprint)
already went through, and their outputs (minus secrets) for the changes that refer to them.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any, Mapping

from acrx.plan.change import Ref, Sensitive, jsonable

_DROP = object()


def strip_sensitive(value: Any) -> Any:
    """`value` without any Sensitive leaf (dropped, not masked: a journal never holds secrets)."""
    if isinstance(value, Sensitive):
        return _DROP
    if isinstance(value, Ref):
        return _DROP
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            cleaned = strip_sensitive(item)
            if cleaned is not _DROP:
                out[key] = cleaned
        return out
    if isinstance(value, (list, tuple)):
        return [v for v in (strip_sensitive(i) for i in value) if v is not _DROP]
    return value


class NullJournal:
    """For dry runs and tests: remembers nothing, writes nothing."""

    path: Path | None = None

    def done(self, address: str) -> bool:
        return False

    def outputs(self, address: str) -> dict[str, Any] | None:
        return None

    def completed(self) -> list[str]:
        return []

    def started(self, address: str, action: str) -> None:
        pass

    def record_done(self, address: str, action: str, outputs: Mapping[str, Any]) -> None:
        pass

    def record_failed(self, address: str, action: str, error: str) -> None:
        pass

    def finished(self) -> None:
        pass


class Journal(NullJournal):
    """`<state_dir>/journal/<fingerprint>.jsonl`, directory 0700 and file 0600."""

    def __init__(self, state_dir: Path | str, fingerprint: str, *,
                 clock=time.time):
        if not fingerprint or any(c in fingerprint for c in "/\\."):
            raise ValueError("journal fingerprint must be a plain hex string")
        self.fingerprint = fingerprint
        directory = Path(state_dir) / "journal"
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(directory, 0o700)
        self.path = directory / f"{fingerprint}.jsonl"
        self._clock = clock
        self._lock = threading.Lock()
        self._done: dict[str, dict[str, Any]] = {}
        self._load()

    def _load(self) -> None:
        if not self.path.exists():
            return
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by the interruption we are resuming from
            if record.get("event") == "done" and record.get("address"):
                self._done[record["address"]] = record.get("outputs") or {}

    def done(self, address: str) -> bool:
        return address in self._done

    def outputs(self, address: str) -> dict[str, Any] | None:
        return self._done.get(address)

    def completed(self) -> list[str]:
        return list(self._done)

    def _write(self, record: dict[str, Any]) -> None:
        record = {"time": round(self._clock(), 3), **record}
        line = json.dumps(jsonable(record), sort_keys=True) + "\n"
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                os.write(fd, line.encode("utf-8"))
                os.fsync(fd)  # a done record must survive the crash it exists for
            finally:
                os.close(fd)

    def started(self, address: str, action: str) -> None:
        self._write({"event": "started", "address": address, "action": action})

    def record_done(self, address: str, action: str, outputs: Mapping[str, Any]) -> None:
        clean = strip_sensitive(dict(outputs or {}))
        self._write({"event": "done", "address": address, "action": action, "outputs": clean})
        with self._lock:
            self._done[address] = clean

    def record_failed(self, address: str, action: str, error: str) -> None:
        self._write({"event": "failed", "address": address, "action": action, "error": error})

    def finished(self) -> None:
        """Close a complete apply: its journal moves aside, so the same plan applied again later
        (after a destroy, say) starts afresh instead of "resuming" work that no longer exists."""
        self._write({"event": "finished"})
        done_dir = self.path.parent / "finished"
        done_dir.mkdir(mode=0o700, exist_ok=True)
        os.replace(self.path, done_dir / f"{self.fingerprint}-{int(self._clock() * 1000)}.jsonl")
        with self._lock:
            self._done.clear()
