"""Issue 12, items 1 and 9: a route table takes one write at a time, and "already gone" is the
cloud's own code.

Sources: Terraform's route entry resource (terraform-provider-alicloud
resource_alicloud_route_entry.go:122-171 create, :321-340 delete) says route entries do not support
concurrent creation or deletion, serializes its route writes and retries TaskConflict,
OperationConflict, IncorrectRouteEntryStatus, ...; its delete treats InvalidRouteEntry.NotFound as
done. The sandbox answers TaskConflict while an entry of the table is Pending or just deleted.
"""

from __future__ import annotations

import pytest

from acrx.cloud import errors
from acrx.cloud.retry import RetryPolicy
from acrx.cloud.vpc import VpcApi
from tests.sandbox_clients import sdk_client
from tests.sandbox_cloud import api_error, serving, two_accounts
from tests.sandbox_fixture import running_sandbox

pytestmark = pytest.mark.timeout(240)

REGION, ZONE = "cn-hangzhou", "cn-hangzhou-h"
VPC = "alibabacloud_vpc20160428"


@pytest.fixture
def table():
    """Account a's VPC with a NAT gateway (a next hop the sandbox knows), served; clock scale 1."""
    world, a, _ = two_accounts(seed=31, clock_scale=1.0)
    vpcs = world.backend("vpc", a.uid, REGION)
    vpc = vpcs.seed_vpc("192.168.0.0/16")
    vsw = vpcs.seed_vswitch(vpc.vpc_id, "192.168.1.0/24", ZONE)
    nat = vpcs.seed_nat_gateway(vpc.vpc_id, vsw.vswitch_id, ["47.0.0.1"], [vsw.vswitch_id])
    with serving(world) as server:
        yield world, server.endpoint, a, vsw.route_table_id, nat.nat_gateway_id


def _create(client, m, table_id, nat_id, dest):
    return client.create_route_entry(m.CreateRouteEntryRequest(
        region_id=REGION, route_table_id=table_id, destination_cidr_block=dest, next_hop_type="NatGateway",
        next_hop_id=nat_id)).body.route_entry_id


def _delete(client, m, table_id, dest):
    return client.delete_route_entry(m.DeleteRouteEntryRequest(
        region_id=REGION, route_table_id=table_id, destination_cidr_block=dest))


def test_the_sandbox_route_table_is_busy_while_an_entry_is_written(table):
    world, endpoint, a, table_id, nat_id = table
    from alibabacloud_vpc20160428 import models as m

    client = sdk_client(VPC, endpoint, a.root_key, region=REGION)
    _create(client, m, table_id, nat_id, "8.8.8.8/32")                  # Pending for 5 s
    err = api_error(lambda: _create(client, m, table_id, nat_id, "8.8.4.4/32"))
    assert err.code == "TaskConflict"
    world.clock.advance(10)                                              # the first is Available
    _create(client, m, table_id, nat_id, "8.8.4.4/32")
    world.clock.advance(10)
    _delete(client, m, table_id, "8.8.8.8/32")
    err = api_error(lambda: _delete(client, m, table_id, "8.8.4.4/32"))  # within 5 s of a delete
    assert err.code == "TaskConflict"
    world.clock.advance(10)
    _delete(client, m, table_id, "8.8.4.4/32")
    gone = api_error(lambda: _delete(client, m, table_id, "8.8.4.4/32"))
    assert gone.code == "InvalidRouteEntry.NotFound"                     # item 9: the real code


@pytest.mark.parametrize("code", sorted(errors.ROUTE_BUSY_CODES))
def test_acrx_retries_every_busy_code_of_a_route_write(table, code):
    world, endpoint, a, table_id, nat_id = table
    world.clock.scale = 0.0
    api = VpcApi(lambda: sdk_client(VPC, endpoint, a.root_key, region=REGION),
                 RetryPolicy(budget_s=10, initial_s=0.01), region=REGION)
    busy = (code, "busy", 400)
    world.knobs.scripted_faults["CreateRouteEntry"] = [busy]
    world.knobs.scripted_faults["DeleteRouteEntry"] = [busy]
    mark = world.calls.mark()
    assert api.create_route_entry(table_id, "8.8.8.8/32", "NatGateway", nat_id, name="acrx-route",
                                  description="acrx-managed", client_token=f"t-{code}")
    assert api.delete_route_entry(table_id, "8.8.8.8/32", missing_ok=True) is True
    assert api.delete_route_entry(table_id, "8.8.8.8/32", missing_ok=True) is False   # gone = done
    answered = [(c.action, c.error_code) for c in world.calls.since(mark)]
    assert ("CreateRouteEntry", code) in answered and ("DeleteRouteEntry", code) in answered


def test_a_busy_code_of_another_action_is_not_retried():
    err = errors._make("TaskConflict", "busy", action="vpc:DescribeVpcs")
    assert not errors.is_retryable(err, idempotent=False)
    assert errors.is_retryable(errors._make("TaskConflict", "busy", action="vpc:CreateRouteEntry"), idempotent=False)


def test_peering_routes_on_one_table_are_written_one_at_a_time(tmp_path, run_cli, monkeypatch):
    """B's return table gets one route per node vSwitch CIDR (two in `default`). With route writes
    taking time (clock scale 0.1: Pending 0.5 s), concurrent creates would answer TaskConflict;
    acrx holds one lock per table, so none is refused, and a repeated destroy converges."""
    monkeypatch.setenv("ACRX_STATE_DIR", str(tmp_path / "state"))
    with running_sandbox(tmp_path, network="peering", clock_scale=0.1) as sb:
        mark = sb.mark()
        result = run_cli("--sandbox", sb.dir, "network", "apply", "-f", sb.config_path, "--yes")
        assert result.exit_code == 0, result.stderr
        calls = sb.calls_since(mark)
        creates = [c for c in calls if c.action == "CreateRouteEntry"]
        assert len([c for c in creates if c.status < 400]) >= 3, creates   # A's table + B's two returns
        assert not [c for c in creates if c.error_code], creates
        back_table = sb.seeded.route_table_b
        backend = sb.world.backend("vpc", sb.seeded.account_b, sb.seeded.region_b)
        assert len(backend.route_tables[back_table].entries) == 2
        for _ in range(2):
            result = run_cli("--sandbox", sb.dir, "destroy", "-f", sb.config_path, "--yes")
            assert result.exit_code == 0, result.stderr
        assert backend.route_tables[back_table].entries == []
