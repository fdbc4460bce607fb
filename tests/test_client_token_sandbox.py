"""ClientToken against the sandbox, through the official SDKs: a create whose answer was lost,
repeated with the same token, returns the first resource; the same token with other parameters is
refused; and a setup whose creates keep losing their answers converges with nothing made twice."""

from __future__ import annotations

import json

import pytest

from tests.sandbox_fixture import running_sandbox

pytestmark = pytest.mark.timeout(300)

VPC, PEER, CBN, PVTZ = ("alibabacloud_vpc20160428", "alibabacloud_vpcpeer20220101", "alibabacloud_cbn20170912",
                        "alibabacloud_pvtz20180101")


@pytest.fixture(autouse=True)
def _state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ACRX_STATE_DIR", str(tmp_path / "state"))


def _lost(sb, action: str, create):
    """Run `create` with the answer of `action` lost: it raises, yet the write happened."""
    from alibabacloud_tea_openapi.exceptions import AlibabaCloudException

    sb.world.knobs.set(lost_answer_rate=1.0, only_actions={action})
    mark = sb.mark()
    with pytest.raises(Exception) as info:
        create()
    assert not isinstance(info.value, AlibabaCloudException), "the sandbox answered instead of dropping"
    sb.world.knobs.set(lost_answer_rate=0.0, only_actions=None)
    applied = [c for c in sb.calls_since(mark) if c.action == action]
    assert [(c.status, c.error_code, c.writes) for c in applied] == [(200, "LostAnswer", True)]


def _models(product):
    import importlib

    return importlib.import_module(product + ".models")


def _cens(sb, alias: str = "cluster"):
    m = _models(CBN)
    return [c.cen_id for c in sb.client(CBN, alias).describe_cens(m.DescribeCensRequest(page_size=50)).body.cens.cen]


def _peerings(sb):
    m = _models(PEER)
    body = sb.client(PEER).list_vpc_peer_connections(m.ListVpcPeerConnectionsRequest(region_id=sb.seeded.region_a)).body
    return [p.instance_id for p in body.vpc_peer_connects or []]


def _routes(sb, destination):
    m = _models(VPC)
    body = sb.client(VPC).describe_route_entry_list(m.DescribeRouteEntryListRequest(
        region_id=sb.seeded.region_a, route_table_id=sb.seeded.route_table_a, destination_cidr_block=destination)).body
    return [e.route_entry_id for e in body.route_entrys.route_entry if e.type != "System"]


def _create_cen(sb, token, name="acrx-cen"):
    m = _models(CBN)
    return sb.client(CBN).create_cen(m.CreateCenRequest(name=name, client_token=token)).body.cen_id


def _create_peering(sb, token):
    m, s = _models(PEER), sb.seeded
    return sb.client(PEER).create_vpc_peer_connection(m.CreateVpcPeerConnectionRequest(
        region_id=s.region_a, vpc_id=s.vpc_a, accepting_ali_uid=int(s.account_b), accepting_region_id=s.region_b,
        accepting_vpc_id=s.vpc_b, bandwidth=100 if s.region_a != s.region_b else None, name="acrx-peer",
        client_token=token)).body.instance_id


def _create_route(sb, token, peering_id, destination="10.99.0.0/16"):
    m, s = _models(VPC), sb.seeded
    return sb.client(VPC).create_route_entry(m.CreateRouteEntryRequest(
        region_id=s.region_a, route_table_id=s.route_table_a, destination_cidr_block=destination,
        next_hop_type="VpcPeer", next_hop_id=peering_id, route_entry_name="acrx-route", client_token=token)).body.route_entry_id


def test_lost_create_cen_repeated_with_its_token_returns_the_first_cen(tmp_path):
    with running_sandbox(tmp_path) as sb:
        _lost(sb, "CreateCen", lambda: _create_cen(sb, "tok-cen"))
        (first,) = _cens(sb)                               # the write was applied
        mark = sb.mark()
        assert _create_cen(sb, "tok-cen") == first         # the retry: the first result
        assert _cens(sb) == [first]
        assert sb.writes_since(mark) == []                 # a replay writes nothing
        # Without a token the same retry makes a second CEN: the danger the token removes.
        _lost(sb, "CreateCen", lambda: _create_cen(sb, None))
        _create_cen(sb, None)
        assert len(_cens(sb)) == 3


def test_lost_peering_and_route_repeated_with_their_tokens_make_one_each(tmp_path):
    with running_sandbox(tmp_path) as sb:
        _lost(sb, "CreateVpcPeerConnection", lambda: _create_peering(sb, "tok-pcc"))
        (pcc,) = _peerings(sb)
        assert _create_peering(sb, "tok-pcc") == pcc
        assert _peerings(sb) == [pcc]
        m = _models(PEER)
        sb.client(PEER, alias="registry").accept_vpc_peer_connection(m.AcceptVpcPeerConnectionRequest(instance_id=pcc))
        _lost(sb, "CreateRouteEntry", lambda: _create_route(sb, "tok-rte", pcc))
        (route,) = _routes(sb, "10.99.0.0/16")
        assert _create_route(sb, "tok-rte", pcc) == route
        assert _routes(sb, "10.99.0.0/16") == [route]


