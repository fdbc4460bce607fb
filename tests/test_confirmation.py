"""Applying needs a yes: from a terminal a prompt, from a pipe --yes; without either, nothing changes."""

from __future__ import annotations

import subprocess
import sys

from tests.sandbox_fixture import running_sandbox


def test_setup_without_yes_and_without_a_terminal_changes_nothing(tmp_path, run_cli):
    with running_sandbox(tmp_path) as sb:
        mark = sb.mark()
        result = run_cli("--sandbox", sb.dir, "setup", "-f", sb.config_path)
        assert result.exit_code == 2
        assert "--yes" in result.stderr
        assert "to create" in result.stdout          # the plan was shown first
        assert sb.writes_since(mark) == []


def test_a_no_at_the_prompt_applies_nothing(tmp_path):
    """A real terminal (a pty) answering n to the question."""
    import os
    import pty

    with running_sandbox(tmp_path) as sb:
        mark = sb.mark()
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        env["ACRX_STATE_DIR"] = str(tmp_path / "state")
        main, child = pty.openpty()
        proc = subprocess.Popen([sys.executable, "-m", "acrx", "--sandbox", str(sb.dir), "setup",
                                 "-f", str(sb.config_path)], stdin=child, stdout=subprocess.PIPE,
                                stderr=child, env=env)
        os.close(child)
        seen = b""
        while b"Apply these changes?" not in seen:
            chunk = os.read(main, 4096)
            assert chunk, seen[-2000:]
            seen += chunk
        os.write(main, b"n\n")
        out, _ = proc.communicate(timeout=60)
        os.close(main)
        assert proc.returncode == 1
        assert b"to create" in out
        assert sb.writes_since(mark) == []
