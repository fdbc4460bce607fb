"""Ctrl-C and SIGTERM (issue 11, item 5): prompt, safe, resumable.

Each test runs `acrx setup` as its own process against a sandbox whose RRSA task takes a real
minute (clock scale 1), signals it while it waits for that task, and checks what a user sees: the
"finishing ... in flight" line, exit 130 within 5 s of the signal, a resume hint, a journal that
parses line by line, no run lock left behind, and a re-run that converges.
"""

from __future__ import annotations

import json
import re
import signal
import time

import pytest

from tests.cli_process import AcrxProcess, in_the_rrsa_wait, run_acrx
from tests.sandbox_fixture import running_sandbox

CONTRACT_S = 5.0          # issue 11: exit 130 within 5 s of the signal (an HTTP call in flight aside)


def _setup_args(sb, *extra):
    return ["--sandbox", sb.dir, "setup", "-f", sb.config_path, "--yes", "--no-verify", *extra]


def _journal_lines(state_dir):
    lines = []
    for path in sorted(state_dir.rglob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            lines.append(json.loads(line))   # every line is whole: one fsync'd write per event
    return lines


def _finish_slow_work(sb):
    """Let the sandbox's running tasks end now, and later ones at once."""
    sb.world.knobs.latency_s = 0.0
    sb.world.clock.scale = 0.0
    sb.world.clock.advance(3600)


def _converges(sb, state_dir):
    rerun = run_acrx(_setup_args(sb), state_dir)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    plan = run_acrx(["--sandbox", sb.dir, "plan", "-f", sb.config_path, "--detailed-exitcode"], state_dir)
    assert plan.returncode == 0, plan.stdout[-3000:] + plan.stderr[-2000:]


def _no_lock_left(state_dir):
    assert list(state_dir.glob("locks/*.lock")) == []


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_during_the_rrsa_wait_exits_130_promptly_with_a_resume_hint(tmp_path, signum):
    state = tmp_path / "state"
    with running_sandbox(tmp_path, clock_scale=1.0, network="public") as sb:
        mark = sb.mark()
        with AcrxProcess(_setup_args(sb), state) as proc:
            in_the_rrsa_wait(sb, proc, mark)
            sent = proc.send(signum)
            code = proc.wait()
            took = time.monotonic() - sent
            err = proc.stderr
        assert code == 130, err[-3000:]
        assert took < CONTRACT_S, f"exit took {took:.1f}s after the signal"
        # cs.rrsa waits for its task; other lanes may still have a change running beside it
        assert re.search(r"^interrupted: finishing \d+ change\(s\) in flight \([^)]*cs\.rrsa[^)]*\); "
                         r"Ctrl-C again to stop now$", err, re.M), err[-3000:]
        assert "hint: run the same command again to resume" in err
        assert "Traceback" not in err
        events = _journal_lines(state)
        done = {e["address"] for e in events if e.get("event") == "done"}
        started = {e["address"] for e in events if e.get("event") == "started"}
        assert "cs.rrsa" in started and "cs.rrsa" not in done   # cut short, so a resume does it again
        _no_lock_left(state)
        _finish_slow_work(sb)
        _converges(sb, state)


def test_a_second_ctrl_c_stops_at_once_while_a_call_is_in_flight(tmp_path):
    """The first Ctrl-C waits for the HTTP call in flight (here one the sandbox holds for 60 s);
    the second exits at once, and leaves the journal whole and the lock released."""
    state = tmp_path / "state"
    with running_sandbox(tmp_path, clock_scale=1.0, network="public") as sb:
        mark = sb.mark()
        with AcrxProcess(_setup_args(sb), state) as proc:
            in_the_rrsa_wait(sb, proc, mark)
            sb.world.knobs.latency_s = 60.0
            # The task is polled every ~2 s: give the next poll time to start and hang.
            time.sleep(8)
            proc.send(signal.SIGINT)
            proc.wait_for("Ctrl-C again to stop now")
            time.sleep(1)
            assert proc.proc.poll() is None, "the first Ctrl-C should wait for the call in flight"
            sent = proc.send(signal.SIGINT)
            code = proc.wait()
            took = time.monotonic() - sent
            err = proc.stderr
        assert code == 130, err[-3000:]
        assert took < CONTRACT_S, f"the second Ctrl-C took {took:.1f}s"
        assert "stopped at once" in err and "run the same command again to resume" in err
        _journal_lines(state)
        _no_lock_left(state)
        _finish_slow_work(sb)
        _converges(sb, state)


def test_interrupted_json_output_is_one_envelope(tmp_path):
    state = tmp_path / "state"
    with running_sandbox(tmp_path, clock_scale=1.0, network="public") as sb:
        mark = sb.mark()
        with AcrxProcess(_setup_args(sb, "-o", "json"), state) as proc:
            in_the_rrsa_wait(sb, proc, mark)
            proc.send(signal.SIGTERM)
            code = proc.wait()
            out = proc.stdout
        assert code == 130, proc.stderr[-3000:]
        document = json.loads(out)          # exactly one JSON document on stdout
        assert document["kind"]
        assert "interrupted" in json.dumps(document["data"])


def test_ctrl_c_while_planning_exits_130_promptly(tmp_path):
    """Outside an apply the first signal cancels at once too: here every cloud read takes 2 s."""
    state = tmp_path / "state"
    latency = 2.0
    with running_sandbox(tmp_path, network="public") as sb:
        sb.world.knobs.latency_s = latency
        mark = sb.mark()
        with AcrxProcess(["--sandbox", sb.dir, "plan", "-f", sb.config_path], state) as proc:
            deadline = time.monotonic() + 120
            while not sb.calls_since(mark):              # planning has begun reading the cloud
                assert proc.proc.poll() is None and time.monotonic() < deadline, proc.stderr[-3000:]
                time.sleep(0.1)
            sent = proc.send(signal.SIGINT)
            code = proc.wait()
            took = time.monotonic() - sent
        assert code == 130, proc.stderr[-3000:]
        assert took < CONTRACT_S + latency, f"exit took {took:.1f}s after the signal"
        assert "Traceback" not in proc.stderr


def test_ctrl_c_ends_a_retry_wait_at_once(tmp_path):
    """The cloud throttles CreateRole and asks for 30 s before the retry: Ctrl-C during that
    back-off exits at once, since the retry loop sleeps on the cancellation event."""
    state = tmp_path / "state"
    with running_sandbox(tmp_path, network="public") as sb:
        knobs = sb.world.knobs
        knobs.throttle_rate, knobs.throttle_retry_after_ms, knobs.only_actions = 1.0, 30_000, {"CreateRole"}
        mark = sb.mark()
        with AcrxProcess(_setup_args(sb), state) as proc:
            deadline = time.monotonic() + 120
            while not any(c.action == "CreateRole" and c.status >= 400 for c in sb.calls_since(mark)):
                assert proc.proc.poll() is None and time.monotonic() < deadline, proc.stderr[-3000:]
                time.sleep(0.2)
            sent = proc.send(signal.SIGINT)
            code = proc.wait()
            took = time.monotonic() - sent
        assert code == 130, proc.stderr[-3000:]
        assert took < CONTRACT_S, f"exit took {took:.1f}s after the signal"
        assert "ram.role." in proc.stderr.split("in flight (", 1)[1].split(")", 1)[0]


def test_a_cancel_wakes_a_wait_until_at_once():
    """The building block: a wait with a 10-minute budget and 60 s polls ends as soon as the
    process-wide event is set from another thread (as the signal handler does)."""
    import threading

    from acrx import cancel
    from acrx.execute.wait import wait_until

    timer = threading.Timer(0.5, cancel.cancel)
    timer.start()
    started = time.monotonic()
    with pytest.raises(cancel.Interrupted):
        wait_until(lambda: None, what="never", budget_s=600, initial=60, max_delay=60)
    assert time.monotonic() - started < CONTRACT_S
    timer.join()
