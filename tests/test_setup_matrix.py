"""The matrix of issue 8 in the sandbox: every mode x every network runs `setup --yes` (verify
included), a no-change `plan --detailed-exitcode`, then `destroy --yes`; after which no resource
with acrx's mark is left anywhere in the sandbox and the cluster's pre-existing objects are as
they were. Also: plan writes nothing, a saved plan applies, and a stale saved plan is refused.

Each case has its own sandbox (nothing shared) at clock scale 0.
"""

from __future__ import annotations

import json

import pytest

from acrx import facts
from tests.sandbox_fixture import running_sandbox

pytestmark = pytest.mark.timeout(180)

MODES = ("rrsa", "worker-role", "access-key")
NETWORKS = ("public", "peering", "cen", "none")
MARK_TAG = (facts.MARK_TAG_KEY, facts.MARK_TAG_VALUE)


@pytest.fixture(autouse=True)
def _state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ACRX_STATE_DIR", str(tmp_path / "state"))


def _mode_flags(mode: str) -> list[str]:
    return ["--allow-plaintext-access-key"] if mode == "access-key" else []


def _cli(run_cli, sb, command: str, *extra):
    return run_cli("--sandbox", sb.dir, command, "-f", sb.config_path, *extra)


# -- walking the sandbox ------------------------------------------------------------------------
def _marked_tags(tags: dict) -> bool:
    return (tags or {}).get(MARK_TAG[0]) == MARK_TAG[1]


def acrx_leftovers(sb) -> list[str]:
    """Every resource in the sandbox that carries acrx's ownership mark, as readable strings."""
    world = sb.world
    found: list[str] = []
    for ram in world.backends("ram"):
        found += [f"ram role {r.name}" for r in ram.roles.values() if _marked_tags(r.tags)]
        found += [f"ram policy {p.name}" for p in ram.policies.values()
                  if (p.description or "").startswith(facts.MARK_TEXT_PREFIX)]
        found += [f"ram user {u.name}" for u in getattr(ram, "users", {}).values()
                  if (u.comments or "").startswith(facts.MARK_TEXT_PREFIX)]
    for vpc in world.backends("vpc"):
        for table in vpc.route_tables.values():
            found += [f"route {e.destination} in {table.route_table_id}" for e in table.entries
                      if (e.name or "").startswith(facts.MARK_PREFIX) or (e.description or "").startswith(facts.MARK_PREFIX)]
    for peer in world.backends("vpcpeer"):
        found += [f"peering {c.instance_id}" for c in peer.connections.values()
                  if c.phase != "deleted" and (c.name.startswith(facts.MARK_PREFIX) or _marked_tags(peer.tags.of(c.instance_id)))]
    for cbn in world.backends("cbn"):
        found += [f"cen {c.cen_id}" for c in cbn.cens.values()
                  if c.name.startswith(facts.MARK_PREFIX) or _marked_tags(cbn.tags.of(c.cen_id))]
        found += [f"transit router {t.transit_router_id}" for t in cbn.transit_routers.values()]
        found += [f"attachment {a.attachment_id}" for a in cbn.attachments.values()
                  if a.live and a.name.startswith(facts.MARK_PREFIX)]
        found += [f"grant of {g.vpc_id} to {g.cen_id}" for g in cbn.grants]
    for pvtz in world.backends("pvtz"):
        for zone in pvtz.zones.values():
            if _marked_tags(pvtz.tags.of(zone.zone_id)):
                found.append(f"zone {zone.name}")
            found += [f"record {r.rr} {r.value} in {zone.name}" for r in zone.records
                      if (r.remark or "").startswith(facts.MARK_PREFIX)]
    for cs in world.backends("cs"):
        for cluster in cs.clusters.values():
            found += [f"addon {name}" for name in cluster.addons
                      if name in (facts.MANAGED_ADDON, facts.SELF_MANAGED_ADDON)]
    for cr in world.backends("cr"):
        for instance in cr.instances.values():
            found += [f"acl {cidr}" for cidr, comment in instance.acl if (comment or "").startswith(facts.MARK_PREFIX)]
    data = _configmap_data(sb)
    if data is not None and facts.CM_REGISTRY_INFO in data:
        found.append("acr-configuration acr-registry-info")
    return found


def _configmap_data(sb):
    from acrx.sandbox.kube.errors import KubeError

    try:
        return sb.sandbox.cluster.store.get("configmaps", facts.CONFIGMAP_NAMESPACE, facts.CONFIGMAP_NAME).get("data") or {}
    except KubeError:
        return None


def pre_existing(sb) -> dict:
    """What the seeded world had before acrx: compared after destroy."""
    world, s = sb.world, sb.seeded
    vpcs = {}
    for vpc in world.backends("vpc"):
        vpcs[vpc.account] = (sorted(vpc.vpcs), sorted(vpc.vswitches), sorted(vpc.nat_gateways), sorted(vpc.route_tables))
    worker = world.backend("ram", s.account_a, None).roles.get(s.worker_role) if s.worker_role else None
    instance = world.backend("cr", s.account_b, s.region_b).instances[s.instance_id]
    return {"vpcs": vpcs, "worker": (worker.name, worker.trust_document, sorted(a.name for a in worker.attachments))
            if worker else None,
            "links": sorted((link.vpc_id, link.vswitch_id, link.ip) for link in instance.vpc_links),
            "cluster": sorted(world.backend("cs", s.account_a, s.region_a).clusters)}


