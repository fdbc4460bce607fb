"""`acrx demo`: the README's first command, run as a user runs it (a subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys


def test_demo_runs_the_whole_procedure_and_proves_the_pull(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy") and k != "ACRX_STATE_DIR"}
    result = subprocess.run([sys.executable, "-m", "acrx", "demo", "--clock-scale", "0"], capture_output=True,
                            text=True, timeout=120, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "to create" in result.stdout                      # the plan was shown
    assert "cs.rrsa" in result.stderr                          # progress of the apply
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("verified: Successfully pulled image ")
    assert "Image size: " in last and last.endswith(" bytes.")
    assert not any(tmp_path.iterdir()), "the demo leaves nothing behind in the working directory"


def test_demo_refuses_network_none(run_cli):
    result = run_cli("demo", "--network", "none")
    assert result.exit_code == 2
    assert "--network" in result.stderr
