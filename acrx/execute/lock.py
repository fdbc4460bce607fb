"""The run lock: one apply per cluster at a time (setup, the step commands, destroy).

Two applies against one cluster at once made two CEN instances and a second AccessKey on the
pull user (issue 11). The lock is `<state_dir>/locks/<cluster id>.lock`, JSON with pid, host,
command and start time, written whole to a private temporary file and then hard-linked into
place: link() fails if the name exists, so creation is atomic and nobody ever reads a half
written lock. A lock whose pid is dead on this host is taken over, with a warning; plan, every
--dry-run, verify and doctor take no lock.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import socket
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from acrx import cancel
from acrx.errors import AcrxError

POLL_S = 0.5
_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
_held: set["RunLock"] = set()   # for the second Ctrl-C, which leaves through os._exit


class LockHeld(AcrxError):
    """Another live run holds the cluster's lock (exit 1)."""

    def __init__(self, cluster_id: str, holder: dict, path: Path, waited_s: float | None = None):
        self.holder = holder
        self.path = path
        waited = f" (waited {waited_s:.0f}s)" if waited_s is not None else ""
        super().__init__(
            f"another acrx run holds the lock for cluster {cluster_id}: {describe(holder)}{waited}",
            hint=f"wait for that run to end, or pass --lock-timeout 2m to wait for it; the lock is {path} "
                 "(delete it only when that run is surely gone)")


def describe(holder: dict) -> str:
    command = holder.get("command") or "acrx"
    return (f"pid {holder.get('pid', '?')} on {holder.get('host', '?')}, `{command}`, "
            f"since {holder.get('started', '?')}")


def lock_path(state_dir: Path | str, cluster_id: str) -> Path:
    name = cluster_id if _SAFE.fullmatch(cluster_id) else \
        "cluster-" + hashlib.sha256(cluster_id.encode("utf-8")).hexdigest()[:16]
    return Path(state_dir) / "locks" / f"{name}.lock"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:   # someone else's live process
        return True
    except (OverflowError, ValueError):
        return False
    return True


class RunLock:
    def __init__(self, path: Path, record: dict):
        self.path = path
        self.record = record

    def release(self) -> None:
        """Remove the lock if it is still ours (a takeover by another run is never undone)."""
        _held.discard(self)
        try:
            if _read(self.path).get("token") == self.record["token"]:
                self.path.unlink()
        except OSError:
            pass

    def __enter__(self) -> "RunLock":
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def release_all() -> None:
    for held in list(_held):
        held.release()


def _read(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _create(path: Path, record: dict) -> bool:
    """Place the lock atomically; False when a lock is already there."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.{record['token']}")
    _write(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), record)
    try:
        try:
            os.link(temp, path)
        except FileExistsError:
            return False
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP):
                raise
            return _create_excl(path, record)   # no hard links here: O_EXCL on the name itself
        return True
    finally:
        with contextlib.suppress(OSError):
            temp.unlink()


def _create_excl(path: Path, record: dict) -> bool:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    _write(fd, record)
    return True


def _write(fd: int, record: dict) -> None:
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(record, sort_keys=True))
        handle.flush()
        os.fsync(handle.fileno())


def _stale(holder: dict, host: str) -> bool:
    """Dead for sure: recorded on this host by a pid that no longer runs. A lock from another
    host, or one we cannot read yet, is never judged stale."""
    pid = holder.get("pid")
    return holder.get("host") == host and isinstance(pid, int) and pid > 0 and not _pid_alive(pid)


def _take_over(path: Path, holder: dict) -> bool:
    """Remove a stale lock, but only the one judged stale: a guard file (O_EXCL) lets one taker
    at a time look again and unlink it, so two takers never remove each other's fresh lock."""
    guard = path.with_name(path.name + ".takeover")
    try:
        fd = os.open(guard, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        with contextlib.suppress(OSError):   # a taker that died between these lines leaves its guard
            if time.time() - guard.stat().st_mtime > 30:
                guard.unlink()
        return False
    os.close(fd)
    try:
        try:
            if _read(path).get("token") != holder.get("token"):
                return False
        except FileNotFoundError:
            return True
        path.unlink()
        return True
    finally:
        with contextlib.suppress(OSError):
            guard.unlink()


def acquire(state_dir: Path | str, cluster_id: str, command: str, *, timeout_s: float = 0.0,
            warn: Callable[[str], None] = lambda message: None,
            clock: Callable[[], float] = time.monotonic) -> RunLock:
    """Take the cluster's lock, waiting up to `timeout_s` (cancellably) for a live holder."""
    path = lock_path(state_dir, cluster_id)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    host = socket.gethostname()
    record = {"pid": os.getpid(), "host": host, "command": command, "cluster": cluster_id,
              "started": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
              "token": os.urandom(8).hex()}
    started = clock()
    told = False
    while True:
        cancel.check()
        if _create(path, record):
            lock = RunLock(path, record)
            _held.add(lock)
            return lock
        try:
            holder = _read(path)
        except FileNotFoundError:
            continue   # released between our attempt and the read: try again at once
        if _stale(holder, host):
            if _take_over(path, holder):
                warn(f"took over the lock for cluster {cluster_id} from a run that is gone ({describe(holder)})")
            continue
        waited = clock() - started
        if waited >= timeout_s:
            raise LockHeld(cluster_id, holder, path, waited if timeout_s > 0 else None)
        if not told:
            warn(f"waiting up to {timeout_s:g}s for the lock for cluster {cluster_id}, held by {describe(holder)}")
            told = True
        cancel.sleep(min(POLL_S, max(timeout_s - waited, 0.01)))
