"""Documentation that matches the code: README's config parses; every command and flag named in
README.md and docs/ exists, resolved exactly (no fallback to a parent command); every documented
exit code is asserted by some test; README's claim about .ci/run holds; and the quickstart runs
as written (the sandbox variant top to bottom)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
DOCS = {p.relative_to(ROOT).as_posix(): p.read_text() for p in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]}


def test_readme_config_example_is_valid(tmp_path):
    from acrx.config.loader import load_config

    blocks = re.findall(r"```yaml\n(# acrx.yaml\n.*?)```", README, re.S)
    assert blocks, "README shows an acrx.yaml"
    for block in blocks:
        path = tmp_path / "acrx.yaml"
        path.write_text(block)
        config = load_config(path, {})
        assert config.cluster.id and config.registries


# -- every command and flag the docs name ------------------------------------------------------------
_STOP = re.compile(r"\s(?:#|\||>|<(?![A-Za-z])|;|&&|\|\|)|\$\(|`|\)")
_SEGMENT = re.compile(r"&&|\|\||;|\||\$\(")


def _code_lines(text: str) -> list[str]:
    """Lines of the fenced shell (or unlabelled) blocks."""
    lines, lang = [], None
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            lang = None if lang is not None else (line.strip()[3:].strip() or "text")
            continue
        if lang in ("sh", "bash", "console", "shell", "text"):
            lines.append(line)
    return lines


def _invocations(text: str) -> list[str]:
    """`acrx ...` as the docs write it: commands in shell blocks (also after &&, ; or $( ) and
    inline code spans, cut at a comment, pipe, redirection or the end of the span."""
    found = []
    for line in _code_lines(text):
        for segment in _SEGMENT.split(re.sub(r"^\s*\$\s+", "", line)):
            segment = segment.strip().lstrip("\"'")
            if segment == "acrx" or segment.startswith("acrx "):
                found.append(_STOP.split(segment)[0])
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    for span in re.findall(r"`([^`\n]+)`", prose):
        if span == "acrx" or span.startswith("acrx "):
            found.append(_STOP.split(span)[0])
    return [f.strip() for f in found]


PLACEHOLDER = re.compile(r"^(<.*>|[A-Z][A-Z_]*|\.\.\.|\[.*\]|.*\|.*|\{.*\}|'.*'|\".*\")$")


def _resolve(words: list[str]) -> str | None:
    """None when `acrx words...` names real commands and options, else what is wrong."""
    import typer.main

    from acrx.cli.app import app

    root = typer.main.get_command(app)
    command, path = root, ["acrx"]
    args_left = 0
    i = 0
    while i < len(words):
        word = words[i]
        if word.startswith("-") and len(word) > 1:
            name = word.split("=", 1)[0]
            option = next((p for c in (command, root) for p in c.params
                           if name in [*getattr(p, "opts", ()), *getattr(p, "secondary_opts", ())]), None)
            if option is None and name != "--help":
                return f"{' '.join(path)} has no option {name}"
            takes_value = option is not None and not getattr(option, "is_flag", False) and not getattr(option, "count", False)
            i += 2 if takes_value and "=" not in word else 1
            continue
        if hasattr(command, "commands"):                       # a group: the word must be a subcommand
            if PLACEHOLDER.match(word) or "/" in word:          # `acrx render <artifact>`, `up/down`
                return None
            sub = command.commands.get(word)
            if sub is None:
                return f"{' '.join(path)} has no command {word!r}"
            command, path = sub, path + [word]
            args_left = sum(1 if p.nargs == 1 else 99 for p in sub.params if p.param_type_name == "argument")
        elif args_left <= 0 and not PLACEHOLDER.match(word):
            return f"{' '.join(path)} takes no argument {word!r}"
        else:
            args_left -= 1
        i += 1
    return None


NAMED = sorted({(doc, inv) for doc, text in DOCS.items() for inv in _invocations(text)})


def test_the_docs_name_commands():
    assert len(NAMED) > 40
    assert any(inv.startswith("acrx status") for _, inv in NAMED)


@pytest.mark.parametrize("doc,invocation", NAMED)
def test_every_command_and_flag_in_the_docs_exists(doc, invocation):
    try:
        words = shlex.split(invocation)[1:]
    except ValueError:
        words = invocation.split()[1:]
    # A synopsis brackets what is optional: `[-f acrx.yaml] [--dry-run [--detailed-exitcode]]`.
    words = [w.strip("[]") for w in words if w.strip("[]") not in ("", "\\")]
    problem = _resolve(words)
    assert problem is None, f"{doc}: `{invocation}`: {problem}"


@pytest.mark.parametrize("invocation", ["acrx render bogus", "acrx plan --bogus", "acrx sandbox up --nope",
                                        "acrx bogus", "acrx version extra"])
def test_the_check_rejects_what_does_not_exist(invocation):
    assert _resolve(invocation.split()[1:]) is not None


# -- every documented exit code is produced by some test --------------------------------------------
def test_every_documented_exit_code_is_asserted_by_a_test():
    from acrx.exitcodes import ExitCode

    table = DOCS["docs/exit-codes.md"]
    documented = {int(code) for code in re.findall(r"^\| (\d+) \|", table, re.M)}
    assert documented == {int(c) for c in ExitCode}
    names = {int(c): c.name for c in ExitCode}
    tests = "\n".join(p.read_text() for p in (ROOT / "tests").rglob("test_*.py") if p.name != "test_docs.py")
    for code in sorted(documented - {0}):
        pattern = (rf"(?:exit_code|returncode|code)\s*==\s*(?:{code}\b|(?:int\()?ExitCode\.{names[code]})"
                   rf"|ExitCode\.{names[code]}\b\s*(?:==|in)")
        assert re.search(pattern, tests), f"exit code {code} ({names[code]}) is documented but no test asserts it"


# -- .ci/run ------------------------------------------------------------------------------------------
def test_readme_says_what_ci_run_adds():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "runs exactly" not in README
    assert "python -m pytest" in README and "python -m pytest" in ci
    assert "docker-registry" in README and "apt-get install" in ci and "command -v docker-registry" in ci
    assert "pip install -q --upgrade pip" in ci and "upgrades pip" in README
    assert "unset http_proxy" in ci and "proxy variables" in README
    assert '"$rc" -eq 5' in ci and "ran no test" in README


# -- the quickstart, as written -------------------------------------------------------------------------
def _quickstart(heading: str) -> list[str]:
    section = README[README.index(heading):]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    return [line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def _shell(lines: list[str], cwd: Path) -> subprocess.CompletedProcess:
    script = "set -e\n" + "\n".join(lines) + "\n"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("ACRX_SANDBOX", None)
    return subprocess.run(["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


def test_account_quickstart_offline_lines_run_as_written(tmp_path):
    lines = _quickstart("### With your accounts")
    assert lines[0].startswith("acrx init") and lines[1].startswith("acrx render configmap")
    result = _shell(lines[:2], tmp_path)          # the rest needs real accounts
    assert result.returncode == 0, result.stderr
    assert "kind: ConfigMap" in result.stdout


@pytest.mark.timeout(900)
@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_sandbox_quickstart_runs_top_to_bottom(tmp_path):
    lines = _quickstart("### Without an account: the sandbox")
    assert lines[0].startswith("acrx sandbox up") and lines[-1].startswith("acrx sandbox down")
    try:
        result = _shell(lines, tmp_path)
    finally:
        _shell([lines[-1] + " 2>/dev/null || true"], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "verified: Successfully pulled image" in result.stdout
    assert "0 missing, 0 drifted" in result.stdout
