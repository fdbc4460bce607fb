"""Issue 16: cen planning reads in rounds (acrx.steps.network.cen_reads). The cen planner's reads
overlap where they need nothing from each other, and overlapping changes nothing but the wall
time: the same calls, the same plan, the same error where a read fails. The reference is the
planner as written, in sequence: the read pool at one worker and no cen read-ahead."""

from __future__ import annotations

from collections import Counter

import pytest

from acrx.steps import prefetch
from acrx.steps.network import cen_reads
from tests.sandbox_fixture import running_sandbox

pytestmark = pytest.mark.timeout(600)

LATENCY_S = 0.3   # per call; the overlap checked below needs calls to start within this of each other


@pytest.fixture(autouse=True)
def _state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ACRX_STATE_DIR", str(tmp_path / "state"))


def _plan(run_cli, sb, *flags, latency: float = 0.0):
    sb.world.knobs.latency_s = latency
    mark = sb.mark()
    try:
        result = run_cli("--sandbox", sb.dir, "plan", "--detailed-exitcode", "-f", sb.config_path, *flags)
    finally:
        sb.world.knobs.latency_s = 0.0
    return result, sb.calls_since(mark)


def _kinds(calls) -> Counter:
    return Counter((c.service, c.action, c.account) for c in calls)


def _rounds(calls) -> int:
    """Rounds among `calls`: a call is one round after the latest-round call that ended before it began."""
    calls = sorted(calls, key=lambda c: c.started)
    depth: list[int] = []
    for i, call in enumerate(calls):
        depth.append(1 + max((depth[j] for j in range(i) if calls[j].ended <= call.started), default=0))
    return max(depth, default=0)


def _overlap(a, b) -> bool:
    return a.started < b.ended and b.started < a.ended


def _cbn(calls):
    return [c for c in calls if c.service == "cbn"]


def _sequential(m) -> None:
    """The reference: one read at a time and no cen read-ahead, the planner's reads as written."""
    m.setattr(prefetch, "MAX_WORKERS", 1)
    m.setattr(cen_reads, "prefetch", lambda ctx: None)


def _sequential_too(run_cli, sb, monkeypatch, *flags, latency: float = 0.0):
    """The same plan overlapped (at `latency` per call), then in sequence (at none: one call at a
    time needs no latency to be seen in order)."""
    overlapped = _plan(run_cli, sb, *flags, latency=latency)
    with monkeypatch.context() as m:
        _sequential(m)
        sequential = _plan(run_cli, sb, *flags)
    return overlapped, sequential


def test_no_change_cen_plan_reads_the_hub_in_four_rounds_with_the_calls_of_a_sequential_plan(
        run_cli, tmp_path, monkeypatch):
    with running_sandbox(tmp_path, network="cen") as sb:
        setup = run_cli("--sandbox", sb.dir, "setup", "--yes", "--no-verify", "-f", sb.config_path)
        assert setup.exit_code == 0, setup.stderr[-3000:]
        (overlapped, calls), (sequential, one_by_one) = _sequential_too(run_cli, sb, monkeypatch, latency=LATENCY_S)
        assert overlapped.exit_code == 0, overlapped.stdout + overlapped.stderr
        assert sequential.exit_code == 0, sequential.stdout + sequential.stderr
        assert _kinds(calls) == _kinds(one_by_one)      # no call added or dropped
        assert overlapped.stdout == sequential.stdout    # the same plan
        assert overlapped.stderr == sequential.stderr    # the same warnings, in the same order
        cbn = _cbn(calls)
        by = {action: [c for c in cbn if c.action == action] for action in {c.action for c in cbn}}
        assert len(by["DescribeCens"]) == 2 and _overlap(*by["DescribeCens"])   # the old layout's name and the hub's
        opened = [by["ListTransitRouters"][0], by["ListTransitRouterVpcAttachments"][0],
                  by["DescribeGrantRulesToResource"][0]]  # what the CEN's id opens, side by side
        assert all(_overlap(a, b) for a in opened for b in opened if a is not b), opened
        assert _overlap(by["ListTransitRouterRouteTableAssociations"][0],
                        by["ListTransitRouterRouteTablePropagations"][0])
        # the chain: DescribeCens, then the router (with the attachments and grant), its route
        # table, its links; in sequence each of the 8 reads is a round of its own
        assert _rounds(cbn) == 4, [(c.action, c.started, c.ended) for c in cbn]
        assert _rounds(_cbn(one_by_one)) == len(_cbn(one_by_one)) == 8
        # the cen reads start beside discovery's, not after it: the hub lookups begin before the
        # registry side's last VPC read has ended
        vpc_reads = [c for c in calls if c.service == "vpc"]
        assert min(c.started for c in by["DescribeCens"]) < max(c.ended for c in vpc_reads)


