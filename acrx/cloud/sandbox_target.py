"""Where a running sandbox is: `DIR/sandbox.env` (written by `acrx sandbox up`) and `DIR/kubeconfig`.

The env file holds lines `export NAME=value`: the cloud endpoint (host:port), the registry URL,
and per account alias its uid and root AccessKey. This module reads it; it never imports the
sandbox itself (the core of acrx talks to the sandbox only over the wire).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from acrx.errors import UsageError

ENV_FILE = "sandbox.env"
KUBECONFIG_FILE = "kubeconfig"
ENDPOINT_VAR = "ACRX_SANDBOX_ENDPOINT"
REGISTRY_VAR = "ACRX_SANDBOX_REGISTRY_ENDPOINT"
_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$")
_LOOPBACK = ("127.", "localhost", "[::1]", "::1")


def alias_key(alias: str) -> str:
    """Account alias as it appears in variable names: upper-cased, '-' -> '_'."""
    return alias.upper().replace("-", "_")


def uid_var(alias: str) -> str:
    return f"ACRX_SANDBOX_{alias_key(alias)}_UID"


def access_key_id_var(alias: str) -> str:
    return f"ACRX_SANDBOX_{alias_key(alias)}_ACCESS_KEY_ID"


def access_key_secret_var(alias: str) -> str:
    return f"ACRX_SANDBOX_{alias_key(alias)}_ACCESS_KEY_SECRET"


def is_loopback(endpoint: str) -> bool:
    host = endpoint.split("://", 1)[-1]
    return host.startswith(_LOOPBACK)


def ensure_running(directory: Path, endpoint: str) -> None:
    """A sandbox on this machine that is not listening is reported at once, instead of after
    the SDK's connection retries (a minute of silence)."""
    if not is_loopback(endpoint):
        return
    import socket

    host, _, port = endpoint.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=5):
            return
    except ValueError:
        raise UsageError(f"{directory / ENV_FILE}: {ENDPOINT_VAR}={endpoint} is not host:port",
                         field="--sandbox") from None
    except OSError:
        raise UsageError(f"the sandbox in {directory} is not running; acrx sandbox up --state-dir {directory}",
                         field="--sandbox") from None


@dataclass(frozen=True)
class SandboxTarget:
    directory: Path
    endpoint: str                 # host:port of the cloud, as SDK clients take it
    registry_endpoint: str | None  # http://host:port of the image registry
    kubeconfig: Path | None
    _values: dict[str, str] = field(repr=False, compare=False, default_factory=dict)

    @classmethod
    def load(cls, directory: str | Path) -> "SandboxTarget":
        directory = Path(directory)
        env_path = directory / ENV_FILE
        fix = f"start one with `acrx sandbox up --state-dir {directory}`"
        try:
            text = env_path.read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"no sandbox in {directory}: cannot read {ENV_FILE} ({exc.strerror or exc})",
                             hint=fix) from None
        values = parse_env(text)
        endpoint = values.get(ENDPOINT_VAR, "").strip()
        if not endpoint:
            raise UsageError(f"{env_path} names no {ENDPOINT_VAR}; the sandbox state is incomplete", hint=fix)
        endpoint = endpoint.split("://", 1)[-1].rstrip("/")
        ensure_running(directory, endpoint)
        kubeconfig = directory / KUBECONFIG_FILE
        from acrx.cloud.errors import register_secret

        for name, value in values.items():
            if name.endswith("_SECRET"):
                register_secret(value)
        return cls(directory=directory, endpoint=endpoint,
                   registry_endpoint=values.get(REGISTRY_VAR) or None,
                   kubeconfig=kubeconfig if kubeconfig.is_file() else None, _values=values)

    @property
    def url(self) -> str:
        return f"http://{self.endpoint}"

    @property
    def aliases(self) -> list[str]:
        """Account aliases (as keys, upper-cased) that have credentials in the file."""
        out = []
        for name in self._values:
            match = re.match(r"^ACRX_SANDBOX_(.+)_ACCESS_KEY_ID$", name)
            if match:
                out.append(match.group(1))
        return out

    def has(self, name: str) -> bool:
        return name in self._values

    def value(self, name: str) -> str | None:
        """A variable from the file (may be a secret: never print it)."""
        return self._values.get(name)

    def uid(self, alias: str) -> str | None:
        return self._values.get(uid_var(alias))

    def access_key(self, alias: str) -> tuple[str, str] | None:
        ak, sk = self._values.get(access_key_id_var(alias)), self._values.get(access_key_secret_var(alias))
        return (ak, sk) if ak and sk else None


def parse_env(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if not match:
            continue
        name, rest = match.groups()
        try:
            parts = shlex.split(rest, comments=True)
        except ValueError:
            parts = [rest.strip()]
        values[name] = parts[0] if parts else ""
    return values
