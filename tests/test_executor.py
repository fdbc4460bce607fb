"""The executor with fake handlers: concurrency, order, Refs, failure then resume, the journal,
and waiting with backoff on a fake clock. Fakes of acrx's own parts are right here, and only here.
"""

from __future__ import annotations

import io
import json
import os
import stat
import threading
import time

import pytest
from rich.console import Console

from acrx.errors import AcrxError
from acrx.execute.executor import ApplyFailed, Executor
from acrx.execute.journal import Journal, NullJournal
from acrx.execute.progress import RichProgress, SilentProgress
from acrx.execute.wait import Backoff, WaitTimeout, wait_until
from acrx.plan.change import Change, Ref, Sensitive
from acrx.plan.plan import Plan


class Recorder:
    """Applies anything, records calls in order, returns an ARN-like output per address."""

    def __init__(self, fail_on=(), delay=0.0):
        self.calls: list[str] = []
        self.seen: dict[str, Change] = {}
        self.events: list[tuple[str, str]] = []
        self.fail_on = set(fail_on)
        self.delay = delay
        self.lock = threading.Lock()

    def apply(self, change, ctx):
        with self.lock:
            self.calls.append(change.address)
            self.seen[change.address] = change
            self.events.append(("start", change.address))
        if self.delay:
            time.sleep(self.delay)
        if change.address in self.fail_on:
            raise AcrxError(f"Throttling: {change.address} refused")
        with self.lock:
            self.events.append(("end", change.address))
        return {"arn": f"acs:ram::1:role/{change.address}", "id": change.address.upper()}


def change(address, action="create", deps=(), kind="fake", after=None, data=None, **kw):
    if action in ("no-op", "replace"):
        kw.setdefault("reason", "test")
    return Change(address, action, kw.pop("before", None), after if after is not None else {},
                  kind=kind, depends_on=deps, data=data or {}, **kw)


def test_independent_branches_run_concurrently():
    barrier = threading.Barrier(2, timeout=5)

    class Meet:
        def apply(self, change, ctx):
            barrier.wait()  # only returns once both changes are running at the same time
            return {"ok": change.address}

    plan = Plan([change("cluster.branch", kind="meet"), change("registry.branch", kind="meet")])
    result = Executor({"meet": Meet()}, max_workers=4).apply(plan)
    assert sorted(result.applied) == ["cluster.branch", "registry.branch"]


def test_the_barrier_test_would_catch_serial_execution():
    barrier = threading.Barrier(2, timeout=0.3)

    class Meet:
        def apply(self, change, ctx):
            barrier.wait()
            return {}

    plan = Plan([change("a", kind="meet"), change("b", kind="meet")])
    with pytest.raises(ApplyFailed):
        Executor({"meet": Meet()}, max_workers=1).apply(plan)


def test_dependencies_finish_before_dependents_start():
    rec = Recorder(delay=0.01)
    plan = Plan([
        change("c", deps=("b",)), change("b", deps=("a",)), change("a"), change("x"),
        change("y", deps=("a", "x")),
    ])
    Executor({"fake": rec}, max_workers=4).apply(plan)
    order = rec.events
    for first, then in [("a", "b"), ("b", "c"), ("a", "y"), ("x", "y")]:
        assert order.index(("end", first)) < order.index(("start", then))
    assert sorted(rec.calls) == ["a", "b", "c", "x", "y"]


def test_noops_are_never_applied_and_refs_resolve():
    rec = Recorder()
    plan = Plan([
        change("ram.role.cluster"),
        change("cs.rrsa", "no-op", after={"oidc_arn": "acs:ram::1:oidc-provider/ack-rrsa-c1"}),
        change("ram.role.registry", deps=("ram.role.cluster",),
               after={"trusted": Ref("ram.role.cluster", "arn")},
               data={"principal": Ref("ram.role.cluster", "arn"),
                     "provider": [Ref("cs.rrsa", "oidc_arn")]}),
    ])
    result = Executor({"fake": rec}).apply(plan)
    assert "cs.rrsa" not in rec.calls and result.unchanged == ["cs.rrsa"]
    got = rec.seen["ram.role.registry"]
    assert got.data == {"principal": "acs:ram::1:role/ram.role.cluster",
                        "provider": ["acs:ram::1:oidc-provider/ack-rrsa-c1"]}
    assert got.after == {"trusted": "acs:ram::1:role/ram.role.cluster"}
    assert result.outputs["ram.role.registry"]["id"] == "RAM.ROLE.REGISTRY"


