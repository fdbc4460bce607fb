"""The chain of dependent reads of a run, for bench/plan.py (issue 16: "a no-change plan for one
cluster within 1.5x the chain of dependent reads").

While a run is recorded, every cloud call acrx makes (acrx.cloud.adapter's `invoke`) is kept with
its start and end, the identifiers in its request and those in its answer.

Two depths per call, both counted in calls of one latency each:

- data depth (the chain the target is against): a call needs the answer that first revealed an
  identifier its request carries that is not written in the config file (known from the config,
  it is needed from no answer). The depth of a call is
  1 + the greatest, over its identifiers, of the least depth of an earlier answer holding that
  identifier (0 for identifiers no answer held: derived from the config, like acrx's role names).
  An identifier is a string with a '-', '.' or ':' (vpc-..., a domain, an ARN), a number of 8
  digits or more (an account uid), or 12 or more letters mixed with digits (a hex zone id).
  So a call on the cluster's VPC comes one call after DescribeClusterDetail, however the code is
  written; a read a planner makes only when another read found something (the tags of a role that
  exists) counts after the read that found it (the role's name is in its answer). The chain is the
  greatest data depth: the fewest rounds of calls any planner could use, whatever its overlap.
- run depth (what the code did): 1 + the greatest run depth of the calls that ended before it
  started. It says how many rounds the run really used; run depth above data depth is overlap left
  on the table, wall above run depth x latency is local overhead (start-up, signing, the plan).
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field

# an id or name: has a '-', '.' or ':' (vpc-..., a domain, an ARN), or is a long number (an account
# uid), or mixes letters and digits over 12 characters or more (a hex zone id)
_ID = re.compile(r"^(?=.*[-.:])[A-Za-z0-9][A-Za-z0-9_.:/-]{4,}$|^\d{8,}$|^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9]{12,}$")


def identifiers(value, out: set[str] | None = None) -> set[str]:
    """Every id-like string scalar inside `value` (dicts, lists, comma-separated strings)."""
    out = set() if out is None else out
    if isinstance(value, dict):
        for item in value.values():
            identifiers(item, out)
    elif isinstance(value, (list, tuple)):
        for item in value:
            identifiers(item, out)
    elif isinstance(value, str):
        for part in value.split(","):
            part = part.strip()
            if _ID.match(part):
                out.add(part)
    elif isinstance(value, int) and not isinstance(value, bool) and value >= 10 ** 7:
        out.add(str(value))
    return out


@dataclass
class Call:
    action: str
    started: float
    ended: float = 0.0
    asks: set[str] = field(default_factory=set)
    answers: set[str] = field(default_factory=set)


class Recorder:
    """Wraps acrx.cloud.adapter.invoke while recording; `chain()` after the run."""

    def __init__(self, known: set[str]):
        self.known = known
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        self._saved = None

    def __enter__(self):
        from acrx.cloud import adapter

        self._saved = original = adapter.invoke

        def recorded(get_client, method, *args, action, **kwargs):
            asks: set[str] = set()
            for arg in args:
                to_map = getattr(arg, "to_map", None)
                identifiers(to_map() if callable(to_map) else arg, asks)
            call = Call(action, time.perf_counter(), asks=asks - self.known)
            try:
                body = original(get_client, method, *args, action=action, **kwargs)
            finally:
                call.ended = time.perf_counter()
                with self._lock:
                    self.calls.append(call)
            call.answers = identifiers(body)
            return body

        adapter.invoke = recorded
        return self

    def __exit__(self, *exc):
        from acrx.cloud import adapter

        adapter.invoke = self._saved

    def depths(self) -> list[tuple[Call, int, int]]:
        """(call, data depth, run depth) in the order the calls started."""
        calls = sorted(self.calls, key=lambda c: c.started)
        data: list[int] = []
        run: list[int] = []
        for i, call in enumerate(calls):
            earlier = [j for j in range(i) if calls[j].ended <= call.started]
            need = 0
            for ident in call.asks:
                holders = [data[j] for j in earlier if ident in calls[j].answers]
                if holders:
                    need = max(need, min(holders))
            data.append(need + 1)
            run.append(1 + max((run[j] for j in earlier), default=0))
        return list(zip(calls, data, run))

    def chain(self) -> dict:
        rows = self.depths()
        return {"calls": len(rows), "data_depth": max((d for _, d, _ in rows), default=0),
                "run_depth": max((r for _, _, r in rows), default=0)}


def config_strings(path) -> set[str]:
    """Every identifier written in the config file (known before any call)."""
    import yaml

    return identifiers(yaml.safe_load(path.read_text()) or {})
