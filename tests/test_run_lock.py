"""The run lock (issue 11, item 6): one apply per cluster at a time.

Two `acrx setup` runs against one cluster once made two CEN instances and a second AccessKey.
The first run here is a real process held in the RRSA wait (the sandbox's RRSA task takes a real
minute at clock scale 1); the second is the CLI in-process, against the same state directory.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time

import pytest

from tests.cli_process import AcrxProcess, in_the_rrsa_wait
from tests.sandbox_fixture import running_sandbox

AT_ONCE_S = 5.0     # "exits at once": generous for a busy machine, far below the minute-long RRSA wait


def _setup(sb, *extra):
    return ["--sandbox", sb.dir, "setup", "-f", sb.config_path, "--yes", "--no-verify", *extra]


def _lock_files(state):
    return sorted(state.glob("locks/*.lock"))


def _finish_slow_work(sb):
    sb.world.clock.scale = 0.0
    sb.world.clock.advance(3600)


@pytest.fixture
def state(tmp_path, monkeypatch):
    path = tmp_path / "state"
    monkeypatch.setenv("ACRX_STATE_DIR", str(path))   # the in-process runs share the subprocess's state
    return path


def test_a_second_setup_exits_1_at_once_naming_the_holder_and_waits_with_lock_timeout(tmp_path, state, run_cli):
    with running_sandbox(tmp_path, clock_scale=1.0, network="public") as sb:
        cluster_id = sb.seeded.cluster_id
        mark = sb.mark()
        with AcrxProcess(_setup(sb), state) as first:
            in_the_rrsa_wait(sb, first, mark)
            [lock] = _lock_files(state)
            holder = json.loads(lock.read_text())
            assert holder["pid"] == first.pid and holder["host"] == socket.gethostname()
            assert holder["command"] == "acrx setup" and holder["cluster"] == cluster_id
            assert oct(lock.stat().st_mode & 0o777) == "0o600"

            started = time.monotonic()
            second = run_cli(*_setup(sb))
            assert time.monotonic() - started < AT_ONCE_S
            assert second.exit_code == 1, second.stderr
            assert re.search(rf"^error: another acrx run holds the lock for cluster {cluster_id}: pid {first.pid} "
                             rf"on {re.escape(socket.gethostname())}, `acrx setup`, since \d{{4}}-\d\d-\d\dT", second.stderr,
                             re.M), second.stderr
            assert "--lock-timeout" in second.stderr and str(lock) in second.stderr
            assert "to create" not in second.stdout      # refused before planning, so nothing shown or done

            # A step command is an apply too.
            step = run_cli("--sandbox", sb.dir, "roles", "apply", "-f", sb.config_path, "--yes")
            assert step.exit_code == 1 and "holds the lock" in step.stderr

            # With --lock-timeout the next run waits for the holder, then goes ahead.
            with AcrxProcess(_setup(sb, "--lock-timeout", "2m"), state) as waiter:
                waiter.wait_for("waiting up to 120s for the lock")
                assert waiter.proc.poll() is None
                _finish_slow_work(sb)
                assert first.wait() == 0, first.stderr[-3000:]
                assert waiter.wait() == 0, waiter.stderr[-3000:]
            assert "holds the lock" not in waiter.stderr
        assert _lock_files(state) == []


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait(timeout=60)
    return proc.pid


def test_a_stale_lock_of_a_dead_run_is_taken_over_with_a_warning(tmp_path, state, run_cli):
    with running_sandbox(tmp_path, network="public") as sb:
        pid = _dead_pid()
        (state / "locks").mkdir(parents=True)
        stale = state / "locks" / f"{sb.seeded.cluster_id}.lock"
        stale.write_text(json.dumps({"pid": pid, "host": socket.gethostname(), "command": "acrx setup",
                                     "started": "2026-12-01T10:00:00Z", "token": "dead"}))
        result = run_cli(*_setup(sb))
        assert result.exit_code == 0, result.stderr
        assert f"warning: took over the lock for cluster {sb.seeded.cluster_id} from a run that is gone " \
               f"(pid {pid} on {socket.gethostname()}" in result.stderr
        assert _lock_files(state) == []       # and released at the end


def test_a_lock_held_on_another_host_is_never_taken_over(tmp_path, state, run_cli):
    with running_sandbox(tmp_path, network="public") as sb:
        (state / "locks").mkdir(parents=True)
        other = state / "locks" / f"{sb.seeded.cluster_id}.lock"
        other.write_text(json.dumps({"pid": _dead_pid(), "host": "ci-runner-7", "command": "acrx destroy",
                                     "started": "2026-12-01T10:00:00Z", "token": "remote"}))
        mark = sb.mark()
        result = run_cli(*_setup(sb))
        assert result.exit_code == 1
        assert "on ci-runner-7, `acrx destroy`, since 2026-12-01T10:00:00Z" in result.stderr
        assert sb.writes_since(mark) == []
        assert _lock_files(state) == [other]


def test_plan_dry_runs_and_verify_take_no_lock(tmp_path, state, run_cli):
    with running_sandbox(tmp_path, network="public") as sb:
        (state / "locks").mkdir(parents=True)
        held = state / "locks" / f"{sb.seeded.cluster_id}.lock"
        # This test process is alive on this host: a live holder.
        held.write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "command": "acrx setup",
                                    "started": "2026-12-01T10:00:00Z", "token": "live"}))
        before = held.read_text()
        plan = run_cli("--sandbox", sb.dir, "plan", "-f", sb.config_path)
        assert plan.exit_code == 0 and "to create" in plan.stdout, plan.stderr
        dry = run_cli("--sandbox", sb.dir, "destroy", "-f", sb.config_path, "--dry-run")
        assert dry.exit_code == 0, dry.stderr
        step_dry = run_cli("--sandbox", sb.dir, "rrsa", "enable", "-f", sb.config_path, "--dry-run")
        assert step_dry.exit_code == 0, step_dry.stderr
        doctor = run_cli("--sandbox", sb.dir, "doctor", "-f", sb.config_path)
        assert "holds the lock" not in doctor.stderr
        assert held.read_text() == before
        # while an apply is refused
        destroy = run_cli("--sandbox", sb.dir, "destroy", "-f", sb.config_path, "--yes")
        assert destroy.exit_code == 1 and "holds the lock" in destroy.stderr


def test_the_lock_is_released_when_the_apply_fails(tmp_path, state, run_cli):
    with running_sandbox(tmp_path, network="public") as sb:
        sb.world.knobs.failing_tasks = {"rrsa"}
        failed = run_cli(*_setup(sb))
        assert failed.exit_code == 1, failed.stderr
        assert _lock_files(state) == []
        sb.world.knobs.failing_tasks = set()
        assert run_cli(*_setup(sb)).exit_code == 0


@pytest.mark.parametrize("value", ["soon", "-5s", "100000h", "1h\n"])
def test_a_bad_lock_timeout_is_a_usage_error(tmp_path, state, run_cli, value):
    with running_sandbox(tmp_path, network="public") as sb:
        mark = sb.mark()
        result = run_cli(*_setup(sb, "--lock-timeout", value))
        assert result.exit_code == 2, result.stderr
        assert "--lock-timeout" in result.stderr
        assert sb.writes_since(mark) == []


def test_lock_timeout_with_dry_run_is_refused(tmp_path, state, run_cli):
    with running_sandbox(tmp_path, network="public") as sb:
        result = run_cli("--sandbox", sb.dir, "destroy", "-f", sb.config_path, "--dry-run", "--lock-timeout", "1m")
        assert result.exit_code == 2 and "--lock-timeout" in result.stderr


def test_ctrl_c_while_waiting_for_the_lock_exits_130_and_leaves_the_holders_lock(tmp_path, state):
    import signal

    with running_sandbox(tmp_path, network="public") as sb:
        (state / "locks").mkdir(parents=True)
        held = state / "locks" / f"{sb.seeded.cluster_id}.lock"
        held.write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "command": "acrx setup",
                                    "started": "2026-12-01T10:00:00Z", "token": "live"}))
        with AcrxProcess(_setup(sb, "--lock-timeout", "10m"), state) as waiter:
            waiter.wait_for("waiting up to 600s for the lock")
            sent = waiter.send(signal.SIGINT)
            code = waiter.wait()
            took = time.monotonic() - sent
        assert code == 130, waiter.stderr[-3000:]
        assert took < AT_ONCE_S
        assert json.loads(held.read_text())["token"] == "live"
