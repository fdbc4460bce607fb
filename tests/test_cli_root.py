def test_help_lists_commands(run_cli):
    result = run_cli("--help")
    assert result.exit_code == 0
    assert "Usage: acrx" in result.stdout


def test_unknown_command_is_usage_error(run_cli):
    result = run_cli("no-such-command")
    assert result.exit_code == 2


def test_command_modules_keep_real_annotations():
    """typer reads every command's annotations at start-up; as strings (PEP 563) each is compiled
    and evaluated twice, which cost acrx --help a third of its time. Keep them real."""
    from pathlib import Path

    import acrx.cli

    cli = Path(acrx.cli.__file__).parent
    offenders = [p.name for p in [cli / "root.py", *sorted((cli / "commands").glob("*.py"))]
                 if "from __future__ import annotations" in p.read_text()]
    assert offenders == []
