"""Reads that overlap where they do not depend on each other (issue 16: "a no-change plan for one
cluster today reads 35 times in sequence").

A planner is written in sequence, which keeps it easy to read; before it reads, it names the
reads that need nothing from each other and `prefetch` runs them side by side into the run's memo
(StepContext.memo), so the sequential code that follows finds each answer there. `parallel` is the
same for reads that are not memoised on their own (the parts of one memoised reading).

- Bounded: one process-wide pool of MAX_WORKERS threads (a fleet's clusters share it), and the
  caller runs the tasks no worker has started yet, so nested reads cannot deadlock the pool.
- Rate-limited as every call is: each SDK call waits for a token of its account's per-API bucket
  (acrx.cloud.ratelimit), whichever thread makes it, so overlapping never exceeds a QPS limit.
- Errors as in sequence: a prefetched read that fails keeps its error for the planner, which
  meets it where it reads that key (StepContext.memo); a read the planner never reaches raises
  nothing. `parallel` raises the error of the first failing read in the order given.
- Cancellation: a worker checks acrx.cancel before it starts a read, retries inside a read sleep
  through cancel.sleep, and the caller stops waiting and raises Interrupted once the run is
  cancelled.
- Workers run in a copy of the caller's contextvars context, so what a caller's context carries
  (acrx.steps.context.HELD_WARNINGS: the warnings held for one step) follows the read.
"""

from __future__ import annotations

import contextvars
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any, Callable

from acrx import cancel

MAX_WORKERS = 32      # threads of the process-wide read pool; the token buckets bound each account's rate
POLL_S = 0.25         # how often a waiting caller looks at the cancel event

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _shared_pool() -> ThreadPoolExecutor:
    """One pool for the process, made on first use: a pool per call would start threads per call,
    and every ThreadPoolExecutor.submit that starts a thread holds a process-wide lock meanwhile
    (a fleet plan made thousands)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix="acrx-read")
        return _pool


def _run(thunks: list[Callable[[], Any]]) -> list[Future]:
    """Every thunk done (in a copy of the caller's context), side by side on the shared pool.

    The caller helps: a task no worker has started yet is taken back (Future.cancel) and run by
    the caller itself. So a read that waits for reads of its own (nested) never waits for a
    worker that is not coming, and a bounded pool cannot deadlock."""
    def task(thunk):
        run_in = contextvars.copy_context()

        def run():
            cancel.check()
            return run_in.run(thunk)
        return run

    tasks = [task(t) for t in thunks]
    if MAX_WORKERS <= 1:   # one at a time, in order (what a plan without overlap does)
        return [_done(t) for t in tasks]
    pool = _shared_pool()
    futures: list[Future] = [pool.submit(t) for t in tasks[1:]]
    try:
        results = [_done(tasks[0])]
        for t, future in zip(tasks[1:], futures):
            if future.cancel():   # not started: the caller runs it
                results.append(_done(t))
                continue
            while not future.done():
                cancel.check()
                wait([future], timeout=POLL_S)
            if isinstance(future.exception(), cancel.Interrupted):
                raise cancel.Interrupted()
            results.append(future)
    except BaseException:
        for future in futures:
            future.cancel()
        raise
    return results


def _done(run: Callable[[], Any]) -> Future:
    """`run()` called here, its answer or error in a finished Future (Interrupted propagates)."""
    future: Future = Future()
    try:
        future.set_result(run())
    except cancel.Interrupted:
        raise
    except Exception as error:
        future.set_exception(error)
    return future


def prefetch(ctx, reads: dict[str, Callable[[], Any]]) -> None:
    """Read each key not yet known into ctx's memo, side by side; errors wait for their reader."""
    todo = [(key, read) for key, read in reads.items() if not ctx.known(key)]
    if len(todo) == 1:
        key, read = todo[0]
        ctx.memo(key, read, keep_error=True)
    elif todo:
        for future in _run([lambda k=key, r=read: ctx.memo(k, r, keep_error=True) for key, read in todo]):
            if future.exception() is not None:   # not a read's error (kept), e.g. a bug: raise it
                raise future.exception()


class Outcome:
    """One read's answer or error; `get()` gives the answer or raises the error, so the caller
    meets each error where its sequential code would use that answer."""

    def __init__(self, future: Future | None = None, value: Any = None, error: BaseException | None = None):
        if future is not None:
            error = future.exception()
            value = None if error is not None else future.result()
        self.value, self.error = value, error

    def get(self) -> Any:
        if self.error is not None:
            raise self.error.with_traceback(None)
        return self.value


def outcomes(reads: list[Callable[[], Any]]) -> list[Outcome]:
    """Call `reads` side by side; an Outcome for each, in order."""
    if len(reads) == 1:
        try:
            return [Outcome(value=reads[0]())]
        except Exception as error:
            return [Outcome(error=error)]
    return [Outcome(f) for f in _run(list(reads))] if reads else []


def parallel(reads: list[Callable[[], Any]]) -> list[Any]:
    """The answers of `reads`, called side by side, in order; the first failing read's error."""
    return [outcome.get() for outcome in outcomes(reads)]
