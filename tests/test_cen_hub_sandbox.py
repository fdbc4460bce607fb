"""Issue 16, shared resources: one CEN and one transit router per region, owned by the registry
account (the hub), shared by every cluster that uses cen; acrx counts who uses it from the
transit router's own attachments, so destroying one cluster keeps the others' path.

Two clusters in two cluster accounts on one registry, both network cen: set up from two separate
single-cluster configs, and from one fleet config. Read back with the official CBN SDK as each
account (not through acrx): one CEN, one router, B's VPC attached once, each cluster VPC
attached cross-account after its own account's grant. Destroying one keeps the other's pull
verified; destroying both leaves no CEN, router, attachment or grant.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from acrx.sandbox.fleet import FleetSandbox
from tests.sandbox_clients import sdk_client

pytestmark = pytest.mark.timeout(600)

CBN = "alibabacloud_cbn20170912"


@pytest.fixture(autouse=True)
def _state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ACRX_STATE_DIR", str(tmp_path / "state"))


@pytest.fixture
def two(tmp_path):
    """Two clusters in the registry's region, in two accounts, every one with network cen."""
    sandbox = FleetSandbox(clusters=2, accounts=2).start()
    try:
        directory = tmp_path / "sandbox"
        sandbox.write_state(directory, network="cen")
        yield sandbox, directory
    finally:
        sandbox.stop()


def _single_configs(sandbox, directory: Path) -> list[Path]:
    """One single-cluster acrx.yaml per cluster (cluster:, not clusters:), as two teams would write."""
    fleet = yaml.safe_load((directory / "acrx.yaml").read_text())
    paths = []
    for entry in fleet["clusters"]:
        config = {"version": 1, "mode": entry["mode"],
                  "accounts": {a: fleet["accounts"][a] for a in ("registry", entry["account"])},
                  "cluster": {"account": entry["account"], "id": entry["id"], "region": entry["region"]},
                  "registries": fleet["registries"], "network": {"mode": "cen"}, "verify": entry["verify"]}
        path = directory / f"{entry['name']}.yaml"
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        paths.append(path)
    return paths


def _cbn(sandbox, alias: str):
    return sdk_client(CBN, sandbox.cloud.endpoint, sandbox.account_key(alias), region=sandbox.seeded.region_b)


def _read_back(sandbox) -> dict:
    """What the cloud holds, read with the CBN SDK as each account."""
    from alibabacloud_cbn20170912 import models as m

    seeded = sandbox.seeded
    out = {"cens": {}, "routers": [], "attachments": [], "grants": {}}
    for alias in ("registry", *seeded.cluster_accounts):
        body = _cbn(sandbox, alias).describe_cens(m.DescribeCensRequest(page_size=50)).body
        out["cens"][alias] = [(c.cen_id, c.name, {t.key: t.value for t in (c.tags.tag if c.tags else [])})
                              for c in (body.cens.cen if body.cens else [])]
    hub = _cbn(sandbox, "registry")
    for cen_id, _, _ in out["cens"]["registry"]:
        routers = hub.list_transit_routers(m.ListTransitRoutersRequest(cen_id=cen_id, page_size=50)).body
        out["routers"] += [(r.transit_router_id, r.region_id) for r in routers.transit_routers or []]
        rows = hub.list_transit_router_vpc_attachments(
            m.ListTransitRouterVpcAttachmentsRequest(cen_id=cen_id, max_results=100)).body
        out["attachments"] += [(a.vpc_id, str(a.vpc_owner_id), a.status) for a in rows.transit_router_attachments or []]
    for c in seeded.clusters:
        rows = _cbn(sandbox, c.account_alias).describe_grant_rules_to_resource(
            m.DescribeGrantRulesToResourceRequest(product_type="VPC", resource_id=c.vpc_id,
                                                  region_id=c.region, max_results=50)).body
        out["grants"][c.vpc_id] = [(g.cen_id, str(g.cen_owner_id)) for g in rows.grant_rules or []]
    return out


def _assert_one_hub(sandbox, state: dict, vpcs) -> str:
    seeded = sandbox.seeded
    assert len(state["cens"]["registry"]) == 1, state
    cen_id, name, tags = state["cens"]["registry"][0]
    assert name == f"acrx-hub-{seeded.account_b}" and tags.get("acrx:managed") == "true"
    assert all(state["cens"][a] == [] for a in seeded.cluster_accounts), state     # no CEN in a cluster account
    assert state["routers"] == [(state["routers"][0][0], seeded.region_b)]
    attached = sorted(v for v, _, _ in state["attachments"])
    assert attached == sorted([seeded.vpc_b, *vpcs]), state                         # B's VPC once
    owners = {v: o for v, o, _ in state["attachments"]}
    for c in seeded.clusters:
        if c.vpc_id in vpcs:
            assert owners[c.vpc_id] == c.account_uid                                # attached cross-account
            assert state["grants"][c.vpc_id] == [(cen_id, seeded.account_b)]        # granted by its own account
    return cen_id


