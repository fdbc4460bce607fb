"""One answer per read across the clusters of one fleet plan (issue 16).

A fleet's clusters share the registry side: without this, a no-change plan of N clusters reads the
registry instance, its endpoints, ACL, pull policy, CEN and zones N times. While the clusters are
planned (reads only, nothing written), every member session consults one ReadMemo: the first
caller of a read does it, callers of the same read wait for that answer (in flight or done). The
key is (account alias, the client's region, action, request), so each cluster's own reads (its
VPC, its roles) stay apart. The memo is switched off before anything is applied: a read after a
write must see the write. Reads that hand out a credential are never shared.
"""

from __future__ import annotations

import copy
import json
import pickle
import threading
from typing import Any, Callable

from acrx.errors import CloudError

_READ_PREFIXES = ("Get", "List", "Describe", "Check", "Query")
# A token or kubeconfig is a secret for one caller; a task's status changes while it is polled.
_NEVER = {"GetAuthorizationToken", "DescribeClusterUserKubeconfig", "DescribeTaskInfo"}


def is_shared_read(action: str) -> bool:
    name = action.split(":", 1)[-1]
    return name.startswith(_READ_PREFIXES) and name not in _NEVER


def _arg_key(arg: Any) -> str:
    to_map = getattr(arg, "to_map", None)
    value = to_map() if callable(to_map) else arg
    return json.dumps(value, sort_keys=True, default=repr)


class _Slot:
    def __init__(self):
        self.done = threading.Event()
        self.value: Any = None
        self.frozen: bytes | None = None   # the value pickled, for callers after the first
        self.error: CloudError | None = None
        self.failed = False   # the owner's read ended without an answer


class ReadMemo:
    def __init__(self):
        self._slots: dict[tuple, _Slot] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def read(self, key: tuple, fn: Callable[[], Any]) -> Any:
        with self._lock:
            slot = self._slots.get(key)
            mine = slot is None
            if mine:
                slot = self._slots[key] = _Slot()
                self.misses += 1
            else:
                self.hits += 1
        if mine:
            try:
                value = fn()
                slot.frozen = _freeze(value)
                slot.value = value if slot.frozen is None else None
            except CloudError as err:   # a missing resource is an answer too (e.g. NotFound)
                slot.error = err
            except BaseException:
                with self._lock:   # not an answer (interrupted, a bug): the next caller reads again
                    self._slots.pop(key, None)
                slot.failed = True
                slot.done.set()
                raise
            slot.done.set()
            if slot.error is None:
                return value   # the reader's own answer; the others get copies of the snapshot
        else:
            slot.done.wait()
            if slot.failed:
                return fn()
        if slot.error is not None:
            raise slot.error.with_traceback(None)   # the same answer for every caller
        return _thaw(slot)   # callers may change what they were given


def _freeze(value: Any) -> bytes | None:
    """A snapshot of `value` each caller unpickles into its own copy: for the answer maps of a
    fleet's shared reads (a listing of a hundred routes, read by a hundred clusters) several times
    cheaper than copy.deepcopy, which took 13% of a 100-cluster plan's CPU. Only values acrx
    itself built are pickled here, never bytes from elsewhere. None: not picklable, deepcopy then."""
    try:
        return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:   # noqa: BLE001 - a value pickle cannot take is copied the slow way
        return None


def _thaw(slot: _Slot) -> Any:
    return pickle.loads(slot.frozen) if slot.frozen is not None else copy.deepcopy(slot.value)


def fleet_read(session: Any, key: tuple, fn: Callable[[], Any]) -> Any:
    """`fn()` shared across the clusters of a fleet plan under `key` (a read whose answer is the
    same for every cluster that builds the same key: catalogue data, an account-wide listing);
    just `fn()` outside a fleet plan. The key must hold no secret: it names what is read."""
    memo = getattr(session, "read_memo", None)
    return fn() if memo is None else memo.read(("fleet",) + key, fn)


def memo_key(client: Any, action: str, method: str, args: tuple) -> tuple | None:
    """The key of a shareable read on `client` (an SDK client acrx.cloud.session made), else None."""
    if not is_shared_read(action):
        return None
    return (getattr(client, "acrx_account", None), getattr(client, "_region_id", None),
            getattr(client, "_endpoint", None), action, method, tuple(_arg_key(a) for a in args))
