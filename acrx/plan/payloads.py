"""One typed payload per change kind: the `data` a handler is given, checked on every saved plan.

Keyed by the kind string a step puts on its Change (the step registry can refer to these models
by that key). Fields hold the saved form: a value known only after apply is a Ref marker
({"$ref", "attribute", "label"}), so a field that may be one is typed `Text | RefMarker`. Keys
that only some variants of a kind carry (e.g. `wait_only` on a change that only waits) are
optional; every other key is required, and no model takes a key it does not name.

A no-op is never applied, so its payload may be empty; when it has one, it is checked too.
"""

from __future__ import annotations

from typing import Any, Literal, Mapping, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class RefMarker(_Payload):
    ref: StrictStr = Field(alias="$ref")
    attribute: StrictStr
    label: Optional[StrictStr] = None


Text = Union[StrictStr, RefMarker]
OptText = Optional[Text]
Strs = list[StrictStr]


class _Located(_Payload):
    """Where a cloud-side change is made: the account alias and region."""
    alias: StrictStr
    region: StrictStr


# -- identity -------------------------------------------------------------------------------------
class RrsaPayload(_Payload):
    cluster_id: StrictStr
    region: StrictStr


class RolePayload(_Payload):
    name: StrictStr
    want_trust: dict[str, Any]
    max_session_duration: Optional[StrictInt]
    description: StrictStr
    probe_principal: OptText
    have_trust: Optional[Union[StrictStr, dict[str, Any]]]


class PolicyPayload(_Payload):
    name: StrictStr
    document: dict[str, Any]
    description: StrictStr


class AttachmentPayload(_Payload):
    principal_type: StrictStr
    principal: StrictStr
    policy: StrictStr
    policy_type: StrictStr


class ServiceRolePayload(_Payload):
    """`ram.service_role`: a RAM role trusting a cloud service, with one policy attached."""
    name: StrictStr
    trust: dict[str, Any]
    policy: StrictStr
    policy_type: StrictStr
    description: StrictStr


class UserPayload(_Payload):
    name: StrictStr
    comments: StrictStr


class AccessKeyPayload(_Payload):
    user: StrictStr
    user_owned: Optional[StrictBool] = None    # a key of acrx's own user (created, or its orphans removed)
    keep: Optional[Strs] = None                # the key the ConfigMap holds ...
    orphans: Optional[Strs] = None             # ... and keys whose secret is lost, to delete


class NamePayload(_Payload):
    name: StrictStr


class KeysDeletePayload(_Payload):
    user: StrictStr
    access_key_ids: Strs


# -- cluster side ---------------------------------------------------------------------------------
class AddonPayload(_Payload):
    name: StrictStr
    config: Text
    cluster_id: StrictStr


class AddonDeletePayload(_Payload):
    name: StrictStr
    cluster_id: StrictStr


class PodRestartPayload(_Payload):
    namespace: StrictStr
    name: StrictStr
    uid: Optional[StrictStr]
    selector: Any


class ConfigMapPayload(_Payload):
    namespace: StrictStr
    name: StrictStr
    entries: list[Any]
    rrsa: StrictBool
    service_accounts: Strs
    watch_namespaces: Strs
    expiring_threshold: StrictStr
    notify_email: Optional[StrictStr]


class ConfigMapDeletePayload(_Payload):
    namespace: StrictStr
    name: StrictStr
    keys: Strs
    delete_configmap: StrictBool


class DeploymentDeletePayload(_Payload):
    namespace: StrictStr
    name: StrictStr


class KeepPayload(_Payload):
    """`keep`: the no-op of a destroy plan for what stays; it carries nothing."""


# -- network --------------------------------------------------------------------------------------
class EndpointPayload(_Located):
    instance_id: StrictStr


class AclPayload(EndpointPayload):
    cidr: StrictStr


class VpcLinkPayload(EndpointPayload):
    vpc_id: StrictStr
    vswitch_id: Optional[StrictStr]
    wait_only: Optional[Literal[True]] = None


class PeeringPayload(_Payload):
    requester: StrictStr
    accepter: Optional[StrictStr]
    region: StrictStr
    accepter_region: StrictStr
    # a new connection
    vpc_id: Optional[StrictStr] = None
    accepting_uid: Optional[StrictStr] = None
    accepting_vpc_id: Optional[StrictStr] = None
    name: Optional[StrictStr] = None
    # an existing one still to be accepted
    peering_id: Optional[StrictStr] = None


class RoutePayload(_Located):
    route_table_id: StrictStr
    destination: StrictStr
    next_hop_type: StrictStr
    next_hop_id: Text
    wait_only: Optional[Literal[True]] = None


class CenRouteTablePayload(_Located):
    """cen.route_table: an attachment's association with, or propagation into, its router's table."""
    kind: Literal["association", "propagation"]
    attachment_id: Text
    transit_router_id: Text
    wait_only: Optional[Literal[True]] = None


class ZonePayload(_Located):
    domain: StrictStr


class RecordPayload(ZonePayload):
    zone_id: Text
    value: Text
    stale_ids: Optional[Strs] = None     # an update that removes other apex records
    present: Optional[StrictBool] = None


class BindingPayload(ZonePayload):
    zone_id: Text
    existing: list[dict[str, StrictStr]]
    vpc_id: StrictStr
    vpc_region: StrictStr


class CenPayload(_Located):
    name: StrictStr


class TransitRouterPayload(_Located):
    cen_id: Text
    name: StrictStr


class GrantPayload(_Located):
    vpc_id: StrictStr
    cen_id: Text
    cen_owner_id: StrictStr