def test_missing_handler_fails_before_any_write():
    rec = Recorder()
    plan = Plan([change("a"), change("b", kind="unknown.kind")])
    with pytest.raises(AcrxError, match="no handler for change kind 'unknown.kind'"):
        Executor({"fake": rec}).apply(plan)
    assert rec.calls == []


def test_required_inputs_and_missing_outputs_fail_clearly():
    class NeedsRole:
        required_inputs = ("role_arn",)

        def apply(self, change, ctx):
            return {}

    plan = Plan([change("a", kind="needs", data={"role_arn": None})])
    with pytest.raises(ApplyFailed, match="input 'role_arn' has no value"):
        Executor({"needs": NeedsRole()}).apply(plan)
    plan = Plan([change("a"), change("b", data={"x": Ref("a", "not_returned")})])
    with pytest.raises(ApplyFailed, match="needs not_returned of a, but applying a did not"):
        Executor({"fake": Recorder()}).apply(plan)


def test_failure_stops_scheduling_but_lets_running_changes_finish(tmp_path):
    started = threading.Barrier(2, timeout=5)

    class Slow:
        def apply(self, change, ctx):
            started.wait()
            time.sleep(0.2)
            return {"done": True}

    class Fails:
        def apply(self, change, ctx):
            started.wait()
            raise AcrxError("Forbidden.RAM: no permission")

    rec = Recorder()
    plan = Plan([change("slow", kind="slow"), change("bad", kind="fails"), change("later"),
                 change("after_bad", deps=("bad",))])
    journal = Journal(tmp_path / ".acrx", plan.fingerprint)
    with pytest.raises(ApplyFailed) as info:
        Executor({"slow": Slow(), "fails": Fails(), "fake": rec}, journal, max_workers=2).apply(plan)
    err = info.value
    assert err.address == "bad" and "Forbidden.RAM: no permission" in str(err)
    assert err.applied == ["slow"] and "resume" in err.hint
    assert rec.calls == []  # "later" waited for a free worker and was never scheduled
    assert journal.done("slow") and not journal.done("bad")


def test_failure_half_way_then_resume_applies_only_the_rest(tmp_path):
    state = tmp_path / ".acrx"
    plan = Plan([
        change("ram.role.cluster"),
        change("ram.role.registry", data={"trust": Ref("ram.role.cluster", "arn")}),
        change("ram.policy_attachment.registry_pull", deps=("ram.role.registry",)),
        change("k8s.configmap", data={"role": Ref("ram.role.registry", "arn")}),
    ])
    first = Recorder(fail_on={"ram.role.registry"})
    with pytest.raises(ApplyFailed, match="ram.role.registry"):
        Executor({"fake": first}, Journal(state, plan.fingerprint), max_workers=1).apply(plan)
    assert first.calls == ["ram.role.cluster", "ram.role.registry"]

    # The same plan again (same fingerprint, so the same journal): only the rest is applied,
    # and the Ref to the role created by the first run comes from the journal.
    second = Recorder()
    journal = Journal(state, plan.fingerprint)
    assert journal.completed() == ["ram.role.cluster"]
    result = Executor({"fake": second}, journal, max_workers=1).apply(plan)
    assert second.calls == ["ram.role.registry", "ram.policy_attachment.registry_pull",
                            "k8s.configmap"]
    assert result.resumed == ["ram.role.cluster"]
    assert second.seen["ram.role.registry"].data["trust"] == "acs:ram::1:role/ram.role.cluster"
    assert second.seen["k8s.configmap"].data["role"] == "acs:ram::1:role/ram.role.registry"
    # A finished apply's journal moves aside with its whole history...
    assert not journal.path.exists()
    (kept,) = (journal.path.parent / "finished").glob(f"{plan.fingerprint}-*.jsonl")
    events = [json.loads(line)["event"] for line in kept.read_text().splitlines()]
    assert events.count("done") == 4 and events[-1] == "finished" and "failed" in events

    # ...so the same plan applied again later (say after a destroy) is applied, not "resumed".
    third = Recorder()
    Executor({"fake": third}, Journal(state, plan.fingerprint), max_workers=1).apply(plan)
    assert third.calls == ["ram.role.cluster"] + second.calls


