"""Node pools (DescribeClusterNodePools, GET /clusters/{ClusterId}/nodepools): where the nodes are.

DescribeClusterDetail's `vswitch_ids` are the control plane's vSwitches (the SDK model says so);
the nodes sit in their node pools' vSwitches (`scaling_group.vswitch_ids`), which may have their
own route tables and SNAT entries. A cluster seeded without pools gets one default pool in the
first of its vSwitches, as the sandbox always placed its nodes. Wire names: the SDK's
DescribeClusterNodePoolsResponseBodyNodepools (nodepool_info, scaling_group, status).
"""

from __future__ import annotations

from acrx.sandbox.services.cs.api import _cluster, _cluster_arn, router


def pools(cluster) -> list[dict]:
    """[{"nodepool_id", "name", "vswitch_ids", "is_default"}] of the cluster."""
    seeded = cluster.__dict__.get("node_pools")
    if seeded is not None:
        return seeded
    return [{"nodepool_id": f"np-{cluster.cluster_id[:24]}", "name": "default-nodepool",
             "vswitch_ids": list(cluster.vswitch_ids[:1]), "is_default": True}]


def seed_pool(cluster, nodepool_id: str, name: str, vswitch_ids: list[str]) -> None:
    """Replace the default pool by this one (the scenario's nodes live only there)."""
    cluster.__dict__["node_pools"] = [{"nodepool_id": nodepool_id, "name": name, "vswitch_ids": list(vswitch_ids),
                                       "is_default": True}]


def node_vswitches(cluster) -> list[str]:
    return list(dict.fromkeys(v for pool in pools(cluster) for v in pool["vswitch_ids"]))


@router.roa("GET", "/clusters/{ClusterId}/nodepools", "DescribeClusterNodePools", writes=False,
            resource=_cluster_arn)
def describe_cluster_node_pools(req):
    cluster = _cluster(req)
    return {"nodepools": [{
        "nodepool_info": {"nodepool_id": p["nodepool_id"], "name": p["name"], "is_default": p["is_default"],
                          "type": "ess", "region_id": cluster.region},
        "scaling_group": {"vswitch_ids": p["vswitch_ids"]},
        "status": {"state": "active"}} for p in pools(cluster)]}
