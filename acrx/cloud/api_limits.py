"""The published per-account, per-API rate limits acrx keeps below (issue 16): a count per period
("3/1(s)", "300/60(s)") per (account, region, API), as each product's "Flow control information"
page states it. The sandbox holds its own copy (acrx/sandbox/core/qps_limits.py, with the pages'
addresses); tests/test_api_limits.py checks that both agree and cover every API acrx calls.

- The period is kept: acrx's bucket for "300/60(s)" refills at 300/60 per second and bursts at most
  what the window allows, so a fixed 60 s window on the cloud's side never sees more than 300.
- Two disagreeing copies of a page: both figures are kept (a call waits for every window).
- [?]: no figure found for that API or product; the assumption and why are in the source text.
- RAM, STS and PrivateZone are global: their calls count in one region.
"""

from __future__ import annotations

from dataclasses import dataclass

Window = tuple[float, float]        # (calls, period in seconds)

GLOBAL_PRODUCTS = frozenset({"ram", "sts", "pvtz"})

RAM = "api-ram-2015-05-01-quota"
STS = "api-sts-2015-04-01-quota"
CBN = "api-cbn-2017-09-12-quota"
VPC = "api-vpc-2016-04-28-quota"
VPCPEER = "api-vpcpeer-2022-01-01-quota"
CS = "api-cs-2015-12-15-quota"


@dataclass(frozen=True)
class Limit:
    windows: tuple[Window, ...]
    source: str            # the page, or "[?] ..." for an assumption and its reasoning


def _rows(product: str, actions: str, windows: tuple[Window, ...], source: str) -> dict[str, Limit]:
    return {f"{product}:{a}": Limit(windows, source) for a in actions.split()}


