"""Issue 16: the fleet config (clusters:), its selection flags and shards, offline through the CLI
(`acrx fleet list` reads no cloud); and the merge rule that a shared address is planned once and
two clusters wanting different payloads there is an error naming both."""

from __future__ import annotations

import json

import pytest
import yaml

from acrx.config.fleet import shard_members

ACCOUNTS = {"registry": {"profile": "reg"}, "a1": {"profile": "a1"}, "a2": {"profile": "a2"}}
REGISTRY = {"account": "registry", "instance_id": "cri-abcdefgh12345678", "region": "cn-hangzhou"}


def _cluster_id(i: int) -> str:
    return "c" + f"{i:02d}".rjust(32, "a")


def _write(tmp_path, clusters, **top):
    data = {"version": 1, "accounts": ACCOUNTS, "registries": [REGISTRY], "clusters": clusters, **top}
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _entries(n: int):
    return [{"account": "a1" if i % 2 else "a2", "id": _cluster_id(i), "region": "cn-hangzhou",
             "name": f"c{i:02d}"} for i in range(n)]


def _listed(run_cli, path, *flags):
    result = run_cli("fleet", "list", "-f", path, "-o", "json", *flags)
    assert result.exit_code == 0, result.stderr
    return [row["cluster"] for row in json.loads(result.stdout)["data"]["clusters"]]


@pytest.mark.parametrize("count", [1, 2, 3, 5, 7])
def test_shards_cover_every_cluster_exactly_once(tmp_path, run_cli, count):
    path = _write(tmp_path, _entries(23))
    every = _listed(run_cli, path)
    assert len(every) == 23
    shards = [_listed(run_cli, path, "--cluster-shard", f"{i}/{count}") for i in range(count)]
    flat = [cid for shard in shards for cid in shard]
    assert sorted(flat) == sorted(every)            # every cluster, none twice
    assert len(flat) == len(set(flat))
    sizes = [len(s) for s in shards]
    assert max(sizes) - min(sizes) <= 1             # balanced


def test_shards_hold_for_any_fleet_size():
    from acrx.config.fleet import FleetMember

    for size in range(0, 40):
        members = [FleetMember(i, _cluster_id(i), f"n{i}") for i in range(size)]
        for count in range(1, 9):
            flat = [m.cluster_id for i in range(count) for m in shard_members(members, i, count)]
            assert sorted(flat) == sorted(m.cluster_id for m in members)


def test_selection_by_id_and_name(tmp_path, run_cli):
    # --cluster-selector reads the clusters' tags in ACK: tests/test_fleet_selector.py, against the sandbox
    path = _write(tmp_path, _entries(6))
    assert _listed(run_cli, path, "--cluster", "c01", "--cluster", _cluster_id(4)) == [_cluster_id(1), _cluster_id(4)]
    assert _listed(run_cli, path, "--cluster", "c03", "--cluster", "c05", "--cluster-shard", "1/2") == [_cluster_id(5)]


def test_per_cluster_overrides(tmp_path, run_cli):
    entries = _entries(2)
    entries[1].update(mode="worker-role", network="public", namespaces=["team-a", "team-b"])
    path = _write(tmp_path, entries, mode="rrsa", network={"mode": "peering"})
    result = run_cli("fleet", "list", "-f", path, "-o", "json")
    rows = json.loads(result.stdout)["data"]["clusters"]
    assert [(r["mode"], r["network"]) for r in rows] == [("rrsa", "peering"), ("worker-role", "public")]
    from acrx.config.fleet import load_fleet

    fleet = load_fleet(path)
    assert fleet.members[1].config.addon.watch_namespaces == ["team-a", "team-b"]
    assert fleet.members[0].config.addon.watch_namespaces == ["default"]


def test_single_cluster_config_is_a_fleet_of_one(tmp_path, run_cli):
    data = {"version": 1, "accounts": ACCOUNTS, "registries": [REGISTRY],
            "cluster": {"account": "a1", "id": _cluster_id(0), "region": "cn-hangzhou"}}
    path = tmp_path / "one.yaml"
    path.write_text(yaml.safe_dump(data))
    assert _listed(run_cli, path) == [_cluster_id(0)]


@pytest.mark.parametrize("change, flags, field", [
    (lambda e: e[1].update(colour="blue"), (), "clusters[1].colour"),
    (lambda e: e[1].update(id=e[0]["id"]), (), "clusters[1].id"),
    (lambda e: e[2].update(id="not-a-cluster"), (), "clusters[2].id"),
    (lambda e: e[0].update(mode="telepathy"), (), "clusters[0].mode"),
    (lambda e: e[0].update(account="nobody"), (), "clusters[0].account"),
    (lambda e: e[3].update(name=e[2]["name"]), (), "clusters[3].name"),
    (lambda e: e[1].update(tags={"env": "prod"}), (), "clusters[1].tags"),
    (lambda e: None, ("--cluster-shard", "2/2"), "--cluster-shard"),
    (lambda e: None, ("--cluster-shard", "x"), "--cluster-shard"),
    (lambda e: None, ("--cluster-selector", "env"), "--cluster-selector"),
    (lambda e: None, ("--cluster", "c99"), "--cluster"),
    (lambda e: None, ("--cluster-selector", "=prod"), "--cluster-selector"),
])
def test_bad_fleet_input_is_one_line_exit_2(tmp_path, run_cli, change, flags, field):
    entries = _entries(4)
    change(entries)
    path = _write(tmp_path, entries)
    result = run_cli("fleet", "list", "-f", path, *flags)
    assert result.exit_code == 2, result.stdout + result.stderr
    assert field in result.stderr
    assert "Traceback" not in result.stderr


