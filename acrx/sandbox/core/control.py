"""The operator's control endpoint on the cloud server: read and change the fault knobs of a running
sandbox (`acrx sandbox faults`).

    GET  /_sandbox/faults                      -> {"knobs": {...}}
    POST /_sandbox/faults {"clear": true, "set": {"lost_answer_rate": 0.02, ...}}

An endpoint rather than a file the server re-reads: a change takes effect on the next call with
no polling, the server validates the values in one place (knobs.py) and applies all or none, and
the answer is the set of knobs really in force. It is authenticated as the sandbox authenticates
its operator: with a secret that exists only in the 0600 `sandbox.env` of the state directory
(`ACRX_SANDBOX_CONTROL_SECRET`), sent as a Bearer token and compared in constant time. No
cloud API lives under /_sandbox/, so the path cannot shadow one.
"""

from __future__ import annotations

import hmac
import json

PREFIX = "/_sandbox/"
FAULTS_PATH = "/_sandbox/faults"
SECRET_VAR = "ACRX_SANDBOX_CONTROL_SECRET"


OPERATORS_PATH = "/_sandbox/operators"   # POST {"policies": ...}: acrx/sandbox/operators.py


def handle(world, secret: str | None, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict]:
    """(status, JSON body) for one control request."""
    if secret is None or path.rstrip("/") not in (FAULTS_PATH, OPERATORS_PATH):
        return 404, {"error": f"no control endpoint at {path}"}
    presented = headers.get("authorization", "")
    if not presented.startswith("Bearer ") or not hmac.compare_digest(
            presented[len("Bearer "):].strip().encode(), secret.encode()):
        return 401, {"error": f"the control endpoint needs `Authorization: Bearer ${SECRET_VAR}` (see sandbox.env)"}
    if path.rstrip("/") == OPERATORS_PATH:
        from acrx.sandbox.operators import handle_request

        return handle_request(world, method, body)
    if method == "GET":
        return 200, {"knobs": world.knobs.snapshot()}
    if method != "POST":
        return 405, {"error": "use GET or POST"}
    try:
        request = json.loads(body or b"{}")
    except ValueError:
        return 400, {"error": "the body is not JSON"}
    if not isinstance(request, dict) or set(request) - {"clear", "set"} or not isinstance(request.get("set", {}), dict):
        return 400, {"error": 'expected {"clear": bool, "set": {knob: value}}'}
    with world.lock:  # no call sees half a change
        try:
            world.knobs.update(request.get("set", {}), clear=bool(request.get("clear")))
        except ValueError as exc:  # nothing was changed
            return 400, {"error": str(exc)}
        return 200, {"knobs": world.knobs.snapshot()}
