"""Connection failures that waiting cannot mend, and the line the user sees when a connection
fails and acrx retries.

A name that does not resolve ("Name or service not known") or nothing listening on this machine
(connection refused on loopback) fails the same way ten times: acrx stops at the first and says
which host. Any other connection failure is retried under the policy, and the first retry prints
one line (host and attempt count) through the notice hook the CLI sets, so a minute of retries
is never a minute of silence. The cloud layer never prints itself.
"""

from __future__ import annotations

import re
import threading
from typing import Callable

from acrx.cloud.sandbox_target import is_loopback

_HOST = re.compile(r"host='([^']+)', port=(\d+)")
_DNS = ("NameResolutionError", "Name or service not known", "nodename nor servname", "Failed to resolve")

_notice: Callable[[str], None] | None = None
_lock = threading.Lock()
_calling = threading.local()   # the endpoint of this thread's current call, for messages


def set_notice(notice: Callable[[str], None] | None) -> None:
    """Where retry notices go (the CLI's stderr console); None: nowhere."""
    global _notice
    _notice = notice


def calling(client) -> None:
    """Note the endpoint the SDK client of this thread is about to call (its `_endpoint`)."""
    _calling.endpoint = getattr(client, "_endpoint", None)


def target(err) -> str | None:
    """host:port of the failed connection, as requests quotes it, else the endpoint called."""
    found = _HOST.search(str(err))
    return f"{found.group(1)}:{found.group(2)}" if found else getattr(_calling, "endpoint", None)


def dead_end(err) -> str | None:
    """Why retrying `err` cannot help, or None."""
    if getattr(err, "connection", None) != "not_sent":
        return None
    text, where = str(err), target(err)
    if any(marker in text for marker in _DNS):
        host = where.rsplit(":", 1)[0] if where else "the service's host"
        return f"{host} does not resolve (not retried: a wrong endpoint or region stays wrong)"
    if "Connection refused" in text and where and is_loopback(where):
        return f"nothing listens on {where} (not retried: is the local service running?)"
    return None


def first_retry(err, action: str, max_attempts: int) -> None:
    """The one line for a connection failure that is about to be retried."""
    if getattr(err, "connection", None) is None or _notice is None:
        return
    where = target(err) or "the service"
    reason = getattr(err, "code", "") or "connection failed"
    with _lock:
        _notice(f"{action}: cannot reach {where} ({reason}); retrying, attempt 2 of {max_attempts}")
