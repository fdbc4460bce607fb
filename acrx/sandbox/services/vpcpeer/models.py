"""VpcPeer (2022-01-01): VPC peering connections, across accounts and regions.

A central API: one Backend per account (GLOBAL) holds the connections that account requested;
the accepting account finds them through `find_connection`. Lifecycle (slow op "peering"):
same account  : Creating -> Activated
cross-account : Accepting --AcceptVpcPeerConnection (accepter only)--> Updating -> Activated
A failed creation disappears (status Deleted); a failed acceptance returns to Accepting. [?] the
cloud's behaviour on those failures is not documented.
Error codes from the VpcPeer API metadata where known (ResourceAlreadyExist.VpcPeer,
ResourceNotFound.InstanceId, IncorrectStatus.VpcPeer, OperationDenied.RouteEntryExist); the
"VPC not found" codes and their HTTP status are [?].
"""

from __future__ import annotations

from dataclasses import dataclass, field

from acrx.sandbox.core import slowop
from acrx.sandbox.core.errors import ApiError, missing_parameter
from acrx.sandbox.services.vpc.shared import TagStore

PEERING_SECONDS = 20
LIVE = ("Creating", "Accepting", "Updating", "Activated")


@dataclass
class PeerConnection:
    instance_id: str
    owner_id: str
    region: str
    vpc_id: str
    accepting_owner_uid: str
    accepting_region: str
    accepting_vpc_id: str
    name: str
    description: str
    bandwidth: int
    link_type: str
    created_at: float
    modified_at: float
    phase: str = "creating"      # creating | accepting | updating | activated | deleted
    op: slowop.SlowOp | None = field(default=None, repr=False)

    @property
    def status(self) -> str:
        if self.phase in ("creating", "updating") and self.op is not None:
            state = self.op.state()
            if state == slowop.SUCCESS:
                self.phase, self.op, self.modified_at = "activated", None, self.op.ready_at
            elif state == slowop.FAIL:
                self.phase, self.op = ("deleted" if self.phase == "creating" else "accepting"), None
        return {"creating": "Creating", "accepting": "Accepting", "updating": "Updating",
                "activated": "Activated", "deleted": "Deleted"}[self.phase]

    @property
    def cross_region(self) -> bool:
        return self.region != self.accepting_region

    def involves(self, account: str) -> bool:
        return account in (self.owner_id, self.accepting_owner_uid)


def all_connections(world):
    for backend in world.backends("vpcpeer"):
        yield from backend.connections.values()


def find_connection(world, instance_id: str) -> PeerConnection | None:
    for conn in all_connections(world):
        if conn.instance_id == instance_id and conn.status != "Deleted":
            return conn
    return None