def test_cluster_and_clusters_together_is_refused(tmp_path, run_cli):
    path = _write(tmp_path, _entries(2), cluster={"account": "a1", "id": _cluster_id(9), "region": "cn-hangzhou"})
    result = run_cli("fleet", "list", "-f", path)
    assert result.exit_code == 2 and "either cluster or clusters" in result.stderr


# -- merging plans -----------------------------------------------------------------------------
def _member(name: str, cid: str):
    from acrx.config.fleet import load_fleet  # noqa: F401  (the real model, built below)
    from acrx.config.model import AcrxConfig

    config = AcrxConfig.model_validate({"accounts": ACCOUNTS, "registries": [REGISTRY],
                                        "cluster": {"account": "a1", "id": cid, "region": "cn-hangzhou"}})
    from acrx.config.fleet import FleetMember

    return FleetMember(0, cid, name, {}, config)


def test_merge_plans_shared_once_and_prefixes_the_rest():
    from acrx.plan.change import Action, Change, Ref
    from acrx.plan.fleet import merge
    from acrx.plan.plan import Plan

    def plan(cidr):
        return Plan([Change("ram.policy.registry_pull", Action.CREATE, None, {"name": "acrx-pull-cri-x"},
                            account="registry", kind="ram.policy"),
                     Change("ram.role.registry", Action.CREATE, None, {"name": "r"}, account="registry",
                            kind="ram.role"),
                     Change("ram.policy_attachment.registry_pull", Action.CREATE, None,
                            {"policy": Ref("ram.policy.registry_pull", "name")}, account="registry",
                            kind="ram.policy_attachment", depends_on=("ram.role.registry",)),
                     Change(f"cr.acl.{cidr}", Action.CREATE, None, {"cidr": cidr}, account="registry", kind="cr.acl")])

    merged = merge([(_member("one", _cluster_id(1)), plan("1.1.1.1/32")),
                    (_member("two", _cluster_id(2)), plan("2.2.2.2/32"))])
    addresses = [c.address for c in merged.changes]
    assert addresses.count("registry/ram.policy.registry_pull") == 1
    assert {"one/ram.role.registry", "two/ram.role.registry", "registry/cr.acl.1.1.1.1/32",
            "registry/cr.acl.2.2.2.2/32"} <= set(addresses)
    attach = merged["two/ram.policy_attachment.registry_pull"]
    assert attach.depends_on == ("two/ram.role.registry",)
    assert [r.address for r in attach.refs()] == ["registry/ram.policy.registry_pull"]
    assert merged.meta["shared_users"]["registry/ram.policy.registry_pull"] == ["one", "two"]


def test_merge_refuses_two_payloads_at_one_shared_address():
    from acrx.errors import UsageError
    from acrx.plan.change import Action, Change
    from acrx.plan.fleet import merge
    from acrx.plan.plan import Plan

    def plan(doc):
        return Plan([Change("ram.policy.registry_pull", Action.CREATE, None, {"document": doc},
                            account="registry", kind="ram.policy")])

    with pytest.raises(UsageError) as err:
        merge([(_member("one", _cluster_id(1)), plan("A")), (_member("two", _cluster_id(2)), plan("B"))])
    assert "one" in str(err.value) and "two" in str(err.value)


def test_fleet_limits_refuse_before_any_write():
    """A fleet past a limit of acrx.facts.FLEET_LIMITS stops the plan, naming limit and source."""
    from acrx import facts
    from acrx.errors import PreflightError
    from acrx.plan.change import Action, Change
    from acrx.plan.fleet import check_limits, merge
    from acrx.plan.plan import Plan

    limit = facts.FLEET_LIMITS["ACL entries per internet endpoint"][0]

    def plan(i):
        return Plan([Change(f"cr.acl.198.51.{i // 250}.{i % 250}/32", Action.CREATE, None, {"cidr": "x"},
                            account="registry", kind="cr.acl")])

    fits = merge([(_member(f"n{i}", _cluster_id(i)), plan(i)) for i in range(limit)])
    check_limits(fits)
    over = merge([(_member(f"n{i}", _cluster_id(i)), plan(i)) for i in range(limit + 1)])
    with pytest.raises(PreflightError) as err:
        check_limits(over)
    assert f"{limit + 1} ACL entries" in str(err.value) and "[?]" in str(err.value)


@pytest.mark.parametrize("command", ["setup", "destroy", "doctor"])   # plan and verify run the fleet
def test_single_cluster_commands_point_a_fleet_config_to_acrx_fleet(tmp_path, run_cli, command):
    path = _write(tmp_path, _entries(3))
    result = run_cli(command, "-f", path)
    assert result.exit_code == 2, result.stdout + result.stderr
    assert "acrx fleet" in result.stderr and "clusters" in result.stderr