@pytest.mark.parametrize("scenario,flags", [("default", ()), ("cen-multizone", ()),
                                            ("cen-multizone-missing", ("--create-zone-vswitch",))])
def test_first_cen_plan_reads_what_a_sequential_plan_reads(run_cli, tmp_path, monkeypatch, scenario, flags):
    """No CEN yet: the zones, the vSwitch lists a missing zone needs and B's grants are read ahead."""
    with running_sandbox(tmp_path, scenario=scenario, network="cen") as sb:
        (overlapped, calls), (sequential, one_by_one) = _sequential_too(run_cli, sb, monkeypatch, *flags)
        assert overlapped.exit_code == 3, overlapped.stdout + overlapped.stderr
        assert sequential.exit_code == 3, sequential.stdout + sequential.stderr
        assert _kinds(calls) == _kinds(one_by_one)
        assert overlapped.stdout == sequential.stdout
        assert overlapped.stderr == sequential.stderr
        actions = Counter(c.action for c in calls)
        assert actions["ListTransitRouterAvailableResource"] == 1
        assert actions["ListTransitRouters"] == 0   # no CEN: nothing of one is read


def test_multizone_missing_without_the_option_stops_with_the_sequential_error(run_cli, tmp_path, monkeypatch):
    with running_sandbox(tmp_path, scenario="cen-multizone-missing", network="cen") as sb:
        (overlapped, _), (sequential, _) = _sequential_too(run_cli, sb, monkeypatch)
        assert overlapped.exit_code == sequential.exit_code == 2, overlapped.stderr
        assert overlapped.stderr == sequential.stderr
        assert "--create-zone-vswitch" in overlapped.stderr


def test_a_failing_cen_read_read_ahead_surfaces_where_the_sequential_plan_meets_it(run_cli, tmp_path, monkeypatch):
    """Two cen reads of one round fail: the plan says the error of the one plan_cen reads first
    (the routers), as the one-at-a-time plan does, and nothing is written."""
    fault = ("Forbidden.RAM", "User not authorized to operate on the specified resource.", 403)
    with running_sandbox(tmp_path, network="cen") as sb:
        setup = run_cli("--sandbox", sb.dir, "setup", "--yes", "--no-verify", "-f", sb.config_path)
        assert setup.exit_code == 0, setup.stderr[-3000:]
        results = []
        for in_sequence in (False, True):
            with monkeypatch.context() as m:
                if in_sequence:
                    _sequential(m)
                sb.world.knobs.scripted_faults = {"ListTransitRouters": [fault],
                                                  "ListTransitRouterVpcAttachments": [fault]}
                result, calls = _plan(run_cli, sb)
                sb.world.knobs.scripted_faults = {}
            assert not [c for c in calls if c.writes], calls
            results.append((result, Counter(c.action for c in calls)))
        (overlapped, read), (sequential, read_one_by_one) = results
        assert overlapped.exit_code == sequential.exit_code == 1, overlapped.stdout + overlapped.stderr
        assert "ListTransitRouters" in overlapped.stderr and "Forbidden.RAM" in overlapped.stderr
        assert _first_line(overlapped.stderr) == _first_line(sequential.stderr)
        # each failed read made once: the planner meets the error the read-ahead kept, not a new read
        assert read["ListTransitRouters"] == read_one_by_one["ListTransitRouters"] == 1
        assert read["ListTransitRouterVpcAttachments"] == 1           # read ahead beside the routers
        assert read_one_by_one["ListTransitRouterVpcAttachments"] == 0   # in sequence the plan stopped before it


def _first_line(stderr: str) -> str:
    """The error line, its request id left out (each call has its own)."""
    import re

    line = next(line for line in stderr.splitlines() if "Forbidden.RAM" in line)
    return re.sub(r"[Rr]equest[ _-]?[Ii][Dd][:= ]*\S+", "request id", line)
