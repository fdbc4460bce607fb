"""Carries out exactly the changes of a Plan, through one handler per change kind.

Apply never re-plans: it runs the plan's non-no-op changes, each once its dependencies are done,
independent ones side by side in a thread pool. Values known only after apply (Ref) are filled in
from the outputs of the changes they point at, or from the journal when resuming.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Protocol

from acrx import cancel
from acrx.errors import AcrxError
from acrx.execute.journal import NullJournal
from acrx.execute.progress import ProgressReporter, SilentProgress
from acrx.execute.wait import wait_until
from acrx.plan.change import Change, Ref, Sensitive, encode_value, map_values
from acrx.plan.plan import Plan


class Handler(Protocol):
    """Applies changes of one kind. Optional: `required_inputs` (data keys that must hold a real
    value once Refs are resolved) and `describe(change) -> str` (the progress line)."""

    def apply(self, change: Change, ctx: "ApplyContext") -> Mapping[str, Any] | None: ...


class ApplyFailed(AcrxError):
    def __init__(self, address: str, cause: BaseException, applied: list[str],
                 failures: list[tuple[str, BaseException]] | None = None, resumable: bool = False):
        self.address = address
        self.cause = cause
        self.applied = list(applied)
        self.failures = failures or [(address, cause)]
        detail = " ".join(str(cause).split()) or type(cause).__name__
        others = [a for a, _ in self.failures if a != address]
        also = f" (also failed: {', '.join(others)})" if others else ""
        hint = None
        if resumable:
            hint = (f"{len(self.applied)} change(s) before the failure are journaled; after fixing "
                    "the cause, apply the same plan again to resume with the rest")
        super().__init__(f"applying {address} failed: {detail}{also}", hint)


@dataclass
class ApplyContext:
    """What a handler gets besides its change: progress, a bound wait, earlier outputs."""

    address: str
    progress: ProgressReporter
    outputs: Mapping[str, Mapping[str, Any]]
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = cancel.sleep
    fingerprint: str = ""
    apply_id: str = ""

    def client_token(self, suffix: str = "") -> str:
        """An idempotency token (ClientToken) for this change's create call: the same for every
        retry inside this apply, so a retry after a lost answer returns the first resource, and
        different in a later apply (after a destroy the same plan must create anew). 32 hex
        characters fit every Alibaba Cloud API's ClientToken limit (64 ASCII characters)."""
        material = "\0".join((self.fingerprint, self.apply_id, self.address, suffix))
        return hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]

    def wait_until(self, check, *, what: str, budget_s: float, **kwargs):
        """`acrx.execute.wait.wait_until`, reporting each wait on the progress view."""
        kwargs.setdefault("clock", self.clock)
        kwargs.setdefault("sleep", self.sleep)
        return wait_until(check, what=what, budget_s=budget_s,
                          on_wait=lambda elapsed: self.progress.waiting(self.address, what, elapsed),
                          **kwargs)

    def report(self, what: str) -> None:
        """A handler's own progress line for a long step (e.g. "installing addon")."""
        self.progress.step_started(self.address, what)


@dataclass
class ApplyResult:
    fingerprint: str
    applied: list[str] = field(default_factory=list)     # in completion order
    resumed: list[str] = field(default_factory=list)     # done by an earlier, interrupted run
    unchanged: list[str] = field(default_factory=list)   # the plan's no-ops
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    actions: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "applied": [{"address": a, "action": self.actions.get(a),
                         "seconds": round(self.seconds.get(a, 0.0), 3)} for a in self.applied],
            "resumed": list(self.resumed),
            "unchanged": list(self.unchanged),
            "outputs": encode_value(self.outputs),
        }


class _Unresolved(AcrxError):
    pass


