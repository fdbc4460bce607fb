"""`acrx network apply` against the sandbox: each mode converges, the sandbox's own network
evaluator agrees the path exists, preflight stops before any write, order and resumption hold."""

from __future__ import annotations

import json

import pytest
import yaml

from acrx.sandbox.services import network_path
from tests.sandbox_fixture import running_sandbox

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(autouse=True)
def _state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ACRX_STATE_DIR", str(tmp_path / "state"))


def _apply(run_cli, sb, *extra):
    return run_cli("--sandbox", sb.dir, "network", "apply", "-f", sb.config_path, "--yes", *extra)


def _replan(run_cli, sb, *extra) -> list[dict]:
    result = run_cli("--sandbox", sb.dir, "network", "apply", "-f", sb.config_path, "--dry-run", "-o", "json", *extra)
    assert result.exit_code == 0, result.stderr
    return _changes(json.loads(result.stdout))


def _changes(envelope) -> list[dict]:
    data = envelope.get("data", envelope)
    return data["changes"]


def _configure(sb, **network) -> None:
    config = yaml.safe_load(sb.config_path.read_text())
    config["network"] = {**config["network"], **network}
    sb.config_path.write_text(yaml.safe_dump(config, sort_keys=False))


def _private_path_ok(sb):
    s, world = sb.seeded, sb.world
    ip = network_path.resolve(world, s.account_a, s.region_a, s.vpc_a, s.domain_vpc)
    assert ip == s.vpc_endpoint_ip
    ok, why = network_path.private_path(world, (s.account_a, s.region_a, s.node_vswitch), ip)
    assert ok, why


def _instance(sb):
    s = sb.seeded
    return sb.world.backend("cr", s.account_b, s.region_b).instances[s.instance_id]


def _live_peerings(sb):
    from acrx.sandbox.services.vpcpeer.models import all_connections

    return [c for c in all_connections(sb.world) if c.status != "Deleted"]


def _live_attachments(sb, kind="VPC"):
    from acrx.sandbox.services.cbn.models import all_attachments

    return [a for a in all_attachments(sb.world) if a.kind == kind]


def _cens(sb):
    return [c for b in sb.world.backends("cbn") for c in b.cens.values()]


# -- each mode converges and the path exists --------------------------------------------------
# (cross-region private paths are refused in preflight: tests/test_network_realism_cross_region.py)
@pytest.mark.parametrize("scenario", ["default"])
@pytest.mark.parametrize("mode", ["peering", "cen"])
def test_private_modes_converge_and_reach_the_endpoint(tmp_path, run_cli, scenario, mode):
    with running_sandbox(tmp_path, scenario=scenario, network=mode) as sb:
        result = _apply(run_cli, sb)
        assert result.exit_code == 0, result.stderr
        changes = _replan(run_cli, sb)
        assert changes and {c["action"] for c in changes} == {"no-op"}
        assert all(c["reason"] for c in changes)
        _private_path_ok(sb)
        if mode == "peering":
            assert len(_live_peerings(sb)) == 1
        else:
            assert len(_cens(sb)) == 1 and len(_live_attachments(sb)) == 2
            assert _live_attachments(sb, "TR") == []


def test_public_mode_enables_the_endpoint_and_admits_the_egress_ips(tmp_path, run_cli):
    with running_sandbox(tmp_path, network="public") as sb:
        s = sb.seeded
        assert not _instance(sb).internet_enabled
        result = _apply(run_cli, sb)
        assert result.exit_code == 0, result.stderr
        assert "traffic" in result.stderr            # the cost note
        instance = _instance(sb)
        assert instance.internet_enabled
        egress = network_path.egress_ips(sb.world, s.account_a, s.region_a, s.vpc_a, s.node_vswitch)
        assert egress and {f"{ip}/32" for ip in egress} <= {entry for entry, _ in instance.acl}
        assert "0.0.0.0/0" not in {entry for entry, _ in instance.acl}
        assert {c["action"] for c in _replan(run_cli, sb)} == {"no-op"}


def test_public_any_source_needs_the_flag_and_warns(tmp_path, run_cli):
    with running_sandbox(tmp_path, network="public") as sb:
        result = _apply(run_cli, sb, "--allow-any-source")
        assert result.exit_code == 0, result.stderr
        assert "0.0.0.0/0" in result.stderr
        assert "0.0.0.0/0" in {entry for entry, _ in _instance(sb).acl}