def test_journal_holds_no_secrets_and_is_private(tmp_path):
    class MakesKey:
        def apply(self, change, ctx):
            assert change.data["password"].reveal() == "PLAN-SECRET-1"
            return {"access_key_id": "LTAI-public-id",
                    "access_key_secret": Sensitive("AK-SECRET-2"),
                    "nested": [{"token": Sensitive("TOKEN-3")}, "kept"]}

    plan = Plan([change("ram.access_key.registry", kind="key",
                        data={"password": Sensitive("PLAN-SECRET-1")},
                        after={"secret": Sensitive("PLAN-SECRET-1")})])
    journal = Journal(tmp_path / ".acrx", plan.fingerprint)
    result = Executor({"key": MakesKey()}, journal).apply(plan)
    (kept,) = (journal.path.parent / "finished").glob(f"{plan.fingerprint}-*.jsonl")
    text = kept.read_text()
    for secret in ("PLAN-SECRET-1", "AK-SECRET-2", "TOKEN-3"):
        assert secret not in text
        assert secret not in json.dumps(result.to_dict())
    assert "LTAI-public-id" in text and '"kept"' in text
    assert stat.S_IMODE(os.stat(kept).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(journal.path.parent).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(kept.parent).st_mode) == 0o700
    assert journal.path.name == f"{plan.fingerprint}.jsonl"


def test_resume_cannot_invent_a_secret_output(tmp_path):
    class MakesKey:
        def apply(self, change, ctx):
            return {"secret": Sensitive("AK-SECRET")}

    plan = Plan([change("key", kind="key"),
                 change("cm", data={"secret": Ref("key", "secret")}, deps=("key",))])
    state = tmp_path / ".acrx"
    rec = Recorder(fail_on={"cm"})
    with pytest.raises(ApplyFailed):
        Executor({"key": MakesKey(), "fake": rec}, Journal(state, plan.fingerprint)).apply(plan)
    with pytest.raises(ApplyFailed, match="secrets are never journaled"):
        Executor({"key": MakesKey(), "fake": Recorder()},
                 Journal(state, plan.fingerprint)).apply(plan)


def test_journal_tolerates_a_line_cut_short(tmp_path):
    journal = Journal(tmp_path, "ab12")
    journal.record_done("a", "create", {"x": 1})
    with open(journal.path, "a") as fh:
        fh.write('{"event": "done", "address": "b", "outp')
    again = Journal(tmp_path, "ab12")
    assert again.done("a") and not again.done("b") and again.outputs("a") == {"x": 1}
    with pytest.raises(ValueError):
        Journal(tmp_path, "../escape")
    assert not NullJournal().done("a")


class FakeClock:
    def __init__(self):
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_wait_until_returns_the_check_value_with_backoff():
    clock = FakeClock()
    waits = []
    value = wait_until(lambda: clock.now >= 103 and "Running", what="addon install",
                       budget_s=60, jitter=0, clock=clock, sleep=clock.sleep,
                       on_wait=waits.append)
    assert value == "Running"
    assert clock.sleeps == pytest.approx([0.5, 0.8, 1.28, 2.048])
    assert waits == pytest.approx([0, 0.5, 1.3, 2.58])


def test_wait_until_gives_up_at_the_budget_after_one_last_check():
    clock = FakeClock()
    checks = []

    def check():
        checks.append(clock.now)
        return None

    with pytest.raises(WaitTimeout, match="gave up waiting for RRSA to be enabled after 60s") as info:
        wait_until(check, what="RRSA to be enabled", budget_s=60, max_delay=10, jitter=0,
                   clock=clock, sleep=clock.sleep)
    assert info.value.waited == pytest.approx(60)
    assert isinstance(info.value, AcrxError)
    assert checks[-1] == pytest.approx(160)  # the last check is at the budget's edge
    assert max(clock.sleeps) == 10  # capped by max_delay
    assert clock.sleeps[-1] < 10  # the last sleep is cut to what is left of the budget