class Backend:
    GLOBAL = True

    def __init__(self, world, account: str, region: str):
        self.world = world
        self.account = account
        self.connections: dict[str, PeerConnection] = {}
        self.tags = TagStore()

    def _find_vpc(self, account: str, region: str, vpc_id: str):
        from acrx.sandbox.services.vpc.models import find_vpc_anywhere

        found = find_vpc_anywhere(self.world, vpc_id)
        if found is None or found[0] != account or found[1] != region:
            return None
        return found[2]

    def create(self, *, region: str, vpc_id: str, accepting_uid: str, accepting_region: str, accepting_vpc_id: str,
               bandwidth: int | None, link_type: str | None, name: str, description: str,
               tags: dict[str, str]) -> PeerConnection:
        if self._find_vpc(self.account, region, vpc_id) is None:
            raise ApiError("ResourceNotFound.VpcId", f"The specified resource of VpcId {vpc_id} is not found.", 404)
        if self._find_vpc(accepting_uid, accepting_region, accepting_vpc_id) is None:
            raise ApiError("ResourceNotFound.AcceptingVpcId",
                           f"The specified resource of AcceptingVpcId {accepting_vpc_id} is not found in account "
                           f"{accepting_uid}, region {accepting_region}.", 404)
        if vpc_id == accepting_vpc_id:
            raise ApiError("IllegalParam.AcceptingVpcId", "The requester VPC and the accepter VPC are the same.", 400)
        if region != accepting_region and bandwidth is None:
            raise missing_parameter("Bandwidth")   # inter-region peering is charged by bandwidth (CDT)
        for conn in all_connections(self.world):
            if conn.status in LIVE and {conn.vpc_id, conn.accepting_vpc_id} == {vpc_id, accepting_vpc_id}:
                raise ApiError("ResourceAlreadyExist.VpcPeer",
                               f"The specified resource of VpcPeer already exists: {conn.instance_id}.", 400)
        now = self.world.clock.now()
        same_account = accepting_uid == self.account
        conn = PeerConnection(
            self.world.ids.prefixed("pcc", 21), self.account, region, vpc_id, accepting_uid, accepting_region,
            accepting_vpc_id, name, description, bandwidth if bandwidth is not None else 1024,
            (link_type or "Gold") if region != accepting_region else "", now, now,
            phase="creating" if same_account else "accepting",
            op=slowop.start(self.world, "peering", PEERING_SECONDS) if same_account else None)
        self.connections[conn.instance_id] = conn
        if tags:
            self.tags.set(conn.instance_id, tags)
        return conn

    def visible(self, instance_id: str) -> PeerConnection:
        conn = find_connection(self.world, instance_id)
        if conn is None or not conn.involves(self.account):
            raise ApiError("ResourceNotFound.InstanceId",
                           f"The specified resource of InstanceId {instance_id} is not found.", 404)
        return conn

    def accept(self, instance_id: str) -> PeerConnection:
        conn = find_connection(self.world, instance_id)
        # Only the accepting account may accept; for anyone else the connection "does not exist".
        if conn is None or conn.accepting_owner_uid != self.account or conn.owner_id == self.account:
            raise ApiError("ResourceNotFound.InstanceId",
                           f"The specified resource of InstanceId {instance_id} is not found.", 404)
        if conn.status != "Accepting":
            raise ApiError("IncorrectStatus.VpcPeer", f"The status of VpcPeer [{conn.status}] is incorrect.", 400)
        conn.phase, conn.op = "updating", slowop.start(self.world, "peering", PEERING_SECONDS)
        conn.modified_at = self.world.clock.now()
        return conn

    def list(self, *, region: str, vpc_ids: list[str], instance_id: str | None, name: str | None) -> list[PeerConnection]:
        found = []
        for conn in all_connections(self.world):
            if conn.status == "Deleted":
                continue
            mine = conn.owner_id == self.account and conn.region == region
            theirs = conn.accepting_owner_uid == self.account and conn.accepting_region == region
            if not (mine or theirs):
                continue
            if vpc_ids and not ({conn.vpc_id, conn.accepting_vpc_id} & set(vpc_ids)):
                continue
            if (instance_id and conn.instance_id != instance_id) or (name and conn.name != name):
                continue
            found.append(conn)
        return sorted(found, key=lambda c: c.created_at)

    def delete(self, instance_id: str, *, force: bool) -> None:
        from acrx.sandbox.services.vpc.routes import entries_pointing_at, remove_entries_pointing_at

        conn = self.visible(instance_id)
        if conn.status in ("Creating", "Updating"):
            raise ApiError("IncorrectStatus.VpcPeer", f"The status of VpcPeer [{conn.status}] is incorrect.", 400)
        if entries_pointing_at(self.world, instance_id):
            if not force:
                raise ApiError("OperationDenied.RouteEntryExist",
                               "The operation is denied because route entries still point to the VPC peering "
                               "connection.", 400)
            remove_entries_pointing_at(self.world, instance_id)
        conn.phase, conn.op = "deleted", None

    # -- tags: ResourceType PeerConnection --------------------------------------------------
    def _own(self, resource_type: str, resource_id: str) -> PeerConnection:
        if (resource_type or "").lower() != "peerconnection":
            raise ApiError("IllegalParam.ResourceType", f"The resource type {resource_type!r} is not valid.", 400)
        conn = self.connections.get(resource_id)
        if conn is None or conn.status == "Deleted":
            raise ApiError("ResourceNotFound.ResourceId", f"The specified resource {resource_id} is not found.", 404)
        return conn

    def tag(self, resource_type: str, resource_ids: list[str], tags: dict[str, str]) -> None:
        if not resource_ids or not tags:
            raise missing_parameter("Tag" if resource_ids else "ResourceId")
        self.tags.set_all(resource_ids, tags, lambda resource_id: self._own(resource_type, resource_id))

    def untag(self, resource_type: str, resource_ids: list[str], keys: list[str] | None) -> None:
        self.tags.remove_all(resource_ids, keys, lambda resource_id: self._own(resource_type, resource_id))

    def tag_rows(self, resource_type: str, resource_ids: list[str], wanted: list[dict]):
        ids = resource_ids or [c.instance_id for c in self.connections.values() if c.status != "Deleted"]
        rows = []
        for resource_id in ids:
            conn = self._own(resource_type, resource_id)
            if self.tags.matches(resource_id, wanted):
                rows.extend((conn, k, v) for k, v in sorted(self.tags.of(resource_id).items()))
        return rows