def _nothing_left(state: dict) -> None:
    assert all(cens == [] for cens in state["cens"].values()), state
    assert state["routers"] == [] and state["attachments"] == []
    assert all(grants == [] for grants in state["grants"].values()), state


def test_two_single_cluster_configs_share_one_hub(run_cli, two):
    sandbox, directory = two
    first, second = _single_configs(sandbox, directory)
    c1, c2 = sandbox.seeded.clusters

    def acrx(*args):
        return run_cli("--sandbox", directory, *args)

    for path in (first, second):
        result = acrx("setup", "--yes", "-f", path)
        assert result.exit_code == 0, result.stderr[-3000:]
    _assert_one_hub(sandbox, _read_back(sandbox), [c1.vpc_id, c2.vpc_id])
    for path in (first, second):
        again = acrx("plan", "--detailed-exitcode", "-f", path)
        assert again.exit_code == 0, again.stdout[-3000:]

    dry = acrx("destroy", "--dry-run", "-o", "json", "-f", first)
    assert dry.exit_code == 0, dry.stderr[-3000:]
    planned = {c["address"]: c for c in json.loads(dry.stdout)["data"]["changes"]}
    assert planned["cen.instance"]["action"] == "no-op"
    assert f"kept: still used by attachments of {c2.vpc_id}" in planned["cen.instance"]["reason"]
    assert planned[f"cen.attachment.{sandbox.seeded.vpc_b}"]["action"] == "no-op"
    assert planned[f"cen.attachment.{c1.vpc_id}"]["action"] == "delete"
    assert planned[f"cen.grant.{c1.vpc_id}"]["action"] == "delete"

    result = acrx("destroy", "--yes", "-f", first)
    assert result.exit_code == 0, result.stderr[-3000:]
    _assert_one_hub(sandbox, _read_back(sandbox), [c2.vpc_id])
    verified = acrx("verify", "-f", second)
    assert verified.exit_code == 0, verified.stdout[-3000:] + verified.stderr[-3000:]

    for _ in range(2):   # the last cluster removes the hub; a repeated destroy converges
        result = acrx("destroy", "--yes", "-f", second)
        assert result.exit_code == 0, result.stderr[-3000:]
        _nothing_left(_read_back(sandbox))
    result = acrx("destroy", "--yes", "-f", first)
    assert result.exit_code == 0, result.stderr[-3000:]


def test_a_fleet_plans_the_hub_once_and_its_last_cluster_removes_it(run_cli, two):
    sandbox, directory = two
    config = directory / "acrx.yaml"
    c1, c2 = sandbox.seeded.clusters

    def fleet(*args):
        return run_cli("--sandbox", directory, "fleet", *args, "-f", config)

    planned = fleet("plan", "-o", "json")
    assert planned.exit_code == 0, planned.stderr[-3000:]
    data = json.loads(planned.stdout)["data"]
    users = data["meta"]["shared_users"]
    for address in ("registry/cen.instance", f"registry/cen.transit_router.{sandbox.seeded.region_b}",
                    f"registry/cen.attachment.{sandbox.seeded.vpc_b}"):
        assert sorted(users[address]) == [c1.name, c2.name], users
    creates = [c["address"] for c in data["changes"] if c["action"] == "create"]
    assert creates.count("registry/cen.instance") == 1

    result = fleet("setup", "--yes")
    assert result.exit_code == 0, result.stderr[-3000:]
    _assert_one_hub(sandbox, _read_back(sandbox), [c1.vpc_id, c2.vpc_id])
    again = fleet("plan", "--detailed-exitcode")
    assert again.exit_code == 0, again.stdout[-3000:]

    result = fleet("destroy", "--yes", "--cluster", c1.name)
    assert result.exit_code == 0, result.stderr[-3000:]
    _assert_one_hub(sandbox, _read_back(sandbox), [c2.vpc_id])
    verified = fleet("verify", "--cluster", c2.name)
    assert verified.exit_code == 0, verified.stdout[-3000:] + verified.stderr[-3000:]

    result = fleet("destroy", "--yes")
    assert result.exit_code == 0, result.stderr[-3000:]
    _nothing_left(_read_back(sandbox))