def test_same_token_other_parameters_is_refused(tmp_path):
    from tests.sandbox_cloud import expect_error

    with running_sandbox(tmp_path) as sb:
        first = _create_cen(sb, "tok-1", name="one")
        mark = sb.mark()
        expect_error(lambda: _create_cen(sb, "tok-1", name="two"), "IdempotentParameterMismatch", 400)
        # The token is the account's within the product: another create of CBN may not reuse it.
        m = _models(CBN)
        expect_error(lambda: sb.client(CBN).create_transit_router(m.CreateTransitRouterRequest(
            cen_id=first, region_id=sb.seeded.region_a, client_token="tok-1")), "IdempotentParameterMismatch", 400)
        expect_error(lambda: _create_cen(sb, "x" * 65), "InvalidParameter", 400)
        assert sb.writes_since(mark) == [] and _cens(sb) == [first]
        # Another account's identical token is its own.
        other = sb.client(CBN, alias="registry").create_cen(m.CreateCenRequest(name="one", client_token="tok-1"))
        assert other.body.cen_id != first


def test_every_create_that_takes_a_token_is_honoured(tmp_path):
    """The routes marked `client_token=True` are exactly the sandbox's create actions whose SDK
    request model has a client_token field (the SDK model is the source)."""
    import importlib
    import re

    from acrx.sandbox.core.server import load_routers

    def sdk_takes_token(package, action):
        request = getattr(importlib.import_module(f"{package}.models"), f"{action}Request")
        return hasattr(request(), "client_token")

    packages = {"2016-04-28": VPC, "2022-01-01": PEER, "2017-09-12": CBN, "2018-01-01": PVTZ,
                "2018-12-01": "alibabacloud_cr20181201", "2015-05-01": "alibabacloud_ram20150501"}
    checked = 0
    for router in load_routers():
        package = packages.get(router.version)
        for action, route in router.rpc_routes.items():
            if package is None or not re.match(r"(Create|Add)[A-Z]", action):
                continue
            checked += 1
            assert route.client_token == sdk_takes_token(package, action), action
    assert checked >= 15


def _setup(run_cli, sb, network):
    sb.write_config(network=network)
    return run_cli("--sandbox", sb.dir, "setup", "-f", sb.config_path, "--network", network, "--yes", "--no-verify")


def _token_creates():
    return {"CreateCen", "CreateTransitRouter", "CreateTransitRouterVpcAttachment", "CreateTransitRouterPeerAttachment",
            "CreateVpcPeerConnection", "CreateRouteEntry", "AddZone", "AddZoneRecord"}


def _cbn_inventory(sb, alias: str = "registry"):
    """The CEN owner's view: acrx's CEN is the registry account's hub (issue 16)."""
    m = _models(CBN)
    client = sb.client(CBN, alias, region=sb.seeded.region_a)
    routers, attachments, peers = [], [], []
    for cen in _cens(sb, alias):
        for region in {sb.seeded.region_a, sb.seeded.region_b}:
            body = client.list_transit_routers(m.ListTransitRoutersRequest(cen_id=cen, region_id=region)).body
            routers += [t.transit_router_id for t in body.transit_routers or []]
        body = client.list_transit_router_vpc_attachments(m.ListTransitRouterVpcAttachmentsRequest(cen_id=cen)).body
        attachments += [a.vpc_id for a in body.transit_router_attachments or []]
        body = client.list_transit_router_peer_attachments(m.ListTransitRouterPeerAttachmentsRequest(cen_id=cen)).body
        peers += [a.transit_router_attachment_id for a in body.transit_router_attachments or []]
    return routers, attachments, peers


def _zones(sb):
    m = _models(PVTZ)
    zones = sb.client(PVTZ).describe_zones(m.DescribeZonesRequest(page_size=100)).body.zones.zone
    records = []
    for zone in zones:
        body = sb.client(PVTZ).describe_zone_records(m.DescribeZoneRecordsRequest(zone_id=zone.zone_id, page_size=100)).body
        records += [(zone.zone_name, r.rr) for r in body.records.record]
    return [z.zone_name for z in zones], records


