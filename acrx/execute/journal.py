"""The apply journal: one JSON line per event, so an interrupted apply of the same plan resumes.

The cloud is the state; this file only remembers which changes of one plan (by fingerprint)
already went through, and their outputs (minus secrets) for the changes that refer to them.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
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
    """`<state_dir>/journal/<fingerprint>.jsonl`, directory 0700 and file 0600.

    With `cluster`, the run's own file `<state_dir>/journal/<cluster>/<time>-<fingerprint>.jsonl`
    whose first record (`begin`) names the cluster, the command and the changes it set out to
    make; `unfinished()` finds such files again and `retire()` moves them aside."""

    def __init__(self, state_dir: Path | str, fingerprint: str, *,
                 clock=time.time, cluster: str | None = None, command: str | None = None,
                 pending: list[str] | None = None):
        if not fingerprint or any(c in fingerprint for c in "/\\."):
            raise ValueError("journal fingerprint must be a plain hex string")
        self.fingerprint = fingerprint
        directory = Path(state_dir) / "journal"
        name = f"{fingerprint}.jsonl"
        self._header = None
        if cluster is not None:
            directory = cluster_dir(state_dir, cluster)
            name = f"{int(clock() * 1000)}-{fingerprint[:16]}.jsonl"
            self._header = {"event": "begin", "cluster": cluster, "command": command,
                            "fingerprint": fingerprint, "pending": list(pending or [])}
        _private_dir(directory)
        self.path = directory / name
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
            if self._header is not None:   # the begin record goes first, once, on the first write
                header, self._header = self._header, None
                line = json.dumps(jsonable({"time": record["time"], **header}), sort_keys=True) + "\n" + line
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


def _private_dir(directory: Path) -> None:
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    if directory.parent.name == "journal":
        os.chmod(directory.parent, 0o700)


def cluster_dir(state_dir: Path | str, cluster: str) -> Path:
    """Where the journals of one cluster live: `<state_dir>/journal/<cluster>/`."""
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in cluster) or "_"
    return Path(state_dir) / "journal" / safe


@dataclass
class Unfinished:
    """What the unfinished runs of one command against one cluster left behind."""

    command: str | None
    started: float                                   # the latest run's begin time
    last: float                                      # its last record (when it stopped)
    pending: list[str] = field(default_factory=list)  # what the latest run set out to do
    done: dict[str, dict[str, Any]] = field(default_factory=dict)
    paths: list[Path] = field(default_factory=list)


def unfinished(state_dir: Path | str, cluster: str, command: str | None) -> Unfinished | None:
    """The unfinished journals of `command` against `cluster`, merged (oldest first, so the
    latest outputs win); None when there are none."""
    directory = cluster_dir(state_dir, cluster)
    if not directory.is_dir():
        return None
    found: Unfinished | None = None
    for path in sorted(directory.glob("*.jsonl"), key=lambda p: p.name):
        records = _records(path)
        if not records or records[0].get("event") != "begin" or records[0].get("command") != command:
            continue
        begin = records[0]
        if found is None:
            found = Unfinished(command, begin.get("time") or 0.0, 0.0)
        found.started = begin.get("time") or found.started
        found.pending = list(begin.get("pending") or [])
        found.last = max(found.last, *(r.get("time") or 0.0 for r in records))
        found.paths.append(path)
        for record in records:
            if record.get("event") == "done" and record.get("address"):
                found.done[record["address"]] = record.get("outputs") or {}
    return found


def retire(state_dir: Path | str, cluster: str, clock=time.time) -> int:
    """Move every unfinished journal of `cluster` aside (to `finished/`): a successful apply or
    destroy made the cloud the whole truth again. Returns how many were moved."""
    directory = cluster_dir(state_dir, cluster)
    if not directory.is_dir():
        return 0
    moved = 0
    done_dir = directory / "finished"
    for path in directory.glob("*.jsonl"):
        done_dir.mkdir(mode=0o700, exist_ok=True)
        try:
            os.replace(path, done_dir / path.name)
            moved += 1
        except FileNotFoundError:
            continue   # another run retired it first
    return moved


def _records(path: Path) -> list[dict[str, Any]]:
    records = []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return records
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut short by the interruption
        if isinstance(record, dict):
            records.append(record)
    return records