class Executor:
    def __init__(self, handlers: Mapping[str, Any], journal=None, *, max_workers: int = 4,
                 progress: ProgressReporter | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = cancel.sleep):
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        self.handlers = dict(handlers)
        self.journal = journal if journal is not None else NullJournal()
        self.max_workers = max_workers
        self.progress = progress or SilentProgress()
        self.clock = clock
        self.sleep = sleep

    def _handler(self, change: Change):
        handler = self.handlers.get(change.kind or "")
        if handler is None:
            raise AcrxError(f"{change.address}: no handler for change kind {change.kind!r}")
        return handler

    def apply(self, plan: Plan, resume: Mapping[str, Mapping[str, Any]] | None = None) -> ApplyResult:
        """Apply `plan`. `resume` maps addresses an interrupted run already applied, and that a
        fresh read shows are still in place, to their outputs: those are skipped (as are the
        addresses this executor's own journal holds as done)."""
        resume = dict(resume or {})
        self._resume = resume
        result = ApplyResult(fingerprint=plan.fingerprint)
        self._fingerprint, self._apply_id = plan.fingerprint, secrets.token_hex(8)
        outputs = result.outputs
        for change in plan.pending:  # fail before any write if a kind cannot be applied
            self._handler(change)
        completed: set[str] = set()
        for change in plan.changes:
            if change.is_noop:
                # What a no-op "outputs" is what was observed; Refs to it resolve from there.
                outputs[change.address] = _observed(change.after)
                result.unchanged.append(change.address)
                completed.add(change.address)
            elif change.address in resume or self.journal.done(change.address):
                outputs[change.address] = dict(resume.get(change.address)
                                               or self.journal.outputs(change.address) or {})
                result.resumed.append(change.address)
                completed.add(change.address)
        todo = [c for c in plan.pending if c.address not in completed]
        failures: list[tuple[str, BaseException]] = []
        running: dict[Future, tuple[Change, float]] = {}
        interrupted: BaseException | None = None
        pool = ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix="acrx-apply")
        # On a cancel (acrx.cancel: Ctrl-C, SIGTERM) no new change starts; the running ones end at
        # their next wait or call, and the signal handler can name them meanwhile.
        in_flight = cancel.applying(lambda: [c.address for c, _ in list(running.values())])
        in_flight.__enter__()
        try:
            while todo or running:
                if not failures and interrupted is None and not cancel.cancelled():
                    for change in list(todo):
                        if len(running) >= self.max_workers:
                            break
                        if not set(change.all_dependencies()) <= completed:
                            continue
                        todo.remove(change)
                        try:
                            resolved = self._resolve(change, outputs)
                        except _Unresolved as exc:
                            self.progress.step_failed(change.address, exc)
                            self.journal.record_failed(change.address, change.action.value, str(exc))
                            failures.append((change.address, exc))
                            break
                        future = pool.submit(self._run_one, resolved, dict(outputs))
                        running[future] = (change, self.clock())
                if not running:
                    break
                try:
                    finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
                except KeyboardInterrupt as exc:
                    # Stop scheduling; let what runs finish so the journal records it.
                    interrupted = exc
                    cancel.cancel()
                    continue
                for future in finished:
                    change, started = running.pop(future)
                    try:
                        produced = future.result()
                    except (KeyboardInterrupt, cancel.Interrupted) as exc:
                        # Cancelled mid-change: its journal line stays "started", so a resume
                        # plans it again; it is not a failure of the change.
                        interrupted = interrupted or exc
                        continue
                    except BaseException as exc:  # noqa: BLE001 - every failure stops the apply
                        self.progress.step_failed(change.address, exc)
                        self.journal.record_failed(change.address, change.action.value,
                                                   " ".join(str(exc).split()))
                        failures.append((change.address, exc))
                        continue
                    outputs[change.address] = produced
                    result.applied.append(change.address)
                    result.actions[change.address] = change.action.value
                    result.seconds[change.address] = self.clock() - started
                    self.journal.record_done(change.address, change.action.value, produced)
                    self.progress.step_done(change.address, produced)
                    completed.add(change.address)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            in_flight.__exit__(None, None, None)
        if interrupted is not None or (cancel.cancelled() and todo):
            raise _interrupted(plan, result, self.journal.path) from None
        if failures:
            address, cause = failures[0]
            raise ApplyFailed(address, cause, result.applied, failures,
                              resumable=self.journal.path is not None) from cause
        self.journal.finished()
        return result

    def _resolve(self, change: Change, outputs: Mapping[str, Mapping[str, Any]]) -> Change:
        def resolve(leaf: Any) -> Any:
            if isinstance(leaf, Sensitive) or leaf.address == change.address:
                return leaf  # a Ref to this change's own output only describes the result
            produced = outputs.get(leaf.address)
            if produced is None or leaf.attribute not in produced:
                why = ("secrets are never journaled, so a resumed apply cannot recover it; "
                       "plan again" if (self.journal.done(leaf.address)
                                        or leaf.address in getattr(self, "_resume", {}))
                       else f"applying {leaf.address} did not return it")
                raise _Unresolved(f"{change.address} needs {leaf.describe()}, but {why}")
            return produced[leaf.attribute]

        data = map_values(dict(change.data), resolve)
        after = map_values(change.after, resolve)
        handler = self._handler(change)
        for key in getattr(handler, "required_inputs", ()) or ():
            if data.get(key) is None:
                raise _Unresolved(f"{change.address}: input {key!r} has no value")
        return change.with_values(after, data)

    def _run_one(self, change: Change, outputs: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
        handler = self._handler(change)
        describe = getattr(handler, "describe", None)
        what = describe(change) if callable(describe) else f"{change.action} {change.kind}"
        self.journal.started(change.address, change.action.value)
        self.progress.step_started(change.address, what)
        ctx = ApplyContext(change.address, self.progress, outputs, self.clock, self.sleep,
                           fingerprint=getattr(self, "_fingerprint", ""),
                           apply_id=getattr(self, "_apply_id", ""))
        apply = handler.apply if hasattr(handler, "apply") else handler
        produced = apply(change, ctx)
        if produced is None:
            return {}
        if not isinstance(produced, Mapping):
            raise AcrxError(f"{change.address}: handler returned {type(produced).__name__}, "
                            "not a mapping of outputs")
        return dict(produced)


def _interrupted(plan: Plan, result: ApplyResult, journal_path) -> cancel.Interrupted:
    done = len(result.applied) + len(result.resumed)
    total = len(plan.pending)
    where = f" (journal {journal_path})" if journal_path is not None else ""
    return cancel.Interrupted(
        f"{done} of {total} change(s) done, {total - done} not started or cut short",
        hint=f"run the same command again to resume: the {done} done change(s) are journaled{where}")


def _observed(after: Any) -> dict[str, Any]:
    if not isinstance(after, Mapping):
        return {}
    return {k: v for k, v in after.items() if not isinstance(v, Ref)}
