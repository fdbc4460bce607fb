"""`acrx completion bash|zsh|fish`: the shell completion script, to source or save.

The script calls acrx back with _ACRX_COMPLETE set; Typer answers that before any command runs,
so completion costs one `acrx` start-up per Tab and imports no SDK."""

from enum import Enum

import typer

from acrx.cli.root import app

COMPLETE_VAR = "_ACRX_COMPLETE"


class Shell(str, Enum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"


HOW = {
    "bash": 'eval "$(acrx completion bash)"   # in ~/.bashrc',
    "zsh": 'eval "$(acrx completion zsh)"    # in ~/.zshrc',
    "fish": "acrx completion fish > ~/.config/fish/completions/acrx.fish",
}


@app.command("completion")
def completion(shell: Shell = typer.Argument(..., help="The shell to complete in.")) -> None:
    """Print the completion script for SHELL (bash, zsh or fish).

    bash: eval "$(acrx completion bash)" in ~/.bashrc; zsh: the same in ~/.zshrc;
    fish: acrx completion fish > ~/.config/fish/completions/acrx.fish
    """
    from typer._completion_shared import get_completion_script

    typer.echo(get_completion_script(prog_name="acrx", complete_var=COMPLETE_VAR, shell=shell.value))