def test_backoff_jitter_retry_after_and_budget():
    low = Backoff(initial=1, factor=2, max_delay=8, jitter=0.2, rng=lambda: 0.0)
    high = Backoff(initial=1, factor=2, max_delay=8, jitter=0.2, rng=lambda: 1.0)
    assert [next(low) for _ in range(5)] == pytest.approx([0.8, 1.6, 3.2, 6.4, 6.4])
    assert [next(high) for _ in range(5)] == pytest.approx([1.2, 2.4, 4.8, 9.6, 9.6])
    clock = FakeClock()
    budgeted = Backoff(initial=1, factor=2, max_delay=4, jitter=0, budget_s=10, clock=clock)
    assert budgeted.next_delay(retry_after=7) == 7  # the server's word beats max_delay
    clock.now += 7
    assert budgeted.next_delay(retry_after=7) == 3  # but never past the budget
    clock.now += 3
    with pytest.raises(StopIteration):
        budgeted.next_delay()
    assert list(Backoff(initial=1, jitter=0, budget_s=0, clock=clock)) == []
    with pytest.raises(ValueError):
        Backoff(initial=0)


def test_handler_waits_are_reported_on_the_progress_view():
    clock = FakeClock()
    buffer = io.StringIO()
    progress = RichProgress(Console(file=buffer, width=200, no_color=True), clock=clock,
                            wait_every=0)

    class Slow:
        def describe(self, change):
            return "enabling RRSA"

        def apply(self, change, ctx):
            ready = ctx.wait_until(lambda: clock.now >= 102, what="RRSA to be enabled",
                                   budget_s=60, jitter=0)
            return {"enabled": ready, "token": Sensitive("NEVER-PRINTED")}

    Executor({"slow": Slow()}, progress=progress, clock=clock, sleep=clock.sleep).apply(
        Plan([change("cs.rrsa", "update", kind="slow")]))
    lines = buffer.getvalue().splitlines()
    assert lines[0] == "[1] cs.rrsa: enabling RRSA"
    assert "   [1] cs.rrsa: waiting for RRSA to be enabled (0s elapsed)" in lines
    assert lines[-1] == "ok [1] cs.rrsa (2.6s)"
    assert "NEVER-PRINTED" not in buffer.getvalue()


def test_progress_reports_failures_and_silent_progress_is_silent(capsys):
    buffer = io.StringIO()
    progress = RichProgress(Console(file=buffer, width=200, no_color=True))
    plan = Plan([change("a")])
    with pytest.raises(ApplyFailed):
        Executor({"fake": Recorder(fail_on={"a"})}, progress=progress).apply(plan)
    assert buffer.getvalue().splitlines()[-1].startswith("failed [1] a (")
    assert buffer.getvalue().rstrip().endswith("Throttling: a refused")
    Executor({"fake": Recorder()}, progress=SilentProgress()).apply(plan)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_a_ref_to_the_changes_own_output_is_left_for_the_handler():
    rec = Recorder()
    plan = Plan([change("cs.rrsa", "update", after={"issuer": Ref("cs.rrsa", "issuer")}),
                 change("ram.role.cluster", data={"issuer": Ref("cs.rrsa", "id")})])
    result = Executor({"fake": rec}, max_workers=1).apply(plan)
    assert rec.seen["cs.rrsa"].after == {"issuer": Ref("cs.rrsa", "issuer")}
    assert rec.seen["ram.role.cluster"].data == {"issuer": "CS.RRSA"}
    assert [a["address"] for a in result.to_dict()["applied"]] == ["cs.rrsa", "ram.role.cluster"]


def test_ctrl_c_lets_running_changes_finish_and_journals_them(tmp_path, monkeypatch):
    import acrx.execute.executor as executor_module

    real_wait = executor_module.wait
    interrupts = iter([True])

    def wait_then_interrupt(futures, return_when):
        if next(interrupts, False):
            raise KeyboardInterrupt  # as if the user pressed Ctrl-C while "a" was running
        return real_wait(futures, return_when=return_when)

    monkeypatch.setattr(executor_module, "wait", wait_then_interrupt)
    rec = Recorder(delay=0.05)
    plan = Plan([change("a"), change("b", deps=("a",))])
    journal = Journal(tmp_path, plan.fingerprint)
    from acrx.cancel import Interrupted

    with pytest.raises(Interrupted, match="1 of 2 change"):   # says what is done, and how to resume
        Executor({"fake": rec}, journal, max_workers=1).apply(plan)
    assert rec.calls == ["a"] and journal.completed() == ["a"]