def test_an_older_per_cluster_cen_is_kept_for_setup_and_removed_by_destroy(run_cli, two):
    """The layout before the hub: a CEN acrx-<cluster id>, tagged, in the cluster's account. Setup
    keeps using it (no traffic moves); while B's VPC is on it, another cluster cannot join the
    hub (a VPC is on one CEN only) and is told so before any write; destroy removes it whole."""
    from alibabacloud_cbn20170912 import models as m

    sandbox, directory = two
    first, second = _single_configs(sandbox, directory)
    c1, c2 = sandbox.seeded.clusters
    old = _cbn(sandbox, c1.account_alias).create_cen(m.CreateCenRequest(
        name=f"acrx-{c1.cluster_id}", tag=[m.CreateCenRequestTag(key="acrx:managed", value="true")])).body.cen_id

    def acrx(*args):
        return run_cli("--sandbox", directory, *args)

    result = acrx("setup", "--yes", "-f", first)
    assert result.exit_code == 0, result.stderr[-3000:]
    state = _read_back(sandbox)
    assert state["cens"]["registry"] == [] and [c for c, _, _ in state["cens"][c1.account_alias]] == [old]
    rows = _cbn(sandbox, c1.account_alias).list_transit_router_vpc_attachments(
        m.ListTransitRouterVpcAttachmentsRequest(cen_id=old, max_results=100)).body.transit_router_attachments
    assert sorted(a.vpc_id for a in rows) == sorted([c1.vpc_id, sandbox.seeded.vpc_b])
    again = acrx("plan", "--detailed-exitcode", "-o", "json", "-f", first)
    assert again.exit_code == 0, again.stdout[-3000:]
    cen = next(c for c in json.loads(again.stdout)["data"]["changes"] if c["address"] == "cen.instance")
    assert "older acrx" in cen["reason"]

    mark = sandbox.world.calls.mark()
    refused = acrx("setup", "--yes", "-f", second)
    assert refused.exit_code == 2, refused.stderr[-3000:]
    assert "one CEN only" in refused.stderr and old in refused.stderr
    assert not [c for c in sandbox.world.calls.since(mark) if c.writes and c.status < 400]

    result = acrx("destroy", "--yes", "-f", first)
    assert result.exit_code == 0, result.stderr[-3000:]
    _nothing_left(_read_back(sandbox))
    result = acrx("setup", "--yes", "-f", second)
    assert result.exit_code == 0, result.stderr[-3000:]
    _assert_one_hub(sandbox, _read_back(sandbox), [c2.vpc_id])
    result = acrx("destroy", "--yes", "-f", second)
    assert result.exit_code == 0, result.stderr[-3000:]
    _nothing_left(_read_back(sandbox))


def test_a_destroy_stopped_after_the_attachment_still_revokes_the_grant(run_cli, two):
    """The cluster's attachment gone, its grant to the hub left (a destroy that stopped between
    the two): destroy run again revokes it."""
    from alibabacloud_cbn20170912 import models as m

    sandbox, directory = two
    first, second = _single_configs(sandbox, directory)
    c1, c2 = sandbox.seeded.clusters
    for path in (first, second):
        result = run_cli("--sandbox", directory, "setup", "--yes", "--no-verify", "-f", path)
        assert result.exit_code == 0, result.stderr[-3000:]
    cen_id = _assert_one_hub(sandbox, _read_back(sandbox), [c1.vpc_id, c2.vpc_id])
    result = run_cli("--sandbox", directory, "destroy", "--yes", "-f", first)
    assert result.exit_code == 0, result.stderr[-3000:]
    # put back the state of a destroy stopped after the attachment: the grant again, no attachment
    _cbn(sandbox, c1.account_alias).grant_instance_to_transit_router(m.GrantInstanceToTransitRouterRequest(
        cen_id=cen_id, cen_owner_id=int(sandbox.seeded.account_b), instance_id=c1.vpc_id, instance_type="VPC",
        region_id=c1.region, order_type="PayByCenOwner"))
    assert _read_back(sandbox)["grants"][c1.vpc_id]
    result = run_cli("--sandbox", directory, "destroy", "--yes", "-f", first)
    assert result.exit_code == 0, result.stderr[-3000:]
    assert _read_back(sandbox)["grants"][c1.vpc_id] == []
    _assert_one_hub(sandbox, _read_back(sandbox), [c2.vpc_id])
