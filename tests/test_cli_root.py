def test_help_lists_commands(run_cli):
    result = run_cli("--help")
    assert result.exit_code == 0
    assert "Usage: acrx" in result.stdout


def test_unknown_command_is_usage_error(run_cli):
    result = run_cli("no-such-command")
    assert result.exit_code == 2
