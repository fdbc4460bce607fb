"""Issue 16: reads that do not depend on each other overlap (acrx.steps.prefetch, the warm-up of
acrx.steps.warmup, the rounds of discovery), and overlapping changes nothing but the wall time:
the same calls, the same plan, the errors and warnings a sequential plan shows, cancellable."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from acrx import cancel
from acrx.errors import CloudError, PreflightError
from acrx.steps import prefetch
from acrx.steps.context import StepContext
from acrx.sandbox.kube.helper_chain import HELPER_NAME
from acrx.steps.setup import preflight_all
from tests.sandbox_fixture import running_sandbox

LATENCY_S = 0.1


def _no_change_plan(run_cli, sb, latency: float):
    """A no-change plan at `latency` per call: (result, its calls)."""
    sb.world.knobs.latency_s = latency
    mark = sb.mark()
    result = run_cli("--sandbox", sb.dir, "plan", "--detailed-exitcode", "-f", sb.config_path)
    sb.world.knobs.latency_s = 0.0
    # The cluster's credential helper refreshes its token on its own schedule (the sandbox's
    # in-cluster controller, over HTTP like acrx): its calls are not the plan's.
    return result, [c for c in sb.calls_since(mark)
                    if c.session != HELPER_NAME and c.action != "AssumeRoleWithOIDC"]


def _most_at_once(calls) -> int:
    edges = sorted([(c.started, 1) for c in calls] + [(c.ended, -1) for c in calls], key=lambda e: (e[0], e[1]))
    now = most = 0
    for _, step in edges:
        now += step
        most = max(most, now)
    return most


@pytest.mark.timeout(600)
@pytest.mark.parametrize("network", ["peering", "public"])
def test_overlapped_plan_makes_the_calls_and_the_plan_of_a_sequential_one(run_cli, tmp_path, monkeypatch, network):
    with running_sandbox(tmp_path, network=network) as sb:
        setup = run_cli("--sandbox", sb.dir, "setup", "--yes", "--no-verify", "-f", sb.config_path)
        assert setup.exit_code == 0, setup.stderr[-3000:]
        overlapped, calls = _no_change_plan(run_cli, sb, LATENCY_S)
        assert overlapped.exit_code == 0, overlapped.stdout + overlapped.stderr
        monkeypatch.setattr(prefetch, "MAX_WORKERS", 1)   # one read at a time: the sequential plan
        sequential, one_by_one = _no_change_plan(run_cli, sb, LATENCY_S)
        assert sequential.exit_code == 0, sequential.stdout + sequential.stderr
        kinds = lambda cs: Counter((c.service, c.action, c.account) for c in cs)  # noqa: E731
        assert kinds(calls) == kinds(one_by_one)          # overlapping adds and drops no call
        assert overlapped.stdout == sequential.stdout      # nor changes the plan
        assert overlapped.stderr == sequential.stderr      # nor its warnings or their order
        assert _most_at_once(calls) >= 4, "the plan's independent reads did not overlap"
        assert _most_at_once(one_by_one) < _most_at_once(calls)
        # each thing read once: the instance, the cluster's route table(s), B's VPC
        counts = Counter(f"{c.service}:{c.action}" for c in calls)
        assert counts["cr:GetInstance"] == 1, counts
        b_vpcs = [c for c in calls if c.action == "DescribeVpcAttribute" and c.account == sb.seeded.account_b]
        assert len(b_vpcs) <= 1, counts


def _ctx() -> StepContext:
    return StepContext(config=None, session=None)


def test_a_prefetched_error_surfaces_where_the_planner_reads_it_once():
    ctx, calls = _ctx(), Counter()

    def failing():
        calls["bad"] += 1
        raise CloudError("Forbidden.RAM", "no", request_id="r1", http_status=403)

    def fine():
        calls["good"] += 1
        return {"id": "vpc-1"}

    ctx.prefetch({"bad": failing, "good": fine})
    assert calls == {"bad": 1, "good": 1}
    assert ctx.memo("good", fine) == {"id": "vpc-1"} and calls["good"] == 1   # the answer is in the memo
    with pytest.raises(CloudError) as raised:
        ctx.memo("bad", failing)
    assert raised.value.code == "Forbidden.RAM" and calls["bad"] == 1         # the kept error, not a re-read
    with pytest.raises(CloudError):
        ctx.memo("bad", failing)
    assert calls["bad"] == 2                                                   # read again after, as in sequence


def test_parallel_answers_in_order_and_raises_the_first_failing_read():
    ctx = _ctx()
    assert ctx.parallel([lambda: (time.sleep(0.2), 1)[1], lambda: 2, lambda: 3]) == [1, 2, 3]

    def slow_failure():
        time.sleep(0.2)
        raise PreflightError("first", field="cluster.id")

    def quick_failure():
        raise PreflightError("second", field="cluster.region")

    with pytest.raises(PreflightError, match="first"):
        ctx.parallel([slow_failure, quick_failure])


def test_reads_overlap_up_to_the_bound():
    ctx, lock, running, most = _ctx(), threading.Lock(), [0], [0]

    def read():
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.3)
        with lock:
            running[0] -= 1
        return True

    ctx.parallel([read] * (prefetch.MAX_WORKERS + 4))
    assert 2 <= most[0] <= prefetch.MAX_WORKERS + 1   # the pool's threads and the caller, who helps


def test_nested_reads_on_a_full_pool_do_not_deadlock():
    ctx = _ctx()

    def outer(i):
        return sum(ctx.parallel([lambda j=j: (time.sleep(0.01), i * j)[1] for j in range(4)]))

    wide = prefetch.MAX_WORKERS * 2
    assert ctx.parallel([lambda i=i: outer(i) for i in range(wide)]) == [i * 6 for i in range(wide)]


def test_a_cancelled_run_stops_waiting_for_its_reads():
    ctx, release = _ctx(), threading.Event()

    def stuck():   # a read retrying, as reads wait: through cancel.sleep
        for _ in range(600):
            if release.is_set():
                return 1
            cancel.sleep(0.1)
        return 1

    timer = threading.Timer(0.3, cancel.cancel)
    timer.start()
    started = time.monotonic()
    try:
        with pytest.raises(cancel.Interrupted):
            ctx.prefetch({"a": stuck, "b": stuck})
        assert time.monotonic() - started < 30   # not the 60 s the reads would take
    finally:
        release.set()
        timer.cancel()
    assert not ctx.known("a")


class _Step:
    def __init__(self, name, warning, delay, error=None):
        self.name, self.warning, self.delay, self.error = name, warning, delay, error

    def preflight(self, ctx):
        ctx.warn(self.warning)
        time.sleep(self.delay)
        if self.error:
            raise PreflightError(self.error, field=self.name)


def test_preflights_side_by_side_warn_and_fail_as_in_sequence():
    said: list[str] = []
    ctx = StepContext(config=None, session=None, warn=said.append)
    steps = [_Step("first", "warning one", 0.3), _Step("second", "warning two", 0.2, error="second fails"),
             _Step("third", "warning three", 0.0, error="third fails")]
    with pytest.raises(PreflightError, match="second fails"):
        preflight_all(ctx, steps)
    # the third step's warning is not said: in sequence it would never have run
    assert said == ["warning one", "warning two"]