def _prepare_none(run_cli, sb, mode: str) -> None:
    """network none: the path exists beforehand, made by `acrx network apply --via peering`."""
    sb.write_config(mode=mode, network="peering")
    result = run_cli("--sandbox", sb.dir, "network", "apply", "-f", sb.config_path, "--via", "peering", "--yes")
    assert result.exit_code == 0, result.stderr
    sb.write_config(mode=mode, network="none")


@pytest.mark.parametrize("network", NETWORKS)
@pytest.mark.parametrize("mode", MODES)
def test_setup_plan_destroy(tmp_path, run_cli, mode, network):
    with running_sandbox(tmp_path, mode=mode, network=network) as sb:
        before = pre_existing(sb)
        assert acrx_leftovers(sb) == []
        if network == "none":
            _prepare_none(run_cli, sb, mode)
        flags = _mode_flags(mode)

        result = _cli(run_cli, sb, "setup", "--yes", *flags)
        assert result.exit_code == 0, result.stderr[-3000:]
        assert "Successfully pulled image" in result.stdout + result.stderr
        assert acrx_leftovers(sb), "setup made nothing with acrx's mark"

        result = _cli(run_cli, sb, "plan", "--detailed-exitcode", *flags)
        assert result.exit_code == 0, result.stdout[-3000:] + result.stderr[-2000:]

        result = _cli(run_cli, sb, "destroy", "--yes")
        assert result.exit_code == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert acrx_leftovers(sb) == []
        assert pre_existing(sb) == before

        # Destroy converges: nothing is left for a second one.
        result = _cli(run_cli, sb, "destroy", "--dry-run", "--detailed-exitcode", "-o", "json")
        assert result.exit_code == 0, result.stdout[-2000:]
        kept = {c["address"]: c["reason"] for c in _changes(result.stdout)}
        assert all(c["action"] == "no-op" for c in _changes(result.stdout))
        if mode == "rrsa":
            assert "RRSA stays enabled" in kept["cs.rrsa"]


def _changes(stdout: str) -> list[dict]:
    envelope = json.loads(stdout)
    return envelope.get("data", envelope)["changes"]


def test_plan_writes_nothing(tmp_path, run_cli):
    with running_sandbox(tmp_path, mode="rrsa", network="peering") as sb:
        mark = sb.mark()
        result = _cli(run_cli, sb, "plan", "--detailed-exitcode", "-o", "json")
        assert result.exit_code == 3, result.stderr
        assert sb.calls_since(mark), "plan read nothing"
        assert sb.writes_since(mark) == []
        assert any(c["action"] == "create" for c in _changes(result.stdout))


def test_destroy_dry_run_writes_nothing_and_keeps_adopted(tmp_path, run_cli):
    """A role of acrx's name that acrx did not make (no tag) is kept, with its reason."""
    with running_sandbox(tmp_path, mode="worker-role", network="public") as sb:
        s = sb.seeded
        assert _cli(run_cli, sb, "setup", "--yes", "--no-verify").exit_code == 0
        ram_b = sb.world.backend("ram", s.account_b, None)
        name = next(iter(r for r in ram_b.roles if r.startswith("acrx-pull-")))
        ram_b.roles[name].tags.clear()            # as if a person had made it before acrx
        mark = sb.mark()
        result = _cli(run_cli, sb, "destroy", "--dry-run", "-o", "json", "--detailed-exitcode")
        assert result.exit_code == 3
        assert sb.writes_since(mark) == []
        by_address = {c["address"]: c for c in _changes(result.stdout)}
        assert by_address["ram.role.registry"]["action"] == "no-op"
        assert "adopted, kept" in by_address["ram.role.registry"]["reason"]
        assert by_address["ram.policy.registry_pull"]["action"] == "delete"
        assert _cli(run_cli, sb, "destroy", "--yes").exit_code == 0
        assert name in ram_b.roles                # still there, with nothing of acrx's attached
        assert ram_b.roles[name].attachments == []


def test_saved_plan_applies(tmp_path, run_cli):
    with running_sandbox(tmp_path, mode="worker-role", network="peering") as sb:
        out = tmp_path / "plan.json"
        assert _cli(run_cli, sb, "plan", "--out", out).exit_code == 0
        result = _cli(run_cli, sb, "setup", "--plan", out, "--yes")
        assert result.exit_code == 0, result.stderr[-3000:]
        assert _cli(run_cli, sb, "plan", "--detailed-exitcode").exit_code == 0


def test_stale_saved_plan_is_refused(tmp_path, run_cli):
    with running_sandbox(tmp_path, mode="worker-role", network="peering") as sb:
        s = sb.seeded
        out = tmp_path / "plan.json"
        assert _cli(run_cli, sb, "plan", "--out", out).exit_code == 0
        # Someone creates the registry role by hand in between.
        trust = {"Version": "1", "Statement": [{"Action": "sts:AssumeRole", "Effect": "Allow",
                                                "Principal": {"Service": ["ecs.aliyuncs.com"]}}]}
        role_name = json.loads(out.read_text())
        role_name = next(c["after"]["name"] for c in role_name["changes"] if c["address"] == "ram.role.registry")
        sb.world.backend("ram", s.account_b, None).create_role(role_name, json.dumps(trust), description="by hand",
                                                              max_session_duration=3600)
        mark = sb.mark()
        result = _cli(run_cli, sb, "setup", "--plan", out, "--yes")
        assert result.exit_code == 1
        assert "no longer matches" in result.stderr and "ram.role.registry" in result.stderr
        assert sb.writes_since(mark) == []