def test_route_to_vpc_routes_the_whole_registry_vpc(tmp_path, run_cli):
    with running_sandbox(tmp_path, network="peering") as sb:
        result = _apply(run_cli, sb, "--route-to", "vpc")
        assert result.exit_code == 0, result.stderr
        table = sb.world.backend("vpc", sb.seeded.account_a, sb.seeded.region_a).route_tables[sb.seeded.route_table_a]
        assert "10.10.0.0/16" in {e.destination for e in table.entries}
        _private_path_ok(sb)


def test_existing_peering_is_adopted_not_recreated(tmp_path, run_cli):
    with running_sandbox(tmp_path, network="peering") as sb:
        s, world = sb.seeded, sb.world
        conn = world.backend("vpcpeer", s.account_a, None).create(
            region=s.region_a, vpc_id=s.vpc_a, accepting_uid=s.account_b, accepting_region=s.region_b,
            accepting_vpc_id=s.vpc_b, bandwidth=None, link_type=None, name="by-hand", description="",
            tags={})
        world.backend("vpcpeer", s.account_b, None).accept(conn.instance_id)
        plan = {c["address"]: c for c in _replan(run_cli, sb)}
        assert plan["vpc.peering"]["action"] == "no-op" and "adopted" in plan["vpc.peering"]["reason"]
        mark = sb.mark()
        assert _apply(run_cli, sb).exit_code == 0
        assert "CreateVpcPeerConnection" not in {c.action for c in sb.calls_since(mark)}
        assert [c.instance_id for c in _live_peerings(sb)] == [conn.instance_id]
        _private_path_ok(sb)


def test_none_mode_changes_nothing_and_reports(tmp_path, run_cli):
    with running_sandbox(tmp_path, network="none") as sb:
        mark = sb.mark()
        result = _apply(run_cli, sb)
        assert result.exit_code == 0, result.stderr
        assert sb.writes_since(mark) == []
        assert "does not resolve" in result.stderr and "found:" in result.stderr


# -- preflight: exit 2 naming the cause, no write -----------------------------------------------
def _second_vpc_in_b(sb):
    s = sb.seeded
    backend = sb.world.backend("vpc", s.account_b, s.region_b)
    vpc = backend.seed_vpc("10.30.0.0/16", name="other")
    vswitch = backend.seed_vswitch(vpc.vpc_id, "10.30.1.0/24", "cn-hangzhou-i")
    return vpc.vpc_id, vswitch.vswitch_id


@pytest.mark.parametrize("scenario,network,needle", [
    ("overlap", "peering", "overlaps"),
    ("overlap", "cen", "overlaps"),
    ("vpc-100", "peering", "100.0.0.0/8"),
    ("vpc-100", "cen", "Takeover of Authentication Domain Name"),
    ("no-egress", "public", "no egress to the internet"),
    ("basic-edition", "peering", "allows 1 linked VPC"),
])
def test_preflight_stops_before_any_write(tmp_path, run_cli, scenario, network, needle):
    with running_sandbox(tmp_path, scenario=scenario, network=network) as sb:
        if scenario == "basic-edition":
            vpc_id, vswitch_id = _second_vpc_in_b(sb)
            _configure(sb, registry_vpc_id=vpc_id, registry_vswitch_id=vswitch_id)
        mark = sb.mark()
        result = _apply(run_cli, sb)
        assert result.exit_code == 2, result.stderr
        assert needle in result.stderr
        assert sb.writes_since(mark) == []


def test_overlap_error_names_both_blocks(tmp_path, run_cli):
    with running_sandbox(tmp_path, scenario="overlap", network="peering") as sb:
        result = _apply(run_cli, sb)
        assert "192.168.0.0/16" in result.stderr and sb.seeded.vpc_b in result.stderr


# -- order ----------------------------------------------------------------------------------------
def test_peering_acceptance_precedes_every_route(tmp_path, run_cli):
    with running_sandbox(tmp_path, network="peering") as sb:
        mark = sb.mark()
        assert _apply(run_cli, sb).exit_code == 0
        actions = [c.action for c in sb.calls_since(mark) if c.status < 400]
        assert "AcceptVpcPeerConnection" in actions and "CreateRouteEntry" in actions
        assert actions.index("AcceptVpcPeerConnection") < actions.index("CreateRouteEntry")


