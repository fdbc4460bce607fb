"""Twelve runs of the seeded fault campaign (bench/faults.py): random knobs and a random SIGINT or
SIGKILL during the first apply, across modes and networks. Every run must converge within three
attempts, plan clean, leave no duplicate and nothing after destroy, print no secret, no traceback,
and never hang. The same script with --runs 200 is the benchmark."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]
JOBS = 4


def test_twelve_faulted_interrupted_setups_converge_cleanly(tmp_path):
    out = tmp_path / "faults.json"
    # Four runs side by side: a run mostly waits (acrx processes starting, the sandbox clock), and the
    # seeds are per run, so the twelve runs are the same ones whatever --jobs is.
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "faults.py"), "--runs", "12", "--seed", "11",
                           "--jobs", str(JOBS), "--json", str(out)], cwd=ROOT, capture_output=True, text=True,
                          timeout=1700)
    assert out.exists(), proc.stdout + proc.stderr
    report = json.loads(out.read_text())
    summary = report["summary"]
    problems = [r for r in report["runs"] if not (r["converged"] and r["plan_exit"] == 0 and r["destroy_exit"] == 0
                                                  and not r["duplicates"] and not r["leaks"] and not r["secrets"]
                                                  and not r["tracebacks"] and not r["hangs"])]
    assert summary["runs"] == 12
    assert summary["interrupted"] >= 1, "the campaign must really interrupt some runs"
    assert not problems, proc.stdout
    assert summary["converged"] == 12
    assert (summary["duplicates"], summary["leaks"], summary["secrets"], summary["tracebacks"], summary["hangs"]) == (0,) * 5
    assert proc.returncode == 0, proc.stdout + proc.stderr