@pytest.mark.parametrize("scenario", ["default", "cen-multizone"])   # cross-region: refused (issue 12)
def test_setup_with_lost_answers_on_every_token_create_converges_with_nothing_twice(tmp_path, run_cli, scenario):
    with running_sandbox(tmp_path, scenario=scenario, network="cen") as sb:
        sb.world.knobs.set(lost_answer_rate=0.5, only_actions=_token_creates(), seed=11)  # loses the 1st
        mark = sb.mark()
        result = _setup(run_cli, sb, "cen")
        assert result.exit_code == 0, result.stderr
        calls = sb.calls_since(mark)
        assert [c for c in calls if c.error_code == "LostAnswer"], "the seed must lose at least one answer"
        # Every create that takes a token sent one, distinct per change (ApplyContext.client_token).
        created = [c for c in calls if c.action in _token_creates() and c.writes and c.status < 400]
        tokens = sb.world.tokens.tokens()
        assert len(tokens) == len(set(tokens)) == len(created) > 0
        assert all(len(t) == 32 and int(t, 16) >= 0 for t in tokens)
        sb.world.knobs.set(lost_answer_rate=0.0, only_actions=None)
        assert len(_cens(sb, "registry")) == 1 and _cens(sb) == []
        routers, attachments, peers = _cbn_inventory(sb)
        assert len(routers) == len(set(routers)) == len({sb.seeded.region_a, sb.seeded.region_b})
        assert sorted(attachments) == sorted([sb.seeded.vpc_a, sb.seeded.vpc_b])
        assert len(peers) == (1 if sb.seeded.region_a != sb.seeded.region_b else 0)
        zones, records = _zones(sb)
        assert len(zones) == len(set(zones)) and len(records) == len(set(records))
        plan = run_cli("--sandbox", sb.dir, "plan", "-f", sb.config_path, "--network", "cen", "--detailed-exitcode")
        assert plan.exit_code == 0, plan.stdout + plan.stderr


def test_setup_peering_with_lost_answers_makes_one_peering_and_one_route_per_destination(tmp_path, run_cli):
    with running_sandbox(tmp_path, network="peering") as sb:
        sb.world.knobs.set(lost_answer_rate=0.5, only_actions=_token_creates(), seed=3)  # loses the 1st
        mark = sb.mark()
        result = _setup(run_cli, sb, "peering")
        assert result.exit_code == 0, result.stderr
        assert any(c.error_code == "LostAnswer" for c in sb.calls_since(mark))
        sb.world.knobs.set(lost_answer_rate=0.0, only_actions=None)
        assert len(_peerings(sb)) == 1
        m = _models(VPC)
        for region, table, alias in ((sb.seeded.region_a, sb.seeded.route_table_a, "cluster"),
                                     (sb.seeded.region_b, sb.seeded.route_table_b, "registry")):
            body = sb.client(VPC, alias=alias, region=region).describe_route_entry_list(
                m.DescribeRouteEntryListRequest(region_id=region, route_table_id=table)).body
            custom = [e.destination_cidr_block for e in body.route_entrys.route_entry if e.type != "System"]
            assert custom and len(custom) == len(set(custom)), custom
        plan = run_cli("--sandbox", sb.dir, "plan", "-f", sb.config_path, "--network", "peering", "-o", "json")
        assert plan.exit_code == 0, plan.stderr
        changes = json.loads(plan.stdout).get("data", {}).get("changes") or json.loads(plan.stdout).get("changes")
        assert {c["action"] for c in changes} == {"no-op"}


def test_retry_policy_repeats_a_create_with_a_token_and_not_one_without(tmp_path):
    """acrx.cloud.retry: a lost answer on a create that carries a ClientToken is retried (the
    cloud answers the first result); without a token the outcome is unknown and it is not."""
    from acrx.cloud.retry import RetryPolicy, invoke
    from acrx.errors import CloudError

    m = _models(CBN)
    with running_sandbox(tmp_path) as sb:
        policy = RetryPolicy(sleep=lambda _s: None)
        client = sb.client(CBN)
        sb.world.knobs.set(lost_answer_rate=1.0, only_actions={"CreateCen"})
        mark = sb.mark()

        def answer_next_time(_delay):  # the first answer is lost, the retry's arrives
            sb.world.knobs.set(lost_answer_rate=0.0)

        policy.sleep = answer_next_time
        body = invoke(lambda: client, "create_cen_with_options", m.CreateCenRequest(name="t", client_token="tok-r"),
                      action="cbn:CreateCen", policy=policy)
        assert _cens(sb) == [body["CenId"]]
        assert [c.error_code for c in sb.calls_since(mark) if c.action == "CreateCen"] == ["LostAnswer", None]

        sb.world.knobs.set(lost_answer_rate=1.0)
        with pytest.raises(CloudError) as info:
            invoke(lambda: client, "create_cen_with_options", m.CreateCenRequest(name="u"), action="cbn:CreateCen",
                   policy=RetryPolicy(sleep=lambda _s: None))
        assert "outcome of this write is unknown" in str(info.value)
        assert len(_cens(sb)) == 2      # it was created once, and not again
