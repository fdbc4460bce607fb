"""The least-privilege RAM policy the person or pipeline running acrx needs in one account.

Pure: a table of every cloud action acrx's adapters (acrx/cloud/*.py) call, each with the account
it is called in, the modes and network modes whose steps call it, the resource it acts on, and
whether the read-only commands (plan, verify, doctor) call it or only setup and destroy do.
`policy()` picks the rows for one account x mode x network and renders a RAM policy document;
`reasons()` says why each action is there and why a resource is "*".

Under network none the full policy also holds the reads and deletes of the peering and CEN rows:
the path none relies on is made by `acrx network apply --via peering|cen`, and destroy removes it.

Phases: PLAN rows are called by plan (hence also by verify, doctor, setup and destroy); APPLY rows
by setup or destroy only; DOCTOR rows by doctor only (a probe it tolerates failing). SCAN rows are
reads destroy makes under every network mode, because it looks for everything acrx may have
made before the settings changed.

RAM action names are the API names (`<product>:<Action>`) for every API used here; resource ARNs
follow RAM's per-product forms (acs:ram:*:<uid>:role/<name>, acs:cs:<region>:<uid>:cluster/<id>,
acs:cr:<region>:<uid>:instance/<id>). Where a product authorises an API on no narrower resource
than the account (VPC, CEN, PrivateZone describes and creates, CS tasks and the addon catalogue),
the row says "*" and why.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from acrx import facts

CLUSTER, REGISTRY = "cluster", "registry"
PLAN, APPLY, DOCTOR = "plan", "apply", "doctor"
MODES, NETS = facts.MODES, facts.NETWORK_MODES
ROLES_MODES = ("rrsa", "worker-role")
AK = ("access-key",)
VPC_NETS = ("peering", "cen")
WORKER_ROLE_PATTERN = "KubernetesWorkerRole-*"   # ACK names the worker role KubernetesWorkerRole-<uuid>

# Why a resource is "*" (printed by --explain; RAM policies cannot hold comments).
ANY_WHY = {
    "vpc": "VPC authorises these on the account's VPC resources, whose ids acrx discovers at run time",
    "cen": "CEN instances, transit routers and attachments are created or discovered at run time",
    "pvtz": "the PrivateZone zone id exists only after AddZone",
    "cs": "CS tasks and the addon catalogue are not cluster resources; the cluster list covers every cluster",
    "cr": "GetAuthorizationToken is not scoped to an instance",
}


@dataclass(frozen=True)
class Need:
    account: str
    action: str
    resource: str          # a key _resources() resolves: cluster, instance, role:*, policy:*, user, tags, assume, any:*
    phase: str             # PLAN | APPLY | DOCTOR
    why: str
    modes: tuple = MODES
    networks: tuple = NETS
    scan: bool = False     # destroy reads it under every network mode
    cleanup: bool = False  # under network none, destroy removes what `network apply --via peering|cen` made
    selector: bool = False  # only `--cluster-selector` calls it: in the policy only when asked for (--selector)


def _n(account, action, resource, phase, why, modes=MODES, networks=NETS, scan=False, cleanup=None,
       selector=False) -> Need:
    # Rows of the peering/cen paths are cleanup rows unless they create: destroy under network none
    # removes the path `acrx network apply --via peering|cen` made for it (docs/configuration.md).
    if cleanup is None:
        cleanup = set(networks) & set(VPC_NETS) and not re.search(r":(Create|Add|Accept|Grant|Tag|Associate|Enable)",
                                                                  action)
    return Need(account, action, resource, phase, why, tuple(modes), tuple(networks), scan, bool(cleanup), selector)


def _cen_owner(account: str, whose: str, scan: bool) -> tuple[Need, ...]:
    """What the account owning the CEN calls on it (`whose`: which CEN that is): the registry
    account for the hub; the cluster's for a CEN there. `scan`: destroy reads it under every
    network mode (the hub's attachments say who still uses it)."""
    rows = (("ListTransitRouters", PLAN, "transit routers", scan),
            ("ListTransitRouterVpcAttachments", PLAN, "VPC attachments: who uses the CEN", scan),
            ("ListTransitRouterAvailableResource", PLAN, "zones a transit router attachment may use", False),
            ("ListTransitRouterRouteTables", PLAN, "the transit router's route table", False),
            ("ListTransitRouterRouteTableAssociations", PLAN, "attachment associations", False),
            ("ListTransitRouterRouteTablePropagations", PLAN, "attachment propagations", False),
            ("CreateTransitRouter", APPLY, "the transit router in the region", False),
            ("CreateTransitRouterVpcAttachment", APPLY, "attach the VPCs (one of another account once granted)", False),
            ("AssociateTransitRouterAttachmentWithRouteTable", APPLY, "associate attachments", False),
            ("EnableTransitRouterRouteTablePropagation", APPLY, "propagate routes", False),
            ("DeleteTransitRouterVpcAttachment", APPLY, "destroy: the cluster's attachment; B's with the last", False),
            ("DeleteTransitRouter", APPLY, "destroy: the transit router, with the last attachment", False))
    return tuple(_n(account, f"cen:{action}", "any:cen", phase, f"{why} ({whose})", networks=("cen",), scan=reads)
                 for action, phase, why, reads in rows)


NEEDS: tuple[Need, ...] = (
    # -- account A: the cluster (CS) ----------------------------------------------------------
    _n(CLUSTER, "cs:DescribeClusterDetail", "cluster", PLAN, "read the cluster (version, VPC, RRSA, worker role)"),
    _n(CLUSTER, "cs:DescribeClusterUserKubeconfig", "cluster", PLAN,
       "kubeconfig for the ConfigMap, the verify Deployment and doctor (plan without --dry-run reads the cluster)"),
    _n(CLUSTER, "cs:DescribeClusterNodePools", "cluster", PLAN, "the node pools' vSwitches (where pulls leave from)"),
    # DescribeClustersV1 is authorised as cs:GetClusters (its API reference, "Authorization information").
    _n(CLUSTER, "cs:GetClusters", "any:cs", PLAN,
       "fleet --cluster-selector: the account's clusters with their tags (DescribeClustersV1)", selector=True),
    _n(CLUSTER, "cs:DescribeAddon", "any:cs", PLAN, "the addon's catalogue entry and versions"),
    _n(CLUSTER, "cs:ListClusterAddonInstances", "cluster", PLAN, "which addons are installed"),
    _n(CLUSTER, "cs:GetClusterAddonInstance", "cluster", PLAN, "the installed addon's config"),
    _n(CLUSTER, "cs:InstallClusterAddons", "cluster", APPLY, "install the credential helper"),
    _n(CLUSTER, "cs:ModifyClusterAddon", "cluster", APPLY, "update the addon's config"),
    _n(CLUSTER, "cs:UnInstallClusterAddons", "cluster", APPLY, "destroy: remove the addon acrx installed"),
    _n(CLUSTER, "cs:DescribeTaskInfo", "any:cs", APPLY, "wait for the RRSA and addon tasks"),
    _n(CLUSTER, "cs:ModifyCluster", "cluster", APPLY, "turn RRSA on", modes=("rrsa",)),
    # -- account A: RAM -------------------------------------------------------------------------
    _n(CLUSTER, "ram:GetRole", "role:cluster", PLAN, "read the RRSA role", modes=("rrsa",)),
    _n(CLUSTER, "ram:GetRole", "role:cluster", APPLY, "destroy: look for the RRSA role of an earlier mode"),
    _n(CLUSTER, "ram:GetRole", "role:worker", PLAN, "read the worker role", modes=("worker-role",)),
    _n(CLUSTER, "ram:GetRole", "role:worker", APPLY, "destroy: detach acrx's policy from the worker role"),
    _n(CLUSTER, "ram:GetRole", "role:service", PLAN, "read AliyunCSManagedAcrRole, which the addon install needs"),
    _n(CLUSTER, "ram:ListPoliciesForRole", "role:cluster", PLAN, "policies attached to the RRSA role", modes=("rrsa",)),
    _n(CLUSTER, "ram:ListPoliciesForRole", "role:worker", PLAN, "policies attached to the worker role",
       modes=ROLES_MODES),
    _n(CLUSTER, "ram:ListPoliciesForRole", "role:service", PLAN, "policies attached to AliyunCSManagedAcrRole"),
    _n(CLUSTER, "ram:ListTagResources", "tags", PLAN, "ownership tags of roles"),
    _n(CLUSTER, "ram:ListRoles", "role:all", PLAN, "fleet plan: every cluster role's ownership tags in one "
       "listing (refused: one ListTagResources per role)"),
    _n(CLUSTER, "ram:GetPolicy", "policy:assume", PLAN, "read the sts:AssumeRole policy", modes=ROLES_MODES),
    _n(CLUSTER, "ram:GetPolicy", "policy:assume", APPLY, "destroy: look for the assume policy of an earlier mode"),
    _n(CLUSTER, "ram:ListPolicyVersions", "policy:assume", APPLY, "policy versions before an update or delete",
       modes=ROLES_MODES),
    _n(CLUSTER, "ram:CreatePolicy", "policy:assume", APPLY, "create the sts:AssumeRole policy", modes=ROLES_MODES),
    _n(CLUSTER, "ram:CreatePolicyVersion", "policy:assume", APPLY, "update a drifted assume policy",
       modes=ROLES_MODES),
    _n(CLUSTER, "ram:DeletePolicyVersion", "policy:assume", APPLY, "drop old versions (RAM keeps at most 5)",
       modes=ROLES_MODES),
    _n(CLUSTER, "ram:DeletePolicy", "policy:assume", APPLY, "destroy: remove the assume policy", modes=ROLES_MODES),
    _n(CLUSTER, "ram:CreateRole", "role:cluster", APPLY, "create the RRSA role", modes=("rrsa",)),
    _n(CLUSTER, "ram:UpdateRole", "role:cluster", APPLY, "fix a drifted trust policy", modes=("rrsa",)),
    _n(CLUSTER, "ram:DeleteRole", "role:cluster", APPLY, "destroy: remove the RRSA role", modes=("rrsa",)),
    _n(CLUSTER, "ram:AttachPolicyToRole", "role:cluster", APPLY, "attach the assume policy", modes=("rrsa",)),
    _n(CLUSTER, "ram:DetachPolicyFromRole", "role:cluster", APPLY, "destroy: detach the assume policy",
       modes=("rrsa",)),
    _n(CLUSTER, "ram:AttachPolicyToRole", "role:worker", APPLY, "attach the assume policy to the worker role",
       modes=("worker-role",)),
    _n(CLUSTER, "ram:DetachPolicyFromRole", "role:worker", APPLY, "destroy: detach it from the worker role",
       modes=("worker-role",)),
    _n(CLUSTER, "ram:CreateRole", "role:service", APPLY, "create AliyunCSManagedAcrRole when the cluster needs it"),
    _n(CLUSTER, "ram:UpdateRole", "role:service", APPLY, "add the CS trust statement to an adopted service role"),
    _n(CLUSTER, "ram:AttachPolicyToRole", "role:service", APPLY, "attach AliyunCSManagedAcrRolePolicy"),
    _n(CLUSTER, "sts:AssumeRole", "assume", DOCTOR, "doctor's registry probe with an STS session of the pull role",
       modes=ROLES_MODES),
    # -- account A: VPC, peering, CEN, PrivateZone ------------------------------------------------
    _n(CLUSTER, "vpc:DescribeVpcAttribute", "any:vpc", PLAN, "the cluster VPC's CIDRs"),
    _n(CLUSTER, "vpc:DescribeVSwitchAttributes", "any:vpc", PLAN, "the nodes' vSwitches and route tables"),
    _n(CLUSTER, "vpc:DescribeRouteEntryList", "any:vpc", PLAN, "routes towards the registry"),
    _n(CLUSTER, "vpc:DescribeNatGateways", "any:vpc", PLAN, "the cluster's egress (public ACL, route checks)"),
    _n(CLUSTER, "vpc:DescribeSnatTableEntries", "any:vpc", PLAN, "the cluster's egress IPs"),
    _n(CLUSTER, "vpc:CreateRouteEntry", "any:vpc", APPLY, "route to the registry", networks=VPC_NETS),
    _n(CLUSTER, "vpc:DeleteRouteEntry", "any:vpc", APPLY, "destroy: remove acrx's routes", networks=VPC_NETS),
    _n(CLUSTER, "vpc:ListVpcPeerConnections", "any:vpc", PLAN, "find acrx's peering", networks=("peering",),
       scan=True),
    _n(CLUSTER, "vpc:GetVpcPeerConnectionAttribute", "any:vpc", APPLY, "wait for the peering to activate",
       networks=("peering",)),
    _n(CLUSTER, "vpc:CreateVpcPeerConnection", "any:vpc", APPLY, "request the peering", networks=("peering",)),
    _n(CLUSTER, "vpc:DeleteVpcPeerConnection", "any:vpc", APPLY, "destroy: remove the peering",
       networks=("peering",)),
    # The CEN is the registry account's hub (issue 16); in the cluster's account acrx grants its VPC
    # to it, and works on a CEN only when it is there: network.cen_id of a CEN of this account, or
    # the per-cluster CEN an older acrx made here (kept for setup, removed by destroy).
    _n(CLUSTER, "cen:DescribeCens", "any:cen", PLAN, "find a CEN an older acrx made for the cluster, or "
       "network.cen_id's owner", networks=("cen",), scan=True),
    _n(CLUSTER, "cen:DescribeGrantRulesToResource", "any:cen", PLAN, "the cluster VPC's grant to the hub",
       networks=("cen",)),
    _n(CLUSTER, "cen:GrantInstanceToTransitRouter", "any:cen", APPLY, "grant the cluster's VPC to the hub",
       networks=("cen",)),
    _n(CLUSTER, "cen:RevokeInstanceFromTransitRouter", "any:cen", APPLY, "destroy: revoke the grant",
       networks=("cen",)),
    _n(CLUSTER, "vpc:DescribeVSwitches", "any:vpc", PLAN, "cen: a vSwitch in each zone the transit router needs",
       networks=("cen",)),
    _n(CLUSTER, "vpc:CreateVSwitch", "any:vpc", APPLY, "cen --create-zone-vswitch: a vSwitch in a missing zone",
       networks=("cen",)),
    _n(CLUSTER, "vpc:DeleteVSwitch", "any:vpc", APPLY, "destroy: the vSwitch --create-zone-vswitch made",
       networks=("cen",)),
    *_cen_owner(CLUSTER, "a CEN in this account: network.cen_id's, or one an older acrx made", scan=False),
    _n(CLUSTER, "cen:ListTransitRouterPeerAttachments", "any:cen", APPLY,
       "destroy: cross-region attachments an older acrx made", networks=("cen",)),
    _n(CLUSTER, "cen:DeleteTransitRouterPeerAttachment", "any:cen", APPLY, "destroy: the region link",
       networks=("cen",)),
    _n(CLUSTER, "cen:DeleteCen", "any:cen", APPLY, "destroy: the per-cluster CEN an older acrx made",
       networks=("cen",)),
    _n(CLUSTER, "pvtz:DescribeZones", "any:pvtz", PLAN, "find the registry's private zone",
       networks=("peering", "cen", "none"), scan=True),
    _n(CLUSTER, "pvtz:DescribeZoneInfo", "any:pvtz", PLAN, "the zone's VPC bindings",
       networks=("peering", "cen", "none")),
    _n(CLUSTER, "pvtz:DescribeZoneRecords", "any:pvtz", PLAN, "the zone's records",
       networks=("peering", "cen", "none")),
    _n(CLUSTER, "pvtz:AddZone", "any:pvtz", APPLY, "create the zone", networks=VPC_NETS),
    _n(CLUSTER, "pvtz:TagResources", "any:pvtz", APPLY, "mark the zone as acrx's", networks=VPC_NETS),
    _n(CLUSTER, "pvtz:AddZoneRecord", "any:pvtz", APPLY, "the registry's A record", networks=VPC_NETS),
    _n(CLUSTER, "pvtz:BindZoneVpc", "any:pvtz", APPLY, "bind the zone to the cluster VPC", networks=VPC_NETS),
    _n(CLUSTER, "pvtz:DeleteZoneRecord", "any:pvtz", APPLY, "destroy: the record", networks=VPC_NETS),
    _n(CLUSTER, "pvtz:DeleteZone", "any:pvtz", APPLY, "destroy: the zone acrx created", networks=VPC_NETS),
    # -- account B: the registry (CR) ----------------------------------------------------------
    _n(REGISTRY, "cr:GetInstance", "instance", PLAN, "read the instance (name, edition, status)"),
    _n(REGISTRY, "cr:ListInstanceEndpoint", "instance", PLAN, "its domains and endpoints"),
    _n(REGISTRY, "cr:GetInstanceVpcEndpoint", "instance", PLAN, "its VPC endpoint and linked VPCs"),
    _n(REGISTRY, "cr:ListRepository", "instance", DOCTOR, "pick the verify image when verify.image is unset"),
    _n(REGISTRY, "cr:ListRepoTag", "instance", DOCTOR, "pick the verify image's tag"),
    _n(REGISTRY, "cr:GetInstanceEndpoint", "instance", APPLY, "the internet endpoint and its ACL",
       networks=("public",), scan=True),
    _n(REGISTRY, "cr:UpdateInstanceEndpointStatus", "instance", APPLY, "switch the internet endpoint",
       networks=("public",)),
    _n(REGISTRY, "cr:CreateInstanceEndpointAclPolicy", "instance", APPLY, "admit the cluster's egress IPs",
       networks=("public",)),
    _n(REGISTRY, "cr:DeleteInstanceEndpointAclPolicy", "instance", APPLY, "destroy: acrx's ACL entries",
       networks=("public",)),
    _n(REGISTRY, "cr:CreateInstanceVpcEndpointLinkedVpc", "instance", APPLY, "link B's VPC to the instance",
       networks=VPC_NETS),
    _n(REGISTRY, "cr:DeleteInstanceVpcEndpointLinkedVpc", "instance", APPLY, "destroy: the VPC link acrx made",
       networks=VPC_NETS),
    # -- account B: RAM -------------------------------------------------------------------------
    _n(REGISTRY, "ram:GetPolicy", "policy:pull", PLAN, "read the pull policy"),
    _n(REGISTRY, "ram:ListPolicyVersions", "policy:pull", APPLY, "policy versions before an update or delete"),
    _n(REGISTRY, "ram:CreatePolicy", "policy:pull", APPLY, "create the pull policy"),
    _n(REGISTRY, "ram:CreatePolicyVersion", "policy:pull", APPLY, "update a drifted pull policy"),
    _n(REGISTRY, "ram:DeletePolicyVersion", "policy:pull", APPLY, "drop old versions (RAM keeps at most 5)"),
    _n(REGISTRY, "ram:DeletePolicy", "policy:pull", APPLY, "destroy: the pull policy"),
    _n(REGISTRY, "ram:ListTagResources", "tags", PLAN, "ownership tags of roles"),
    _n(REGISTRY, "ram:ListRoles", "role:all", PLAN, "fleet plan: every pull role's ownership tags in one "
       "listing (refused: one ListTagResources per role)", modes=ROLES_MODES),
    _n(REGISTRY, "ram:GetRole", "role:registry", PLAN, "read the pull role", modes=ROLES_MODES),
    _n(REGISTRY, "ram:GetRole", "role:registry", APPLY, "destroy: look for the pull role of an earlier mode"),
    _n(REGISTRY, "ram:ListPoliciesForRole", "role:registry", PLAN, "policies on the pull role", modes=ROLES_MODES),
    _n(REGISTRY, "ram:ListEntitiesForPolicy", "policy:pull", PLAN, "fleet plan: the pull roles the shared pull "
       "policy is attached to, in one read", modes=ROLES_MODES),
    _n(REGISTRY, "ram:CreateRole", "role:registry", APPLY, "create the pull role", modes=ROLES_MODES),
    _n(REGISTRY, "ram:UpdateRole", "role:registry", APPLY, "fix a drifted trust policy or session length",
       modes=ROLES_MODES),
    _n(REGISTRY, "ram:AttachPolicyToRole", "role:registry", APPLY, "attach the pull policy", modes=ROLES_MODES),
    _n(REGISTRY, "ram:DetachPolicyFromRole", "role:registry", APPLY, "destroy: detach it", modes=ROLES_MODES),
    _n(REGISTRY, "ram:DeleteRole", "role:registry", APPLY, "destroy: the pull role", modes=ROLES_MODES),
    _n(REGISTRY, "ram:GetUser", "user", PLAN, "read the pull user", modes=AK),
    _n(REGISTRY, "ram:GetUser", "user", APPLY, "destroy: look for the pull user of an earlier mode"),
    _n(REGISTRY, "ram:ListAccessKeys", "user", PLAN, "the pull user's keys", modes=AK),
    _n(REGISTRY, "ram:ListPoliciesForUser", "user", PLAN, "policies on the pull user", modes=AK),
    _n(REGISTRY, "ram:CreateUser", "user", APPLY, "create the pull user", modes=AK),
    _n(REGISTRY, "ram:CreateAccessKey", "user", APPLY, "its AccessKey for the ConfigMap", modes=AK),
    _n(REGISTRY, "ram:DeleteAccessKey", "user", APPLY, "replace a lost key; destroy", modes=AK),
    _n(REGISTRY, "ram:AttachPolicyToUser", "user", APPLY, "attach the pull policy", modes=AK),
    _n(REGISTRY, "ram:DetachPolicyFromUser", "user", APPLY, "destroy: detach it", modes=AK),
    _n(REGISTRY, "ram:DeleteUser", "user", APPLY, "destroy: the pull user", modes=AK),
    # Membership marks (acrx.steps.identity.membership): destroy lists the other clusters' pull
    # roles and users once to learn which shared things they still use.
    _n(REGISTRY, "ram:ListRoles", "role:all", APPLY, "destroy: the other clusters' membership marks"),
    _n(REGISTRY, "ram:ListUsers", "user:all", APPLY, "destroy: the other clusters' membership marks"),
    _n(REGISTRY, "ram:UpdateUser", "user", APPLY, "keep the pull user's membership mark current", modes=AK),
    _n(REGISTRY, "ram:UpdateRole", "role:all", APPLY, "destroy: hand the endpoint switch over to the marks of "
       "the clusters still using it", networks=("public",)),
    _n(REGISTRY, "ram:UpdateUser", "user:all", APPLY, "destroy: hand the endpoint switch over to the marks of "
       "the clusters still using it", networks=("public",)),
    # -- account B: VPC, CEN grant -------------------------------------------------------------
    _n(REGISTRY, "vpc:DescribeVpcAttribute", "any:vpc", PLAN, "B's VPC CIDRs"),
    _n(REGISTRY, "vpc:DescribeVSwitchAttributes", "any:vpc", PLAN, "the endpoint's vSwitch and route table",
       networks=("peering", "cen", "none"), scan=True),
    _n(REGISTRY, "vpc:DescribeVSwitches", "any:vpc", APPLY, "route tables of B's VPC", networks=VPC_NETS, scan=True),
    _n(REGISTRY, "vpc:DescribeRouteEntryList", "any:vpc", PLAN, "return routes towards the cluster",
       networks=VPC_NETS, scan=True),
    _n(REGISTRY, "vpc:CreateRouteEntry", "any:vpc", APPLY, "the return route", networks=VPC_NETS),
    _n(REGISTRY, "vpc:CreateVSwitch", "any:vpc", APPLY, "cen --create-zone-vswitch: a vSwitch in a missing zone",
       networks=("cen",)),
    _n(REGISTRY, "vpc:DeleteVSwitch", "any:vpc", APPLY, "destroy: the vSwitch --create-zone-vswitch made",
       networks=("cen",)),
    _n(REGISTRY, "vpc:DeleteRouteEntry", "any:vpc", APPLY, "destroy: the return route", networks=VPC_NETS),
    _n(REGISTRY, "vpc:AcceptVpcPeerConnection", "any:vpc", APPLY, "accept A's peering request",
       networks=("peering",)),
    _n(REGISTRY, "cen:DescribeGrantRulesToResource", "any:cen", PLAN,
       "B's VPC granted to another CEN (a VPC is on one CEN only), or to network.cen_id's", networks=("cen",)),
    _n(REGISTRY, "cen:GrantInstanceToTransitRouter", "any:cen", APPLY,
       "grant B's VPC to network.cen_id's CEN of another account", networks=("cen",)),
    _n(REGISTRY, "cen:RevokeInstanceFromTransitRouter", "any:cen", APPLY, "destroy: revoke that grant",
       networks=("cen",)),
    # -- account B: the CEN hub, one per registry account, shared by every cen cluster (issue 16) ----
    _n(REGISTRY, "cen:DescribeCens", "any:cen", PLAN, "find the hub", networks=("cen",), scan=True),
    *_cen_owner(REGISTRY, "the hub", scan=True),   # destroy reads the hub's users under every network
    _n(REGISTRY, "cen:ListTransitRouterPeerAttachments", "any:cen", APPLY, "destroy: peer attachments keep the hub",
       networks=("cen",), scan=True),
    _n(REGISTRY, "cen:CreateCen", "any:cen", APPLY, "create the hub (tagged in the call)", networks=("cen",)),
    _n(REGISTRY, "cen:DeleteCen", "any:cen", APPLY, "destroy: the hub, by the last cluster", networks=("cen",)),
)


def selected(account: str, mode: str, network: str, read_only: bool, selector: bool = False) -> list[Need]:
    """The rows one command set needs: read-only = plan, verify, doctor; full = setup, destroy.
    `selector`: the runs select clusters by their tags (--cluster-selector), which lists clusters
    on "*"; least privilege leaves that out unless asked for."""
    out = []
    for need in NEEDS:
        if need.account != account or mode not in need.modes or (need.selector and not selector):
            continue
        if read_only:
            if need.phase in (PLAN, DOCTOR) and network in need.networks:
                out.append(need)
        elif need.phase in (PLAN, APPLY) and (network in need.networks or need.scan
                                              or (network == "none" and need.cleanup)):
            out.append(need)
    return out


@dataclass(frozen=True)
class Names:
    """What resources resolve to; None parts become "*" (RAM accepts "*" for the account id)."""
    uid: str | None
    region: str | None
    cluster_id: str | None = None
    instance_ids: tuple[str, ...] = ()
    cluster_role: str | None = None
    worker_role: str | None = None
    registry_role: str | None = None
    assume_policy: str | None = None
    pull_policies: tuple[str, ...] = ()
    user: str | None = None
    registry_uid: str | None = None   # for sts:AssumeRole on the pull role, from account A


def _resources(key: str, n: Names) -> list[str]:
    uid, region = n.uid or "*", n.region or "*"
    ram = f"acs:ram:*:{uid}"
    if key.startswith("any:"):
        return ["*"]
    if key == "cluster":
        return [f"acs:cs:{region}:{uid}:cluster/{n.cluster_id or '*'}"]
    if key == "instance":
        return [f"acs:cr:{region}:{uid}:instance/{i}" for i in (n.instance_ids or ("*",))]
    if key == "tags":
        return [f"{ram}:role/*"]
    if key == "assume":
        return [f"acs:ram::{n.registry_uid or '*'}:role/{n.registry_role or '*'}"]
    if key == "user":
        return [f"{ram}:user/{n.user or '*'}"]
    kind, _, which = key.partition(":")
    name = {"role:cluster": n.cluster_role, "role:worker": n.worker_role or WORKER_ROLE_PATTERN,
            "role:registry": n.registry_role, "role:service": facts.ACR_SERVICE_ROLE,
            "policy:assume": n.assume_policy}.get(key)
    if key == "policy:pull":
        return [f"{ram}:policy/{p}" for p in (n.pull_policies or ("*",))]
    return [f"{ram}:{kind}/{name or '*'}"]


def policy(needs: list[Need], names: Names) -> dict:
    """A RAM policy document: one statement per resource set, actions sorted, statements sorted."""
    by_resources: dict[tuple[str, ...], set[str]] = {}
    for need in needs:
        resources = tuple(sorted(set(_resources(need.resource, names))))
        by_resources.setdefault(resources, set()).add(need.action)
    merged: dict[tuple[str, ...], tuple[str, ...]] = {}
    for resources, actions in by_resources.items():   # same actions on several resources: one statement
        key = tuple(sorted(actions))
        merged[key] = tuple(sorted(set(merged.get(key, ())) | set(resources)))
    statements = [{"Effect": "Allow", "Action": list(actions), "Resource": list(resources)}
                  for actions, resources in merged.items()]
    statements.sort(key=lambda st: (st["Resource"] == ["*"], st["Resource"], st["Action"]))
    return {"Version": facts.POLICY_VERSION, "Statement": statements}


def actions(document: dict) -> list[str]:
    return sorted({a for st in document["Statement"] for a in st["Action"]})


def render(document: dict) -> str:
    return json.dumps(document, indent=2) + "\n"


def reasons(needs: list[Need], names: Names) -> list[tuple[str, str, str]]:
    """(action, resource, why) rows for --explain; a "*" resource carries its product's reason."""
    rows = []
    for need in sorted(needs, key=lambda n: (n.action, n.resource)):
        for resource in _resources(need.resource, names):
            why = need.why
            if resource == "*":
                why += f" [* : {ANY_WHY[need.resource.split(':', 1)[1]]}]"
            rows.append((need.action, resource, why))
    return rows


def names_for(config, side: str, worker_role_name: str | None = None) -> Names:
    """Resource names for one side, from the config (uids may be unset: then "*")."""
    if side == CLUSTER:
        registry_uids = {config.accounts[r.account].uid for r in config.registries}
        registry_uid = registry_uids.pop() if len(registry_uids) == 1 else None
        return Names(uid=config.cluster_account.uid, region=config.cluster.region, cluster_id=config.cluster.id,
                     cluster_role=config.cluster_role_name, worker_role=worker_role_name,
                     registry_role=config.registry_role_name, assume_policy=config.assume_policy_name,
                     registry_uid=registry_uid)
    first = config.registries[0]
    same = [r for r in config.registries if r.account == first.account]
    regions = {r.region for r in same}
    return Names(uid=config.accounts[first.account].uid, region=regions.pop() if len(regions) == 1 else None,
                 instance_ids=tuple(r.instance_id for r in same), registry_role=config.registry_role_name,
                 pull_policies=tuple(dict.fromkeys(config.pull_policy_name(r) for r in same)),
                 user=config.access_key_user_name)


def operator_policy(config, side: str, *, read_only: bool, worker_role_name: str | None = None,
                    selector: bool = False):
    """(document, explain rows) for one side under the config's mode and network."""
    needs = selected(side, config.mode, config.network.mode, read_only, selector)
    names = names_for(config, side, worker_role_name)
    seen, unique = set(), []
    for row in reasons(needs, names):
        if row[:2] not in seen:
            seen.add(row[:2])
            unique.append(row)
    return policy(needs, names), unique
