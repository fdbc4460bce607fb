"""ClusterRuntime: the credential helper and the kubelet of one sandbox cluster, wired together.

The kubelet's view of the network comes from the sandbox cloud (`VpcNodeNetwork`): names are
resolved from the cluster's VPC, and a path must exist from its node vSwitch — the internet
endpoint and its ACL for a public domain, routes over peering or CEN for a `-vpc` domain.
"""

from __future__ import annotations

import ipaddress
import logging

from .credential_helper import CredentialHelper
from .kubelet import Kubelet

log = logging.getLogger(__name__)
VPC_DNS = "100.100.2.136"
REGISTRY_SUFFIX = ".cr.aliyuncs.com"


def _dns_failure(host: str) -> str:
    return f"dial tcp: lookup {host} on {VPC_DNS}:53: no such host"


def _timeout(ip: str) -> str:
    return f"dial tcp {ip}:443: i/o timeout"


class VpcNodeNetwork:
    """Answers the kubelet's questions from the cloud's state, read at each pull."""

    def __init__(self, world, cluster_id: str, registry_auth=None):
        self.world = world
        self.cluster_id = cluster_id
        self.registry_auth = registry_auth

    def _instance_by_domain(self, host: str):
        for backend in self.world.backends("cr"):
            for instance in backend.instances.values():
                if host in (instance.public_domain, instance.vpc_domain):
                    return instance
        return None

    def serves(self, host: str) -> bool:
        host = host.lower()
        if host.endswith(REGISTRY_SUFFIX):
            return True   # an ACR domain: unknown instances fail at DNS, as they would
        with self.world.lock:
            return self._instance_by_domain(host) is not None

    def dial(self, host: str) -> str | None:
        from acrx.sandbox.services import network_path
        from acrx.sandbox.services.cs.models import find_cluster
        from acrx.sandbox.services.cs.nodepools import node_vswitches

        host = host.lower()
        with self.world.lock:
            cluster = find_cluster(self.world, self.cluster_id)
            if cluster is None:
                return _dns_failure(host)
            node_vswitch = node_vswitches(cluster)[0]   # the node pool's, not the control plane's
            ip = network_path.resolve(self.world, cluster.account, cluster.region, cluster.vpc_id, host)
            if not ip:
                return _dns_failure(host)
            instance = self._instance_by_domain(host)
            if instance is not None and host == instance.public_domain:
                # Public domain: out through the NAT's EIPs, in through B's internet endpoint ACL.
                egress = network_path.egress_ips(self.world, cluster.account, cluster.region, cluster.vpc_id,
                                                 node_vswitch)
                admitted = instance.internet_serving and any(   # CREATING serves nobody yet
                    _covers(entry, eip) for entry, _ in instance.acl for eip in egress)
                return None if admitted else _timeout(ip)
            reachable, why = network_path.private_path(self.world, (cluster.account, cluster.region, node_vswitch), ip)
            if reachable and instance is not None:
                # The layers come from the registry region's OSS internal endpoint (network_path.blob_path).
                reachable, why = network_path.blob_path(self.world, cluster.region, instance.region)
            if not reachable:
                log.debug("node of %s cannot reach %s (%s): %s", self.cluster_id, host, ip, why)
                return _timeout(ip)
            return None


def _covers(cidr: str, ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip) in ipaddress.ip_network(cidr if "/" in cidr else cidr + "/32", strict=False)
    except ValueError:
        return False


class ClusterRuntime:
    """Start/stop the helper and kubelet of one SandboxCluster; subscribe to addon changes."""

    def __init__(self, world, cluster_id: str, kube_cluster, cloud_endpoint: str, registry_server, *,
                 reconcile_interval_s: float | None = None, network=None, node_name: str | None = None):
        self.world = world
        self.cluster_id = cluster_id
        self.kube = kube_cluster
        self.network = network or VpcNodeNetwork(world, cluster_id)
        self.helper = CredentialHelper(world, cluster_id, kube_cluster.store, cloud_endpoint,
                                       reconcile_interval_s=reconcile_interval_s)
        self.kubelet = Kubelet(kube_cluster.store, self.network, registry_server.url,
                               clock_now=world.clock.now, clock_scale=world.clock.scale,
                               node_name=node_name or self._node_name(), node_ip=self._node_ip(),
                               kubernetes_version=self._kubernetes_version())

    def _node(self):
        from acrx.sandbox.services.cs.models import find_cluster
        from acrx.sandbox.services.cs.nodepools import node_vswitches
        with self.world.lock:
            cluster = find_cluster(self.world, self.cluster_id)
            if cluster is None or not node_vswitches(cluster):
                return None, None
            for backend in self.world.backends("vpc"):
                vswitch = getattr(backend, "vswitches", {}).get(node_vswitches(cluster)[0])
                if vswitch is not None:
                    return cluster, vswitch
            return cluster, None

    def _kubernetes_version(self) -> str:
        cluster, _ = self._node()
        return cluster.current_version if cluster is not None else "1.30.1"

    def _node_ip(self) -> str:
        _, vswitch = self._node()
        cidr = getattr(vswitch, "cidr_block", None) or getattr(vswitch, "cidr", None)
        try:
            return str(ipaddress.ip_network(cidr)[10]) if cidr else "192.168.0.10"
        except ValueError:
            return "192.168.0.10"

    def _node_name(self) -> str:
        cluster, _ = self._node()
        region = cluster.region if cluster is not None else "cn-hangzhou"
        return f"{region}.{self._node_ip()}"   # ACK names nodes <region>.<private ip>

    def start(self) -> "ClusterRuntime":
        listeners = self.world.hooks.setdefault("addon_listeners", {})
        listeners[self.cluster_id] = self.helper.on_addon_changed

        def fan_out(cluster_id, name, state, config, _listeners=listeners):
            listener = _listeners.get(cluster_id)
            if listener is not None:
                listener(name, state, config)

        self.world.hooks["addon_changed"] = fan_out
        self.kubelet.start()
        self.helper.start()
        return self

    def stop(self) -> None:
        self.world.hooks.get("addon_listeners", {}).pop(self.cluster_id, None)
        self.helper.stop()
        self.kubelet.stop()

    def settle(self) -> None:
        """Run one helper round and one kubelet sync now (tests)."""
        self.helper.reconcile_now()
        self.kube.wait_idle()
        self.kubelet.sync_now()
        self.kube.wait_idle()
