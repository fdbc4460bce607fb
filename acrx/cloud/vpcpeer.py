"""VpcPeer (2022-01-01, RPC, central endpoint) in acrx vocabulary: VPC peering connections.

The requester (account A) creates, the accepter (account B) accepts. Creates carry a ClientToken
so a retried create answers the same connection; the acrx mark is a tag on the connection.
"""

from __future__ import annotations

from dataclasses import dataclass

from acrx.cloud.adapter import CloudApi


@dataclass(frozen=True)
class Peering:
    id: str
    status: str                  # Creating | Accepting | Updating | Activated | ...
    region: str
    vpc_id: str
    owner_id: str
    accepting_uid: str
    accepting_region: str
    accepting_vpc_id: str
    bandwidth: int | None = None
    name: str = ""
    tags: tuple[tuple[str, str], ...] = ()

    def tag(self, key: str) -> str | None:
        return dict(self.tags).get(key)


def _peering(raw: dict) -> Peering:
    vpc, accepting = raw.get("Vpc") or {}, raw.get("AcceptingVpc") or {}
    tags = tuple((t.get("Key", ""), t.get("Value", "")) for t in raw.get("Tags") or [] if isinstance(t, dict))
    bandwidth = raw.get("Bandwidth")
    return Peering(raw.get("InstanceId", ""), raw.get("Status", ""), raw.get("RegionId", ""),
                   vpc.get("VpcId", ""), str(raw.get("OwnerId") or ""), str(raw.get("AcceptingOwnerUid") or ""),
                   raw.get("AcceptingRegionId", ""), accepting.get("VpcId", ""),
                   int(bandwidth) if bandwidth not in (None, "") else None, raw.get("Name") or "", tags)


class VpcPeerApi(CloudApi):
    PRODUCT = "vpcpeer"
    MODELS = "alibabacloud_vpcpeer20220101.models"

    def list(self, region: str, vpc_id: str | None = None) -> list[Peering]:
        """Connections of this account in `region` (as requester or accepter), optionally of one VPC."""
        m = self._m()
        rows = self._token_pages(
            "ListVpcPeerConnections", "list_vpc_peer_connections_with_options",
            lambda token: m.ListVpcPeerConnectionsRequest(region_id=region, vpc_id=[vpc_id] if vpc_id else None,
                                                          next_token=token, max_results=100),
            "VpcPeerConnects")
        return [_peering(r) for r in rows]

    def get(self, peering_id: str) -> Peering | None:
        body = self._read("GetVpcPeerConnectionAttribute", "get_vpc_peer_connection_attribute_with_options",
                          self._m().GetVpcPeerConnectionAttributeRequest(instance_id=peering_id))
        return None if body is None else _peering(body)

    def create(self, *, region: str, vpc_id: str, accepting_uid: str, accepting_region: str, accepting_vpc_id: str,
               name: str, description: str, client_token: str, tags: dict[str, str] | None = None) -> str:
        m = self._m()
        req = m.CreateVpcPeerConnectionRequest(
            region_id=region, vpc_id=vpc_id, accepting_ali_uid=int(accepting_uid), accepting_region_id=accepting_region,
            accepting_vpc_id=accepting_vpc_id, name=name, description=description, client_token=client_token,
            tag=[m.CreateVpcPeerConnectionRequestTag(key=k, value=v) for k, v in sorted((tags or {}).items())] or None)
        return self._call("CreateVpcPeerConnection", "create_vpc_peer_connection_with_options", req,
                          idempotent=True).get("InstanceId", "")

    def delete_peering(self, peering_id: str, *, missing_ok: bool = False) -> bool:
        """Delete a connection; False when already gone and missing_ok. No Force: routes that still
        point at it must stop the delete, not vanish with it."""
        return self._delete("DeleteVpcPeerConnection", "delete_vpc_peer_connection_with_options",
                            self._m().DeleteVpcPeerConnectionRequest(instance_id=peering_id), missing_ok=missing_ok,
                            idempotent=True)

    def accept(self, peering_id: str) -> None:
        def accepted() -> dict | None:
            # past Accepting, the acceptance was taken (a lost answer is then no failure)
            peering = self.get(peering_id)
            return {} if peering is not None and peering.status not in ("Accepting", "Creating") else None

        self._create("AcceptVpcPeerConnection", "accept_vpc_peer_connection_with_options",
                     self._m().AcceptVpcPeerConnectionRequest(instance_id=peering_id), confirm=accepted)
