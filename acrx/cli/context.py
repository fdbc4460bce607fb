"""What every command gets: consoles (passed in, never global), verbosity, the sandbox dir."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console


def _console(stderr: bool) -> "Console":
    # Imported here: `acrx --help` never builds a console, and rich.console costs ~25 ms.
    from rich.console import Console

    # emoji=False: rich would turn the `:ram:` inside every ARN into an emoji.
    return Console(stderr=stderr, soft_wrap=True, emoji=False)


@dataclass
class AppContext:
    verbose: int = 0
    sandbox_dir: Path | None = None

    @cached_property
    def out(self) -> "Console":
        return _console(stderr=False)

    @cached_property
    def err(self) -> "Console":
        return _console(stderr=True)

    @classmethod
    def from_options(cls, verbose: int, sandbox: Path | None) -> "AppContext":
        env = os.environ.get("ACRX_SANDBOX")
        if sandbox is None and env:
            sandbox = Path(env)
        return cls(verbose=verbose, sandbox_dir=sandbox)
