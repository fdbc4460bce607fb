"""Output a person can read: progress with a counter and a heartbeat, a live view on a terminal,
--quiet, NO_COLOR/--no-color, and shell completion, driven through the CLI where they show."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time

from rich.console import Console

from acrx.execute.progress import RichProgress
from tests.sandbox_fixture import running_sandbox

ESC = "\x1b["


def _poll(check, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def test_piped_progress_has_a_heartbeat_naming_what_is_awaited():
    buffer = io.StringIO()
    progress = RichProgress(Console(file=buffer, width=120), total=15, heartbeat=0.3)
    assert not progress.live                      # a StringIO is not a terminal: plain lines
    with progress:
        progress.step_started("cs.rrsa", "enabling RRSA")
        progress.waiting("cs.rrsa", "RRSA to be enabled", 0.0)
        assert _poll(lambda: buffer.getvalue().count("elapsed") >= 3)
        progress.step_done("cs.rrsa", {})
    lines = buffer.getvalue().splitlines()
    assert lines[0] == "[1/15] cs.rrsa: enabling RRSA"
    beats = [line for line in lines if "waiting for RRSA to be enabled" in line]
    assert len(beats) >= 3 and all(re.search(r"\(\d+s elapsed\)$", b) for b in beats)
    assert lines[-1].startswith("ok [1/15] cs.rrsa (")
    count = len(buffer.getvalue().splitlines())
    time.sleep(1.0)                                # closed: the heartbeat has stopped
    assert len(buffer.getvalue().splitlines()) == count


def test_a_terminal_gets_a_live_view_not_heartbeat_lines():
    buffer = io.StringIO()
    console = Console(file=buffer, width=100, force_terminal=True, color_system=None)
    progress = RichProgress(console, total=2, heartbeat=0.2)
    assert progress.live
    with progress:
        progress.step_started("cs.addon.aliyun-acr-credential-helper", "installing addon")
        progress.waiting("cs.addon.aliyun-acr-credential-helper", "the addon to be running", 1.0)
        assert _poll(lambda: "the addon to be running (" in buffer.getvalue())
        progress.step_done("cs.addon.aliyun-acr-credential-helper", {})
    text = buffer.getvalue()
    assert "elapsed" not in text                  # no heartbeat lines: the live line shows the time
    assert "ok [1/2] cs.addon.aliyun-acr-credential-helper" in text


def test_quiet_prints_failures_only():
    buffer = io.StringIO()
    progress = RichProgress(Console(file=buffer, width=120), total=2, quiet=True, heartbeat=0.1)
    with progress:
        progress.step_started("a", "creating a")
        progress.waiting("a", "a", 0)
        time.sleep(0.5)
        progress.step_done("a", {})
        progress.step_started("b", "creating b")
        progress.step_failed("b", "Throttling: b refused")
    assert buffer.getvalue().splitlines() == [
        next(line for line in buffer.getvalue().splitlines() if line.startswith("failed [2/2] b"))]


def test_setup_shows_a_counter_and_quiet_hides_it(run_cli, tmp_path):
    with running_sandbox(tmp_path, mode="rrsa", network="public") as sb:
        loud = run_cli("--sandbox", sb.dir, "setup", "-f", sb.config_path, "--yes", "--no-verify")
        assert loud.exit_code == 0, loud.stderr
        total = re.search(r"^\[1/(\d+)\] ", loud.stderr, re.M)
        assert total, loud.stderr
        n = total.group(1)
        assert re.search(rf"^ok \[{n}/{n}\] ", loud.stderr, re.M)
    with running_sandbox(tmp_path / "quiet", mode="rrsa", network="public") as sb:
        quiet = run_cli("--sandbox", sb.dir, "-q", "setup", "-f", sb.config_path, "--yes", "--no-verify")
        assert quiet.exit_code == 0, quiet.stderr
        assert "applied" in quiet.stderr and not re.search(r"^(ok )?\[\d+/\d+\] ", quiet.stderr, re.M)


def test_no_color_and_the_no_color_flag_drop_every_escape(run_cli, tmp_path, monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")        # as on a terminal
    monkeypatch.delenv("NO_COLOR", raising=False)
    with running_sandbox(tmp_path, mode="rrsa", network="public") as sb:
        coloured = run_cli("--sandbox", sb.dir, "plan", "-f", sb.config_path)
        flag = run_cli("--sandbox", sb.dir, "--no-color", "plan", "-f", sb.config_path)
        monkeypatch.setenv("NO_COLOR", "1")
        env = run_cli("--sandbox", sb.dir, "plan", "-f", sb.config_path)
    assert coloured.exit_code == flag.exit_code == env.exit_code == 0
    assert ESC + "1m" in coloured.stdout          # bold headings: the check below can fail
    for result in (flag, env):
        assert ESC not in result.stdout and ESC not in result.stderr
        assert "Account cluster" in result.stdout


def _acrx(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "acrx", *args], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=120)


def test_completion_scripts_and_answers():
    for shell in ("bash", "zsh", "fish"):
        script = _acrx({}, "completion", shell)
        assert script.returncode == 0 and "_ACRX_COMPLETE" in script.stdout, script.stderr
    bash = _acrx({"_ACRX_COMPLETE": "complete_bash", "COMP_WORDS": "acrx dest", "COMP_CWORD": "1"})
    assert bash.stdout.split() == ["destroy"]
    zsh = _acrx({"_ACRX_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "acrx setup --mo"})
    assert "--mode" in zsh.stdout
    assert _acrx({}, "completion", "tcsh").returncode == 2


def test_quiet_verify_prints_no_progress(run_cli, tmp_path):
    with running_sandbox(tmp_path, mode="rrsa", network="public") as sb:
        setup = run_cli("--sandbox", sb.dir, "-q", "setup", "-f", sb.config_path, "--yes")
        loud = run_cli("--sandbox", sb.dir, "verify", "-f", sb.config_path)
        quiet = run_cli("--sandbox", sb.dir, "-q", "verify", "-f", sb.config_path)
    assert setup.exit_code == loud.exit_code == quiet.exit_code == 0, setup.stderr + quiet.stderr
    assert "control plane: reading" in loud.stderr and "pull: " in loud.stderr
    assert "control plane: reading" not in quiet.stderr and "pull: " not in quiet.stderr
    assert "verified: Successfully pulled image" in quiet.stdout      # results stay
    assert "control plane: reading" not in setup.stderr               # setup's own verify too
