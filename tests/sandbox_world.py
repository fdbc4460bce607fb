"""Identity and network for a cross-account pull, set up BY HAND through the official SDKs over
HTTP against a running sandbox (acrx's own steps come later). Each function is one thing a user
would do in the console or with the CLI, so a test can leave one of them out or get it wrong.
"""

from __future__ import annotations

import json
import time

from sandbox_clients import sdk_client

HELPER_SUB = "system:serviceaccount:kube-system:aliyun-acr-credential-helper"
PULL_ACTIONS = ["cr:GetAuthorizationToken", "cr:ListInstanceEndpoint", "cr:PullRepository"]


class Hand:
    """The two accounts' root keys and the seeded ids of a started `acrx.sandbox.app.Sandbox`."""

    def __init__(self, sandbox):
        self.sandbox = sandbox
        self.world = sandbox.world
        self.s = sandbox.seeded
        self.endpoint = sandbox.cloud.endpoint
        self.key_a = self.world.accounts[self.s.account_a].root_key
        self.key_b = self.world.accounts[self.s.account_b].root_key

    def client(self, product: str, account: str = "a", region: str | None = None):
        key = self.key_a if account == "a" else self.key_b
        region = region or (self.s.region_a if account == "a" else self.s.region_b)
        return sdk_client(product, self.endpoint, key, region=region)

    # -- cluster --------------------------------------------------------------------------
    def wait_task(self, task_id: str, timeout: float = 20) -> None:
        cs = self.client("alibabacloud_cs20151215")
        deadline = time.time() + timeout
        while time.time() < deadline:
            state = cs.describe_task_info(task_id).body.state
            if state in ("success", "fail"):
                assert state == "success", f"task {task_id} ended {state}"
                return
            time.sleep(0.05)
        raise AssertionError(f"task {task_id} did not finish")

    def enable_rrsa(self) -> dict:
        from alibabacloud_cs20151215 import models as cs

        client = self.client("alibabacloud_cs20151215")
        task = client.modify_cluster(self.s.cluster_id, cs.ModifyClusterRequest(enable_rrsa=True)).body.task_id
        self.wait_task(task)
        return client.describe_cluster_detail(self.s.cluster_id).body.to_map()["rrsa_config"]

    def install_addon(self, name: str, config: dict | None = None) -> None:
        from alibabacloud_cs20151215 import models as cs

        body = cs.InstallClusterAddonsRequestBody(name=name, config=json.dumps(config) if config else None)
        task = self.client("alibabacloud_cs20151215").install_cluster_addons(
            self.s.cluster_id, cs.InstallClusterAddonsRequest(body=[body])).body.task_id
        self.wait_task(task)

    def uninstall_addon(self, name: str) -> None:
        from alibabacloud_cs20151215 import models as cs

        task = self.client("alibabacloud_cs20151215").un_install_cluster_addons(
            self.s.cluster_id, cs.UnInstallClusterAddonsRequest(
                addons=[cs.UnInstallClusterAddonsRequestAddons(name=name)])).body.task_id
        self.wait_task(task)

    # -- RAM ------------------------------------------------------------------------------
    def create_role(self, account: str, name: str, trust: dict, max_session: int = 3600) -> str:
        from alibabacloud_ram20150501 import models as ram

        role = self.client("alibabacloud_ram20150501", account).create_role(ram.CreateRoleRequest(
            role_name=name, assume_role_policy_document=json.dumps(trust), max_session_duration=max_session))
        return role.body.role.arn

    def attach(self, account: str, role: str, policy: str, policy_type: str = "Custom") -> None:
        from alibabacloud_ram20150501 import models as ram

        self.client("alibabacloud_ram20150501", account).attach_policy_to_role(ram.AttachPolicyToRoleRequest(
            policy_type=policy_type, policy_name=policy, role_name=role))

    def create_policy(self, account: str, name: str, actions: list[str]) -> None:
        from alibabacloud_ram20150501 import models as ram

        doc = {"Version": "1", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}
        self.client("alibabacloud_ram20150501", account).create_policy(ram.CreatePolicyRequest(
            policy_name=name, policy_document=json.dumps(doc)))

    def rrsa_roles(self, rrsa: dict, *, sub: str = HELPER_SUB, pull_actions: list[str] | None = PULL_ACTIONS,
                   role_b_trusts: str | None = None) -> tuple[str, str]:
        """Role A (trusted by the cluster's OIDC provider for `sub`) and role B (trusting role A,
        holding the pull policy unless `pull_actions` is None). Returns (role A ARN, role B ARN)."""
        trust_a = {"Version": "1", "Statement": [{
            "Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Federated": [rrsa["oidc_arn"]]},
            "Condition": {"StringEquals": {"oidc:aud": "sts.aliyuncs.com", "oidc:iss": rrsa["issuer"].split(",")[0],
                                           "oidc:sub": sub}}}]}
        role_a = self.create_role("a", "acr-helper-rrsa", trust_a)
        self.attach("a", "acr-helper-rrsa", "AliyunSTSAssumeRoleAccess", "System")
        return role_a, self.registry_role(role_b_trusts or role_a, pull_actions)

    def registry_role(self, trusted_arn: str, pull_actions: list[str] | None = PULL_ACTIONS) -> str:
        trust_b = {"Version": "1", "Statement": [{"Action": "sts:AssumeRole", "Effect": "Allow",
                                                  "Principal": {"RAM": [trusted_arn]}}]}
        role_b = self.create_role("b", "acr-pull-from-a", trust_b)
        if pull_actions is not None:
            self.create_policy("b", "acr-pull", pull_actions)
            self.attach("b", "acr-pull-from-a", "acr-pull")
        return role_b

    # -- network --------------------------------------------------------------------------
    def peer_vpcs(self) -> str:
        from alibabacloud_vpcpeer20220101 import models as peer

        a = self.client("alibabacloud_vpcpeer20220101", "a")
        created = a.create_vpc_peer_connection(peer.CreateVpcPeerConnectionRequest(
            region_id=self.s.region_a, vpc_id=self.s.vpc_a, accepting_ali_uid=int(self.s.account_b),
            accepting_region_id=self.s.region_b, accepting_vpc_id=self.s.vpc_b)).body.instance_id
        self.client("alibabacloud_vpcpeer20220101", "b").accept_vpc_peer_connection(
            peer.AcceptVpcPeerConnectionRequest(instance_id=created))
        deadline = time.time() + 120   # ends early; generous for a loaded machine
        while time.time() < deadline:
            status = a.get_vpc_peer_connection_attribute(
                peer.GetVpcPeerConnectionAttributeRequest(instance_id=created)).body.status
            if status == "Activated":
                return created
            time.sleep(0.05)
        raise AssertionError("peering did not activate")

    def route(self, account: str, route_table: str, cidr: str, peering: str) -> None:
        from alibabacloud_vpc20160428 import models as vpc

        region = self.s.region_a if account == "a" else self.s.region_b
        self.client("alibabacloud_vpc20160428", account).create_route_entry(vpc.CreateRouteEntryRequest(
            region_id=region, route_table_id=route_table, destination_cidr_block=cidr,
            next_hop_type="VpcPeer", next_hop_id=peering))

    def peering_routes(self, peering: str, *, there: bool = True, back: bool = True) -> None:
        if there:
            self.route("a", self.s.route_table_a, f"{self.s.vpc_endpoint_ip}/32", peering)
        if back:
            vswitch = self.world.backend("vpc", self.s.account_a, self.s.region_a).vswitches[self.s.node_vswitch]
            self.route("b", self.s.route_table_b, vswitch.cidr_block, peering)

    def private_zone(self, *, record: bool = True) -> None:
        from alibabacloud_pvtz20180101 import models as pvtz

        client = self.client("alibabacloud_pvtz20180101", "a")
        zone = client.add_zone(pvtz.AddZoneRequest(zone_name=self.s.domain_vpc)).body.zone_id
        if record:
            client.add_zone_record(pvtz.AddZoneRecordRequest(zone_id=zone, rr="@", type="A",
                                                             value=self.s.vpc_endpoint_ip, ttl=60))
        client.bind_zone_vpc(pvtz.BindZoneVpcRequest(zone_id=zone, vpcs=[pvtz.BindZoneVpcRequestVpcs(
            region_id=self.s.region_a, vpc_id=self.s.vpc_a)]))

    def open_internet_endpoint(self, acl_entries: list[str]) -> None:
        from alibabacloud_cr20181201 import models as cr

        client = self.client("alibabacloud_cr20181201", "b")
        client.update_instance_endpoint_status(cr.UpdateInstanceEndpointStatusRequest(
            instance_id=self.s.instance_id, endpoint_type="internet", enable=True))
        for entry in acl_entries:
            client.create_instance_endpoint_acl_policy(cr.CreateInstanceEndpointAclPolicyRequest(
                instance_id=self.s.instance_id, endpoint_type="internet", entry=entry, comment="cluster egress"))

    # -- the cluster side -----------------------------------------------------------------
    def acr_configuration(self, entry: dict, *, rrsa: bool, namespaces: str = "default",
                          service_accounts: str = "default") -> dict:
        import yaml

        data = {"service-account": service_accounts, "watch-namespace": namespaces,
                "expiring-threshold": "15m", "acr-registry-info": yaml.safe_dump([entry], sort_keys=False)}
        if rrsa:
            data["rrsa"] = "enable: true\n"
        return data
