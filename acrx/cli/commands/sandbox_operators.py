"""`acrx sandbox up --operators`: operator identities that hold exactly acrx's operator policies.

The CLI renders the policies (acrx.render.operator_policy) from the sandbox's acrx.yaml and hands
them as plain JSON to the running sandbox's control endpoint, which seeds the identities
(acrx/sandbox/operators.py; the sandbox never imports acrx's core). The answer (the CI token and
the users' AccessKeys) goes only into 0600 files in the state directory.
"""

import json
import urllib.error
import urllib.request
from pathlib import Path

from acrx.errors import AcrxError

TIMEOUT_S = 60   # seeding generates a signing key; generous on a loaded machine


def operator_policies(config) -> dict:
    from acrx.render.operator_policy import operator_policy

    return {side_alias: {"read_only": operator_policy(config, side, read_only=True)[0],
                         "full": operator_policy(config, side, read_only=False)[0]}
            for side, side_alias in (("cluster", config.cluster.account), ("registry", config.registries[0].account))}


def seed(state_dir: Path) -> dict[str, Path]:
    import yaml

    from acrx.cloud.sandbox_target import SandboxTarget
    from acrx.config.loader import load_config
    from acrx.sandbox.core.control import OPERATORS_PATH, SECRET_VAR
    from acrx.sandbox.operators import write_operator_files

    config_path = state_dir / "acrx.yaml"
    config = load_config(config_path, {})
    target = SandboxTarget.load(state_dir)
    secret = target.value(SECRET_VAR)
    if not secret:
        raise AcrxError(f"{state_dir / 'sandbox.env'} names no {SECRET_VAR}; the sandbox state is incomplete")
    body = json.dumps({"policies": operator_policies(config)}).encode()
    request = urllib.request.Request(f"http://{target.endpoint}{OPERATORS_PATH}", data=body, method="POST",
                                     headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never via a proxy
    try:
        with opener.open(request, timeout=TIMEOUT_S) as response:
            seeded = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        try:
            message = json.loads(exc.read()).get("error", "")
        except ValueError:
            message = ""
        raise AcrxError(f"the sandbox could not seed the operators ({exc.code}): {message}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise AcrxError(f"no sandbox answers at {target.endpoint} ({getattr(exc, 'reason', exc)})") from None
    return write_operator_files(state_dir, yaml.safe_load(config_path.read_text()), seeded)
