"""What every command gets: consoles (passed in, never global), verbosity, the sandbox dir."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console


@dataclass
class AppContext:
    # emoji=False: rich would turn the `:ram:` inside every ARN into an emoji.
    out: Console = field(default_factory=lambda: Console(soft_wrap=True, emoji=False))
    err: Console = field(default_factory=lambda: Console(stderr=True, soft_wrap=True, emoji=False))
    verbose: int = 0
    sandbox_dir: Path | None = None

    @classmethod
    def from_options(cls, verbose: int, sandbox: Path | None) -> "AppContext":
        env = os.environ.get("ACRX_SANDBOX")
        if sandbox is None and env:
            sandbox = Path(env)
        return cls(verbose=verbose, sandbox_dir=sandbox)
