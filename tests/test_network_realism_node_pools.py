"""Issue 12, item 6: the nodes are where their node pools are, not in the cluster's vswitch_ids.

Source: the CS SDK model says DescribeClusterDetail's `vswitch_ids` are the control plane's
vSwitches; DescribeClusterNodePools gives each pool's `scaling_group.vswitch_ids`. The scenario
`node-pools` puts the nodes in a vSwitch outside vswitch_ids, with their own route table and SNAT
EIP (acrx/sandbox/services/vpc/scenario_seeds.py).
"""

from __future__ import annotations

import pytest

from tests.sandbox_clients import sdk_client
from tests.sandbox_fixture import running_sandbox

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(autouse=True)
def _state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ACRX_STATE_DIR", str(tmp_path / "state"))


def _pool_vswitch(sb):
    from alibabacloud_cs20151215 import models as m

    client = sdk_client("alibabacloud_cs20151215", sb.sandbox.cloud.endpoint, sb.sandbox.account_key("cluster"),
                        region=sb.seeded.region_a)
    detail = client.describe_cluster_detail(sb.seeded.cluster_id).body
    pools = client.describe_cluster_node_pools(sb.seeded.cluster_id, m.DescribeClusterNodePoolsRequest()).body
    pool_vswitches = [v for p in pools.nodepools for v in p.scaling_group.vswitch_ids]
    return detail.vswitch_ids, pool_vswitches


def test_the_sandbox_node_pool_sits_outside_the_control_plane_vswitches(tmp_path):
    with running_sandbox(tmp_path, scenario="node-pools") as sb:
        control_plane, pools = _pool_vswitch(sb)
        assert len(pools) == 1 and pools[0] not in control_plane
        s = sb.seeded
        vpc = sb.world.backend("vpc", s.account_a, s.region_a)
        pool = vpc.vswitches[pools[0]]
        assert pool.route_table_id != s.route_table_a               # its own route table
        nat = next(n for n in vpc.nat_gateways.values() if any(e.source_vswitch_id == pool.vswitch_id
                                                                for e in n.snat_entries))
        assert vpc.eips[nat.eip_ids[0]].ip == "203.0.113.30"        # its own SNAT EIP
    with running_sandbox(tmp_path / "d", scenario="default") as sb:
        control_plane, pools = _pool_vswitch(sb)
        assert pools == [sb.seeded.node_vswitch] and pools[0] in control_plane


@pytest.mark.parametrize("network", ["public", "peering", "cen"])
def test_setup_reaches_the_registry_from_the_node_pool(tmp_path, run_cli, network):
    """The pull is verified from a node in the pool's vSwitch: the public ACL admits the pool's SNAT
    EIP, the pool's own route table gets the route out, B's table the route back to the pool."""
    with running_sandbox(tmp_path, scenario="node-pools", network=network) as sb:
        cli = ("--sandbox", sb.dir)
        result = run_cli(*cli, "setup", "-f", sb.config_path, "--yes")
        assert result.exit_code == 0, result.stderr
        s = sb.seeded
        _, pools = _pool_vswitch(sb)
        vpc_a = sb.world.backend("vpc", s.account_a, s.region_a)
        pool = vpc_a.vswitches[pools[0]]
        if network == "public":
            instance = sb.world.backend("cr", s.account_b, s.region_b).instances[s.instance_id]
            assert "203.0.113.30/32" in dict(instance.acl)
        else:
            assert vpc_a.route_tables[pool.route_table_id].entries[1:], "no route in the pool's own table"
            back = sb.world.backend("vpc", s.account_b, s.region_b).route_tables[s.route_table_b]
            assert pool.cidr_block in {e.destination for e in back.entries}
        plan = run_cli(*cli, "plan", "-f", sb.config_path, "--detailed-exitcode")
        assert plan.exit_code == 0, plan.stdout + plan.stderr
        for _ in range(2):
            result = run_cli(*cli, "destroy", "-f", sb.config_path, "--yes")
            assert result.exit_code == 0, result.stderr
