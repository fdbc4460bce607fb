"""Issue 16: the fleet merge plans the CEN hub once, keys a cluster VPC's pieces by the VPC id, and
refuses a fleet whose hub would hold more VPC attachments than a transit router takes."""

from __future__ import annotations

import pytest

from acrx import facts
from acrx.errors import PreflightError
from acrx.plan.change import Action, Change, Ref
from acrx.plan.fleet import check_limits, is_shared, merge
from acrx.plan.plan import Plan
from tests.test_fleet_config import _cluster_id, _member

VPC_B = "vpc-bbbbbbbbbbbb"


def _cen_plan(vpc: str) -> Plan:
    """The cen part of one cluster's plan against a hub still to be made (as network/cen.py plans it)."""
    cen = Change("cen.instance", Action.CREATE, None, {"cen_id": Ref("cen.instance", "cen_id"), "name": "acrx-hub-1"},
                 account="registry", kind="cen.instance")
    router = Change("cen.transit_router.cn-hangzhou", Action.CREATE, None,
                    {"transit_router_id": Ref("cen.transit_router.cn-hangzhou", "transit_router_id"),
                     "region": "cn-hangzhou"}, account="registry", kind="cen.transit_router", depends_on=("cen.instance",))
    b = Change(f"cen.attachment.{VPC_B}", Action.CREATE, None, {"vpc_id": VPC_B, "status": "Attached"},
               account="registry", kind="cen.attachment", depends_on=(router.address,))
    grant = Change(f"cen.grant.{vpc}", Action.CREATE, None, {"vpc_id": vpc, "cen_id": Ref("cen.instance", "cen_id")},
                   account="cluster", kind="cen.grant", depends_on=("cen.instance",))
    mine = Change(f"cen.attachment.{vpc}", Action.CREATE, None, {"vpc_id": vpc, "status": "Attached"},
                  account="registry", kind="cen.attachment", depends_on=(router.address, grant.address))
    route = Change(f"vpc.route.vtb-{vpc[4:]}.10.10.1.10/32", Action.CREATE, None,
                   {"next_hop_id": Ref(mine.address, "attachment_id")}, account="cluster", kind="vpc.route",
                   depends_on=(mine.address,))
    return Plan([cen, router, b, grant, mine, route])


def test_the_hub_is_planned_once_and_each_vpc_keyed_by_its_id():
    vpcs = ["vpc-aaaaaaaaaaa1", "vpc-aaaaaaaaaaa2", "vpc-aaaaaaaaaaa2"]   # the last two clusters share a VPC
    merged = merge([(_member(f"c{i}", _cluster_id(i)), _cen_plan(v)) for i, v in enumerate(vpcs)])
    addresses = [c.address for c in merged.changes]
    assert addresses.count("registry/cen.instance") == 1
    assert addresses.count(f"registry/cen.attachment.{VPC_B}") == 1
    assert sorted(merged.meta["shared_users"]["registry/cen.instance"]) == ["c0", "c1", "c2"]
    assert sorted(merged.meta["shared_users"]["registry/cen.attachment.vpc-aaaaaaaaaaa2"]) == ["c1", "c2"]
    assert addresses.count("cluster/cen.grant.vpc-aaaaaaaaaaa2") == 1
    # each cluster's route stays its own, pointing at the merged (shared) attachment of its VPC
    route = merged["c0/vpc.route.vtb-aaaaaaaaaaa1.10.10.1.10/32"]
    assert route.after["next_hop_id"].address == "registry/cen.attachment.vpc-aaaaaaaaaaa1"
    assert is_shared("vpc.zone_vswitch.vpc-aaaaaaaaaaa1.cn-hangzhou-h")


def test_a_hub_past_the_attachments_a_transit_router_takes_stops_the_plan():
    limit = facts.FLEET_LIMITS["VPC attachments per transit router"][0]
    fits = merge([(_member(f"c{i}", _cluster_id(i)), _cen_plan(f"vpc-{i:012d}")) for i in range(limit - 1)])
    check_limits(fits)                             # limit - 1 cluster VPCs and B's: at the limit
    over = merge([(_member(f"c{i}", _cluster_id(i)), _cen_plan(f"vpc-{i:012d}")) for i in range(limit)])
    with pytest.raises(PreflightError) as err:
        check_limits(over)
    assert f"{limit + 1} VPC attachments" in str(err.value) and "[?]" in str(err.value)