LIMITS: dict[str, Limit] = {
    # RAM: reads 100/1(s), writes 20/1(s), attach/detach 10/1(s) on the published page.
    **_rows("ram", "GetRole GetUser ListAccessKeys ListPoliciesForRole ListPoliciesForUser ListTagResources "
            "ListUsers", ((100, 1),), RAM),
    **_rows("ram", "CreateRole DeleteRole CreatePolicy CreatePolicyVersion DeletePolicy DeletePolicyVersion "
            "CreateAccessKey DeleteUser", ((20, 1),), RAM),
    **_rows("ram", "AttachPolicyToRole DetachPolicyFromRole AttachPolicyToUser", ((10, 1),), RAM),
    **_rows("ram", "GetPolicy ListPolicyVersions ListRoles ListEntitiesForPolicy", ((20, 1),),
            "[?] read not on the page: 20/1(s), below RAM's published 100/1(s) for reads"),
    **_rows("ram", "CreateUser UpdateRole UpdateUser DeleteAccessKey", ((20, 1),),
            "[?] write not on the page: 20/1(s) as RAM's other writes"),
    **_rows("ram", "DetachPolicyFromUser", ((10, 1),), "[?] not on the page: 10/1(s) as its siblings"),
    # STS: all three 100/1(s) (also the 2022-08-29 notice "Request Limit Upgrade of STS AssumeRole API").
    **_rows("sts", "AssumeRole AssumeRoleWithOIDC GetCallerIdentity", ((100, 1),), STS),
    # CBN: transit-router writes 3/1(s); CEN reads per 60 s; two copies disagree on two rows.
    **_rows("cbn", "CreateTransitRouter DeleteTransitRouterVpcAttachment DeleteTransitRouterPeerAttachment",
            ((3, 1),), CBN),
    **_rows("cbn", "DeleteTransitRouter", ((3, 1), (50, 60)), CBN + " (copies: 3/1(s) and 50/60(s); both)"),
    **_rows("cbn", "CreateCen", ((300, 60),), CBN),
    **_rows("cbn", "DescribeCens", ((300, 60),), CBN + " (copies: 300/60(s) and 350/60(s); the lower)"),
    **_rows("cbn", "ListTransitRouters", ((500, 60), (20, 1)), CBN + " (copies: 500/60(s) and 20/1(s); both)"),
    **_rows("cbn", "CreateTransitRouterVpcAttachment AssociateTransitRouterAttachmentWithRouteTable "
            "EnableTransitRouterRouteTablePropagation GrantInstanceToTransitRouter RevokeInstanceFromTransitRouter "
            "DeleteCen", ((3, 1),), "[?] write not on the page: 3/1(s) as CBN's published transit-router writes"),
    **_rows("cbn", "ListTransitRouterVpcAttachments ListTransitRouterPeerAttachments ListTransitRouterRouteTables "
            "DescribeGrantRulesToResource ListTransitRouterAvailableResource", ((300, 60),),
            "[?] read not on the page: 300/60(s), CBN's lowest published read figure per 60 s"),
    # VPC: route and vSwitch APIs publish 300/60(s).
    **_rows("vpc", "CreateVSwitch TagResources", ((300, 60),), VPC),
    **_rows("vpc", "CreateRouteEntry DeleteRouteEntry DescribeRouteEntryList DescribeVSwitches DescribeVSwitchAttributes "
            "DescribeVpcAttribute DescribeNatGateways DescribeSnatTableEntries DeleteVSwitch", ((300, 60),),
            "[?] not in the excerpts seen: 300/60(s) as ModifyRouteEntry, DeleteRouteEntries, CreateVSwitch"),
    # VpcPeer: every API acrx calls 360/60(s).
    **_rows("vpcpeer", "CreateVpcPeerConnection AcceptVpcPeerConnection DeleteVpcPeerConnection "
            "GetVpcPeerConnectionAttribute ListVpcPeerConnections", ((360, 60),), VPCPEER),
    # CS: 35/10(s) for nearly every API on the page.
    **_rows("cs", "ModifyCluster ListClusterAddonInstances DescribeAddon DescribeClusterUserKubeconfig",
            ((35, 10),), CS),
    **_rows("cs", "DescribeClusterDetail DescribeClusterNodePools DescribeClustersV1 DescribeTaskInfo "
            "GetClusterAddonInstance InstallClusterAddons ModifyClusterAddon UnInstallClusterAddons", ((35, 10),),
            "[?] not in the excerpt seen: 35/10(s), the figure of nearly every CS API on the page"),
    # CR and PrivateZone: no page found.
    **_rows("cr", "CreateInstanceEndpointAclPolicy CreateInstanceVpcEndpointLinkedVpc DeleteInstanceEndpointAclPolicy "
            "DeleteInstanceVpcEndpointLinkedVpc GetAuthorizationToken GetInstance GetInstanceEndpoint "
            "GetInstanceVpcEndpoint GetRepository ListInstance ListInstanceEndpoint ListRepoTag ListRepository "
            "UpdateInstanceEndpointStatus", ((20, 1),),
            "[?] no CR page found: 20/1(s), the lowest per-second figure common to the pages above"),
    **_rows("pvtz", "AddZone AddZoneRecord BindZoneVpc DeleteZone DeleteZoneRecord DescribeZoneInfo "
            "DescribeZoneRecords DescribeZones TagResources", ((20, 1),),
            "[?] no PrivateZone page found: 20/1(s), the lowest per-second figure common to the pages above"),
}

# Anything not in the table (a new API): the stricter of the per-second figures above.
DEFAULT = Limit(((20, 1),), "[?] an API not in this table: 20/1(s)")


def windows_for(action: str) -> tuple[Window, ...]:
    """The windows of "product:Action" (DEFAULT when the table has no row)."""
    return LIMITS.get(action, DEFAULT).windows


def region_key(action: str, region: str | None) -> str:
    """The region part of the cloud's counting dimension: "" for the global products."""
    return "" if action.split(":", 1)[0] in GLOBAL_PRODUCTS else (region or "")