class CenAttachmentPayload(_Located):
    cen_id: Text
    vpc_id: StrictStr
    # a new attachment
    transit_router_id: OptText = None
    vpc_owner_uid: Optional[StrictStr] = None
    zone_mappings: Optional[list[Any]] = None
    name: Optional[StrictStr] = None
    # an existing one still attaching
    attachment_id: Optional[StrictStr] = None


class ZoneVswitchPayload(_Located):
    """vpc.zone_vswitch: the small vSwitch --create-zone-vswitch makes in a zone a transit router needs."""
    vpc_id: StrictStr
    zone_id: StrictStr
    cidr: StrictStr
    name: StrictStr


class ZoneVswitchDeletePayload(_Located):
    vswitch_id: StrictStr
    vpc_id: StrictStr


class EndpointDisablePayload(EndpointPayload):
    record_only: Optional[Literal[True]] = None   # already off: only acrx's record of it goes


class RouteDeletePayload(_Located):
    route_table_id: StrictStr
    destination: StrictStr
    next_hop_id: StrictStr
    route_entry_id: Optional[StrictStr]


class PeeringDeletePayload(_Located):
    peering_id: StrictStr


class CenDeletePayload(_Located):
    cen_id: StrictStr


class CenAttachmentDeletePayload(CenDeletePayload):
    attachment_id: StrictStr
    peer: StrictBool


class TransitRouterDeletePayload(CenDeletePayload):
    transit_router_id: StrictStr


class GrantDeletePayload(_Located):
    vpc_id: StrictStr
    cen_id: StrictStr
    cen_owner_id: StrictStr


class ZoneDeletePayload(_Located):
    zone_id: StrictStr
    domain: StrictStr


class RecordsDeletePayload(ZoneDeletePayload):
    record_ids: Strs


class BindingDeletePayload(ZoneDeletePayload):
    vpc_id: StrictStr


class AclDeletePayload(_Located):
    instance_id: StrictStr
    cidr: StrictStr


class EndpointHandoverPayload(_Payload):
    """The registry members (["role" | "user", name]) that take over acrx's endpoint switch."""
    members: list[tuple[Literal["role", "user"], StrictStr]]
    clusters: Strs
    instance_id: StrictStr


PAYLOADS: dict[str, type[_Payload]] = {
    "cs.rrsa": RrsaPayload,
    "ram.role": RolePayload,
    "ram.service_role": ServiceRolePayload,
    "ram.policy": PolicyPayload,
    "ram.policy_attachment": AttachmentPayload,
    "ram.user": UserPayload,
    "ram.access_key": AccessKeyPayload,
    "ram.role.delete": NamePayload,
    "ram.policy.delete": NamePayload,
    "ram.policy_attachment.delete": AttachmentPayload,
    "ram.user.delete": NamePayload,
    "ram.access_key.delete": KeysDeletePayload,
    "cs.addon": AddonPayload,
    "cs.addon.delete": AddonDeletePayload,
    "k8s.pod": PodRestartPayload,
    "k8s.configmap": ConfigMapPayload,
    "k8s.configmap.delete": ConfigMapDeletePayload,
    "k8s.deployment.delete": DeploymentDeletePayload,
    "keep": KeepPayload,
    "cr.endpoint.internet": EndpointPayload,
    "cr.acl": AclPayload,
    "cr.vpc_link": VpcLinkPayload,
    "vpc.peering": PeeringPayload,
    "vpc.route": RoutePayload,
    "pvtz.zone": ZonePayload,
    "pvtz.record": RecordPayload,
    "pvtz.binding": BindingPayload,
    "cen.instance": CenPayload,
    "cen.transit_router": TransitRouterPayload,
    "cen.grant": GrantPayload,
    "cen.attachment": CenAttachmentPayload,
    "cen.route_table": CenRouteTablePayload,
    "vpc.zone_vswitch": ZoneVswitchPayload,
    "vpc.zone_vswitch.delete": ZoneVswitchDeletePayload,
    "vpc.route.delete": RouteDeletePayload,
    "vpc.peering.delete": PeeringDeletePayload,
    "cen.attachment.delete": CenAttachmentDeletePayload,
    "cen.grant.delete": GrantDeletePayload,
    "cen.transit_router.delete": TransitRouterDeletePayload,
    "cen.instance.delete": CenDeletePayload,
    "pvtz.record.delete": RecordsDeletePayload,
    "pvtz.binding.delete": BindingDeletePayload,
    "pvtz.zone.delete": ZoneDeletePayload,
    "cr.acl.delete": AclDeletePayload,
    "cr.endpoint.disable": EndpointDisablePayload,
    "ram.member.endpoint_handover": EndpointHandoverPayload,
}


class PayloadInvalid(ValueError):
    def __init__(self, address: str, why: str):
        self.address = address
        super().__init__(f"change {address}: {why}")


def check_payload(address: str, kind: Any, action: str, data: Any) -> None:
    """Raise PayloadInvalid unless `data` (saved form) is exactly what a `kind` change carries."""
    model = PAYLOADS.get(kind) if isinstance(kind, str) else None
    if model is None:
        raise PayloadInvalid(address, f"unknown change kind {kind!r}")
    if not isinstance(data, Mapping):
        raise PayloadInvalid(address, "its data is not an object")
    if action == "no-op" and not data:
        return
    try:
        model.model_validate(dict(data))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "data"
        raise PayloadInvalid(address, f"data.{where}: {first.get('msg', 'invalid')}") from None
