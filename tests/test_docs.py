"""Documentation that matches the code: README's config parses, its commands exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_readme_config_example_is_valid(tmp_path):
    from acrx.config.loader import load_config

    blocks = re.findall(r"```yaml\n(# acrx.yaml\n.*?)```", README, re.S)
    assert blocks, "README shows an acrx.yaml"
    for block in blocks:
        path = tmp_path / "acrx.yaml"
        path.write_text(block)
        config = load_config(path, {})
        assert config.cluster.id and config.registries


SHELL = "\n".join(re.findall(r"```sh\n(.*?)```", README, re.S))
COMMANDS = sorted({m.group(1).strip() for m in re.finditer(r"^acrx ((?:[a-z-]+ ?){1,2})", SHELL, re.M)})


@pytest.mark.parametrize("command", COMMANDS)
def test_readme_commands_exist(run_cli, command):
    words = [w for w in command.split() if not w.startswith("-")]
    result = run_cli(*words, "--help")
    if result.exit_code != 0:  # a one-word command followed by an argument word
        result = run_cli(words[0], "--help")
    assert result.exit_code == 0, f"`acrx {command}` is in README but not a command: {result.stderr}"


def test_readme_test_command_is_what_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python -m pytest" in README and "python -m pytest" in ci
    assert "docker-registry" in README and "docker-registry" in ci
