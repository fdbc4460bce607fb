"""CEN writes that answer "busy" while another write on the same CEN, transit router or VPC settles.

Terraform's provider (terraform-provider-alicloud) retries exactly these, which is the evidence
that the cloud sends them under concurrent writes:
- CreateCen / CreateTransitRouter: `Operation.Blocking`, `IncorrectStatus.Status`
  (resource_alicloud_cen_instance.go, resource_alicloud_cen_transit_router.go);
- Create*Attachment: `IncorrectStatus.VpcRouteTable`, `IncorrectStatus.VpcSwitch`,
  `IncorrectStatus.VpcOrVswitch`, `InstanceStatus.NotSupport`, `IncorrectStatus.Attachment`,
  `IncorrectStatus.VpcResource` (resource_alicloud_cen_transit_router_vpc_attachment.go,
  ..._peer_attachment.go);
- GrantInstanceToTransitRouter: `OperationFailed.TaskConflict`
  (resource_alicloud_cen_transit_router_grant_attachment.go).
Which code the cloud picks in which case, and how long a CEN stays busy, are undocumented ([?]):
here a CEN is busy for CEN_SETTLE_SECONDS (scaled) after it or one of its transit routers is
created, a transit router while one of its attachments is Attaching, and a VPC owner's grants
for GRANT_SETTLE_SECONDS after the previous grant. CreateCen itself answers `Operation.Blocking`
for ACCOUNT_CEN_SETTLE_SECONDS after the account's previous CreateCen or DeleteCen: TF retries
that code on CreateCen, which has no CEN yet to be busy, so the lock it meets is the account's
([?] the stricter reading: account-wide, creates and deletes alike). `IncorrectStatus.Status` is
retried by acrx too but not sent here: nothing says which state of what it reports ([?]).
"""

from __future__ import annotations

from acrx.sandbox.core import slowop
from acrx.sandbox.core.errors import ApiError

CEN_SETTLE_SECONDS = 10
ACCOUNT_CEN_SETTLE_SECONDS = 5
ACCOUNT_CEN_KEY = "account-cen"
GRANT_SETTLE_SECONDS = 5


def _until(backend) -> dict:
    return backend.__dict__.setdefault("busy_until", {})


def mark(backend, key: str, cloud_seconds: float) -> None:
    _until(backend)[key] = backend.world.clock.ready_at(cloud_seconds)


def _busy(backend, key: str) -> bool:
    return backend.world.clock.now() < _until(backend).get(key, 0.0)


def refuse_cen_write(backend, cen_id: str) -> None:
    """CreateTransitRouter on a CEN that is still settling."""
    if _busy(backend, cen_id):
        raise ApiError("Operation.Blocking", f"The operation is blocked: CEN {cen_id} is being changed.", 400)


def refuse_cen_create(backend) -> None:
    """CreateCen while the account's previous CreateCen/DeleteCen settles."""
    if _busy(backend, ACCOUNT_CEN_KEY):
        raise ApiError("Operation.Blocking", "The operation is blocked: another CEN operation of this account is "
                                             "in progress.", 400)


def refuse_attachment_write(backend, transit_router_id: str) -> None:
    """A new attachment on a transit router while another one of it is Attaching."""
    for attachment in backend.attachments.values():
        if attachment.transit_router_id == transit_router_id and attachment.op is not None \
                and attachment.op.state() == slowop.RUNNING:
            raise ApiError("IncorrectStatus.Attachment", f"The transit router {transit_router_id} is busy: "
                                                         f"attachment {attachment.attachment_id} is Attaching.", 400)


def refuse_grant(backend) -> None:
    if _busy(backend, "grant"):
        raise ApiError("OperationFailed.TaskConflict", "The operation failed because of a task conflict: "
                                                       "another grant of this account is in progress.", 400)
