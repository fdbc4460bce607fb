"""What every command gets: consoles (passed in, never global), verbosity, the sandbox dir."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console


def colour_off(flag: bool = False) -> bool:
    """--no-color, or NO_COLOR set to anything but the empty string (no-color.org)."""
    return flag or bool(os.environ.get("NO_COLOR"))


def _console(stderr: bool, no_color: bool = False) -> "Console":
    # Imported here: `acrx --help` never builds a console, and rich.console costs ~25 ms.
    from rich.console import Console

    # emoji=False: rich would turn the `:ram:` inside every ARN into an emoji.
    # Rich's own NO_COLOR handling drops colours but keeps bold and dim; color_system=None
    # drops every escape sequence.
    extra = {"color_system": None, "no_color": True} if colour_off(no_color) else {}
    return Console(stderr=stderr, soft_wrap=True, emoji=False, **extra)


@dataclass
class AppContext:
    verbose: int = 0
    sandbox_dir: Path | None = None
    no_color: bool = False   # --no-color (NO_COLOR is read when the consoles are built)
    quiet: bool = False      # --quiet: no progress lines, only results, warnings and errors

    @cached_property
    def out(self) -> "Console":
        return _console(stderr=False, no_color=self.no_color)

    @cached_property
    def err(self) -> "Console":
        return _console(stderr=True, no_color=self.no_color)

    @classmethod
    def from_options(cls, verbose: int, sandbox: Path | None, *, no_color: bool = False,
                     quiet: bool = False) -> "AppContext":
        env = os.environ.get("ACRX_SANDBOX")
        if sandbox is None and env:
            sandbox = Path(env)
        return cls(verbose=verbose, sandbox_dir=sandbox, no_color=no_color, quiet=quiet)
