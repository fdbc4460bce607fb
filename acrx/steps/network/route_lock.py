"""One route-table write at a time, across every thread of this process.

Alibaba Cloud's route entries "do not support concurrence when creating or deleting" (Terraform's
provider, resource_alicloud_route_entry.go:122-171, which holds a process lock around every route
write). The executor runs up to four changes at once, and a peering or CEN plan has several routes
on one table (B's return routes, one per node vSwitch CIDR), so their handlers take this lock for
the table: the create, and the wait until the entry is Available (the table stays busy until
then). Writes on different tables still run side by side. The cloud's busy codes are retried as
well (acrx.cloud.errors.ROUTE_BUSY_CODES), for writes made by anyone else meanwhile.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Iterator

from acrx import cancel

_locks: dict[str, threading.Lock] = {}
_guard = threading.Lock()
_POLL_S = 0.2   # how often a waiting handler looks at the cancel flag


@contextlib.contextmanager
def table_lock(route_table_id: str) -> Iterator[None]:
    with _guard:
        lock = _locks.setdefault(route_table_id, threading.Lock())
    while not lock.acquire(timeout=_POLL_S):
        cancel.check()   # Ctrl-C reaches a handler queued behind another route
    try:
        yield
    finally:
        lock.release()
