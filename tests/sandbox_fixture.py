"""A running in-process sandbox with its state dir, for tests that drive acrx commands.

    from tests.sandbox_fixture import running_sandbox
    with running_sandbox(tmp_path, scenario="default", mode="rrsa", network="peering") as sb:
        result = run_cli("--sandbox", sb.dir, "roles", "apply", "-f", sb.config_path, "--yes")
        assert not sb.writes_since(mark)
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from acrx.sandbox.app import CONFIG_FILE, Sandbox


@dataclass
class RunningSandbox:
    sandbox: Sandbox
    dir: Path

    @property
    def world(self):
        return self.sandbox.world

    @property
    def seeded(self):
        return self.sandbox.seeded

    @property
    def config_path(self) -> Path:
        return self.dir / CONFIG_FILE

    def mark(self) -> int:
        return self.world.calls.mark()

    def calls_since(self, mark: int):
        return self.world.calls.since(mark)

    def writes_since(self, mark: int):
        return [c for c in self.calls_since(mark) if c.writes and c.status < 400]

    def client(self, product_module: str, alias: str = "cluster", region: str | None = None):
        from tests.sandbox_clients import sdk_client

        region = region or (self.seeded.region_a if alias == "cluster" else self.seeded.region_b)
        return sdk_client(product_module, self.sandbox.cloud.endpoint, self.sandbox.account_key(alias), region=region)

    def write_config(self, *, mode: str = "rrsa", network: str = "peering", **sections) -> Path:
        """Rewrite acrx.yaml for another mode/network, merging extra top-level sections."""
        import yaml

        config = self.sandbox.config(mode, network)
        for key, value in sections.items():
            if isinstance(value, dict) and isinstance(config.get(key), dict):
                config[key] = {**config[key], **value}
            else:
                config[key] = value
        self.config_path.write_text(yaml.safe_dump(config, sort_keys=False))
        return self.config_path


@contextlib.contextmanager
def running_sandbox(tmp_path: Path, *, scenario="default", mode: str = "rrsa", network: str = "peering",
                    clock_scale: float = 0.0):
    sandbox = Sandbox(scenario, clock_scale=clock_scale)
    sandbox.start()
    state = Path(tmp_path) / "sandbox"
    try:
        sandbox.write_state(state, mode=mode, network=network)
        yield RunningSandbox(sandbox, state)
    finally:
        sandbox.stop()
