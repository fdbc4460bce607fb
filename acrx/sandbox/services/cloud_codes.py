"""Error answers the real cloud gives under load or for a missing thing, as (code, message, status),
for the `scripted_faults` knob: `world.knobs.scripted_faults[action] = [answer(...), ...]`.

Each entry names its source. Where a source gives the code but not the HTTP status, the status
is [?] and the stricter reading is taken: a 4xx, so a client must recognise the code itself and
cannot lean on "5xx means retry".
"""

from __future__ import annotations

ANSWERS: dict[str, tuple[str, str, int]] = {
    # The flow-control answer of every RPC product (tea-openapi raises ThrottlingException for it).
    "Throttling.User": ("Throttling.User", "Request was denied due to user flow control.", 400),
    # Terraform provider `NeedRetry` (alicloud/errors.go:207-241) retries it. [?] status.
    "Rejected.Throttling": ("Rejected.Throttling", "The request was rejected by flow control.", 400),
    # PrivateZone: TF resource_alicloud_pvtz_zone.go:158 retries System.Busy. [?] status and text.
    "System.Busy": ("System.Busy", "System is busy, please try again later.", 400),
    # The 503 of every product (official error center: "The request has failed due to a temporary
    # failure of the server").
    "ServiceUnavailable": ("ServiceUnavailable",
                           "The request has failed due to a temporary failure of the server.", 503),
    # CR endpoint ACL writes: TF resource_alicloud_cr_endpoint_acl_policy.go:92 retries it. [?] status.
    "SLB_SERVICE_ERROR": ("SLB_SERVICE_ERROR", "The SLB service of the endpoint is busy.", 400),
    # HTTP 404 with a code that does not itself say "not found": TF `NotFoundError`
    # (alicloud/errors.go:83-115) treats any 404 as not found. The code is [?] (made up, on purpose
    # one that no code list would match).
    "404": ("InvalidResource.Absent", "The specified resource does not exist.", 404),
}

RETRYABLE = ("Throttling.User", "Rejected.Throttling", "System.Busy", "ServiceUnavailable", "SLB_SERVICE_ERROR")


def answer(name: str) -> tuple[str, str, int]:
    return ANSWERS[name]


def script(world, action: str, *names: str) -> None:
    """Make the next calls of `action` answer `names` in order (then the real answer)."""
    queue = world.knobs.scripted_faults.setdefault(action, [])
    queue.extend(ANSWERS[name] for name in names)