def test_cen_grant_precedes_the_cross_account_attachment(tmp_path, run_cli):
    with running_sandbox(tmp_path, network="cen") as sb:
        mark = sb.mark()
        assert _apply(run_cli, sb).exit_code == 0
        calls = [c for c in sb.calls_since(mark) if c.status < 400]
        # The hub is the registry account's (issue 16): the cluster's account grants its VPC.
        grant = next(c for c in calls if c.action == "GrantInstanceToTransitRouter")
        assert grant.account == sb.seeded.account_a
        attach_calls = [c for c in calls if c.action == "CreateTransitRouterVpcAttachment"]
        assert len(attach_calls) == 2 and {c.account for c in attach_calls} == {sb.seeded.account_b}
        assert any(c.started >= grant.ended for c in attach_calls)
        failed = [c for c in sb.calls_since(mark) if c.action == "CreateTransitRouterVpcAttachment" and c.status >= 400]
        assert failed == []                       # no attachment was ever tried before its grant
        a_attachment = next(a for a in _live_attachments(sb) if a.vpc_id == sb.seeded.vpc_a)
        assert a_attachment.vpc_owner == sb.seeded.account_a and a_attachment.cen_owner == sb.seeded.account_b
        a_grant = next(g for b in sb.world.backends("cbn") for g in b.grants if g.vpc_id == sb.seeded.vpc_a)
        assert a_grant.created_at <= a_attachment.created_at


# -- interrupted apply converges without duplicates ------------------------------------------------
def test_interrupted_peering_converges_with_one_connection(tmp_path, run_cli):
    with running_sandbox(tmp_path, network="peering") as sb:
        sb.world.knobs.set(failing_tasks={"peering"})
        failed = _apply(run_cli, sb)
        assert failed.exit_code == 1
        assert "peering" in failed.stderr
        sb.world.knobs.set(failing_tasks=set())
        assert _apply(run_cli, sb).exit_code == 0, "re-run must converge"
        assert len(_live_peerings(sb)) == 1
        assert {c["action"] for c in _replan(run_cli, sb)} == {"no-op"}
        _private_path_ok(sb)


@pytest.mark.parametrize("scenario", ["default", "cen-multizone"])
def test_interrupted_cen_converges_with_one_cen_and_attachment_each(tmp_path, run_cli, scenario):
    with running_sandbox(tmp_path, scenario=scenario, network="cen") as sb:
        sb.world.knobs.set(failing_tasks={"cen_attachment"})
        assert _apply(run_cli, sb).exit_code == 1
        sb.world.knobs.set(failing_tasks=set())
        result = _apply(run_cli, sb)
        assert result.exit_code == 0, result.stderr
        assert len(_cens(sb)) == 1
        attached = _live_attachments(sb)
        assert sorted(a.vpc_id for a in attached) == sorted([sb.seeded.vpc_a, sb.seeded.vpc_b])
        assert {c["action"] for c in _replan(run_cli, sb)} == {"no-op"}
        _private_path_ok(sb)


# -- end to end: identity by hand, network by acrx, then a pod pulls -------------------------------
@pytest.mark.parametrize("mode", ["peering", "cen", "public"])
def test_a_pod_pulls_over_the_network_acrx_built(tmp_path, run_cli, mode):
    import test_sandbox_pull_e2e as e2e
    from sandbox_world import Hand

    from acrx.sandbox.app import Sandbox

    sandbox = Sandbox(reconcile_interval_s=0.2, clock_scale=0.0).start()
    try:
        hand = Hand(sandbox)
        state = tmp_path / "sandbox"
        sandbox.write_state(state, mode="rrsa", network=mode)
        result = run_cli("--sandbox", state, "network", "apply", "-f", state / "acrx.yaml", "--yes")
        assert result.exit_code == 0, result.stderr
        rrsa, role_a, role_b = e2e.rrsa_setup(hand)
        public = mode == "public"
        e2e.configure_helper(hand, e2e.rrsa_entry(hand, role_a, role_b, rrsa, public=public))
        e2e.wait_for(lambda: e2e.secret_written(hand), what="the helper to patch the default SA")
        e2e.deploy_nginx(hand, e2e.image(hand, public=public))
        pod = e2e.wait_running(hand)
        assert any(m.startswith("Successfully pulled image") for m in e2e.pod_events(hand, pod))
    finally:
        sandbox.stop()
