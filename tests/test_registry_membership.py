"""Issue 16: acrx's marks count who uses a shared registry-side resource.

Each cluster's identity in the registry account (its registry role, or its RAM user) carries a
membership mark naming the cluster and what it uses there (acrx.steps.identity.membership).
Destroying one cluster, from its own single-cluster config or from a fleet, removes only what no
other member's mark names, and the plan says for whom the rest stays. Driven through the CLI
against the sandbox, read back with the official RAM SDK and the sandbox's state."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import yaml

from acrx import facts
from acrx.sandbox.app import env_prefix
from acrx.sandbox.fleet import FleetSandbox
from acrx.steps.identity import membership
from tests.sandbox_clients import sdk_client
from tests.test_setup_matrix import acrx_leftovers

pytestmark = pytest.mark.timeout(600)


class _World:
    """A FleetSandbox (clusters in the registry's region) with one single-cluster config per cluster."""

    def __init__(self, sandbox: FleetSandbox, directory: Path):
        self.sandbox, self.dir = sandbox, directory
        self.seeded = sandbox.seeded
        self.world = sandbox.world

    def single_config(self, index: int, network: str, mode: str = "rrsa") -> Path:
        fleet = self.sandbox.config()
        entry = fleet["clusters"][index]
        domain = self.seeded.domain_public if network == "public" else self.seeded.domain_vpc
        config = {"version": 1, "mode": mode,
                  "accounts": {alias: fleet["accounts"][alias] for alias in ("registry", entry["account"])},
                  "cluster": {"account": entry["account"], "id": entry["id"], "region": entry["region"]},
                  "registries": fleet["registries"], "network": {"mode": network},
                  "verify": {"image": f"{domain}/{self.seeded.image_repo}:{self.seeded.image_tag}"}}
        path = self.dir / f"cluster-{index}.yaml"
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        return path

    def acl(self) -> list[str]:
        return [cidr for b in self.world.backends("cr") for i in b.instances.values() for cidr, _ in i.acl]

    def endpoint_on(self) -> bool:
        cr = self.world.backend("cr", self.seeded.account_b, self.seeded.region_b)
        return bool(cr.instances[self.seeded.instance_id].internet_enabled)

    def record(self, cluster_id: str) -> dict:
        """The cluster's acrx-ownership ConfigMap data ({} when there is none)."""
        from acrx.sandbox.kube.errors import KubeError

        try:
            found = self.sandbox.clusters[cluster_id].store.get("configmaps", "kube-system", "acrx-ownership")
        except KubeError:
            return {}
        return found.get("data") or {}

    def ram_sdk(self):
        env = self.sandbox.env()
        prefix = env_prefix("registry")
        return sdk_client("alibabacloud_ram20150501", self.sandbox.cloud.endpoint,
                          (env[f"{prefix}_ACCESS_KEY_ID"], env[f"{prefix}_ACCESS_KEY_SECRET"]))

    def marks(self) -> dict[str, str]:
        """Role name -> Description, read back with the official RAM SDK (ListRoles)."""
        from alibabacloud_ram20150501 import models

        body = self.ram_sdk().list_roles(models.ListRolesRequest(max_items=1000)).body
        return {r.role_name: r.description or "" for r in body.roles.role}


@pytest.fixture
def two(tmp_path, monkeypatch):
    monkeypatch.setenv("ACRX_STATE_DIR", str(tmp_path / "state"))   # journals and run locks of this test only
    sandbox = FleetSandbox(clusters=2, accounts=1, rate_limits=False).start()
    try:
        sandbox.write_state(tmp_path / "sandbox")
        yield _World(sandbox, tmp_path / "sandbox")
    finally:
        sandbox.stop()


def _cli(run_cli, w: _World, *args):
    return run_cli("--sandbox", w.dir, *args)


def _share_egress(w: _World) -> None:
    """Put the second cluster behind the first one's egress IP (two clusters behind one NAT EIP)."""
    first, second = w.seeded.clusters
    vpc = w.world.backend("vpc", w.world.account_by_alias(second.account_alias).uid, second.region)
    for nat in vpc.nat_gateways.values():
        if nat.vpc_id == second.vpc_id:
            nat.snat_entries[:] = [dataclasses.replace(e, snat_ip=first.egress_ip) for e in nat.snat_entries]


@pytest.mark.parametrize("same_ip", [False, True], ids=["different-egress", "same-egress"])
def test_public_single_configs_destroy_one_keeps_the_other(run_cli, two, same_ip):
    if same_ip:
        _share_egress(two)
    one_cfg, two_cfg = two.single_config(0, "public"), two.single_config(1, "public")
    first, second = two.seeded.clusters
    ip_one = f"{first.egress_ip}/32"
    ip_two = f"{first.egress_ip if same_ip else second.egress_ip}/32"
    for cfg in (one_cfg, two_cfg):
        result = _cli(run_cli, two, "setup", "-f", cfg, "--yes")
        assert result.exit_code == 0, result.stdout + result.stderr
    # Each registry role carries its cluster's mark, written at creation (RAM SDK read-back).
    marks = two.marks()
    for cluster, ip in ((first, ip_one), (second, ip_two)):
        text = marks[f"acrx-pull-{cluster.cluster_id}"]
        said = membership.parse(text, "?")
        assert said is not None and said.cluster == cluster.cluster_id and said.network == "public"
        assert said.acl == (ip,) and len(text) <= facts.RAM_ROLE_DESCRIPTION_MAX
    assert sorted(set(two.acl()) - {"127.0.0.1/32"}) == sorted({ip_one, ip_two})
    # The first cluster's setup switched the endpoint on and recorded that in its cluster.
    assert [k for k in two.record(first.cluster_id) if k.startswith("cr.endpoint.internet")]
    # A second plan of each is clean: the marks are current.
    for cfg in (one_cfg, two_cfg):
        again = _cli(run_cli, two, "plan", "-f", cfg, "--detailed-exitcode")
        assert again.exit_code == 0, again.stdout + again.stderr

    dry = _cli(run_cli, two, "destroy", "-f", one_cfg, "--dry-run", "-o", "json")
    assert dry.exit_code == 0, dry.stderr
    changes = {c["address"]: c for c in json.loads(dry.stdout)["data"]["changes"]}
    assert changes["cr.endpoint.internet"]["action"] == "no-op"
    assert changes["cr.endpoint.internet"]["reason"].startswith(f"kept on: still used by {second.cluster_id}")
    assert changes[f"cr.acl.{ip_two}"]["action"] == "no-op"
    assert changes[f"cr.acl.{ip_two}"]["reason"].startswith(f"kept: still used by {second.cluster_id}")
    if not same_ip:
        assert changes[f"cr.acl.{ip_one}"]["action"] == "delete"
    assert changes["ram.role.registry"]["action"] == "delete"
    # The pull policy both roles hold stays, saying for whom.
    assert changes["ram.policy.registry_pull"]["reason"].startswith(f"kept: still used by {second.cluster_id}")

    result = _cli(run_cli, two, "destroy", "-f", one_cfg, "--yes")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert ip_two in two.acl() and (same_ip or ip_one not in two.acl())
    assert two.endpoint_on()
    verify = _cli(run_cli, two, "verify", "-f", two_cfg)
    assert verify.exit_code == 0, verify.stdout + verify.stderr
    # The first cluster switched the endpoint on: its destroy handed that over to the second's mark,
    # and its own record of the switch is gone with it.
    assert membership.parse(two.marks()[f"acrx-pull-{second.cluster_id}"], "?").endpoint
    assert not [k for k in two.record(first.cluster_id) if k.startswith("cr.endpoint.internet")]

    result = _cli(run_cli, two, "destroy", "-f", two_cfg, "--yes")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert acrx_leftovers(two) == []
    assert not two.endpoint_on()   # the last public member switched it off
    assert not any("uses/1" in text for text in two.marks().values())


def test_older_mark_keeps_everything_shared_until_planned_again(run_cli, two):
    """A registry role whose mark an older acrx wrote (no uses/) has unknown needs: destroying
    another cluster keeps every shared thing while it exists, and says so; the next plan of that
    cluster writes its mark (an update, UpdateRole NewDescription)."""
    from alibabacloud_ram20150501 import models

    one_cfg, two_cfg = two.single_config(0, "public"), two.single_config(1, "public")
    first, second = two.seeded.clusters
    for cfg in (one_cfg, two_cfg):
        assert _cli(run_cli, two, "setup", "-f", cfg, "--yes").exit_code == 0
    role = f"acrx-pull-{second.cluster_id}"
    older = f"acrx: registry role that cluster {second.cluster_id} assumes to pull images"
    two.ram_sdk().update_role(models.UpdateRoleRequest(role_name=role, new_description=older))

    dry = _cli(run_cli, two, "destroy", "-f", one_cfg, "--dry-run", "-o", "json")
    assert dry.exit_code == 0, dry.stderr
    changes = {c["address"]: c for c in json.loads(dry.stdout)["data"]["changes"]}
    own = changes[f"cr.acl.{first.egress_ip}/32"]
    assert own["action"] == "no-op" and "older acrx" in own["reason"] and second.cluster_id in own["reason"]
    assert changes["cr.endpoint.internet"]["action"] == "no-op"

    plan = _cli(run_cli, two, "plan", "-f", two_cfg, "-o", "json")
    role_change = next(c for c in json.loads(plan.stdout)["data"]["changes"] if c["address"] == "ram.role.registry")
    assert role_change["action"] == "update" and "membership mark changes" in role_change["reason"]
    assert _cli(run_cli, two, "setup", "-f", two_cfg, "--yes").exit_code == 0
    assert "uses/1" in two.marks()[role]

    for cfg in (one_cfg, two_cfg):
        result = _cli(run_cli, two, "destroy", "-f", cfg, "--yes")
        assert result.exit_code == 0, result.stdout + result.stderr
    assert acrx_leftovers(two) == []


def test_peering_destroy_one_keeps_the_others_return_route(run_cli, two):
    one_cfg, two_cfg = two.single_config(0, "peering"), two.single_config(1, "peering")
    first, second = two.seeded.clusters
    for cfg in (one_cfg, two_cfg):
        result = _cli(run_cli, two, "setup", "-f", cfg, "--yes")
        assert result.exit_code == 0, result.stdout + result.stderr
    said = membership.parse(two.marks()[f"acrx-pull-{second.cluster_id}"], "?")
    assert said.network == "peering" and said.routes and not said.acl

    dry = _cli(run_cli, two, "destroy", "-f", one_cfg, "--dry-run", "-o", "json")
    changes = json.loads(dry.stdout)["data"]["changes"]
    b_routes = [c for c in changes if c["address"].startswith("vpc.route.") and c["account"] == "registry"]
    kept = [c for c in b_routes if c["action"] == "no-op"]
    assert kept and all(c["reason"].startswith(f"kept: still used by {second.cluster_id}") for c in kept)
    assert {c["before"]["destination"] for c in kept} == set(said.routes)
    assert all(c["action"] == "delete" for c in b_routes if c not in kept)

    assert _cli(run_cli, two, "destroy", "-f", one_cfg, "--yes").exit_code == 0
    verify = _cli(run_cli, two, "verify", "-f", two_cfg)
    assert verify.exit_code == 0, verify.stdout + verify.stderr
    assert _cli(run_cli, two, "destroy", "-f", two_cfg, "--yes").exit_code == 0
    assert acrx_leftovers(two) == []


# -- the mark itself (pure) ----------------------------------------------------------------------
CID = "c" + "0123456789abcdef" * 2


def test_mark_round_trips_and_stays_within_ram_limits():
    uses = membership.Uses(CID, "public", ("203.0.113.5/32", "203.0.113.6/32"), (), True)
    for text, limit in ((membership.role_description(uses), facts.RAM_ROLE_DESCRIPTION_MAX),
                        (membership.user_comments(uses), facts.RAM_USER_COMMENTS_MAX)):
        assert len(text) <= limit and text.startswith(facts.MARK_TEXT_PREFIX)
        assert membership.parse(text, "x") == uses


def test_mark_past_the_limit_claims_every_entry_of_that_kind():
    """A user's Comments (128 characters) holds about four egress IPs; past that the list is
    written as `*`, and that member then counts as a user of every ACL entry (the stricter reading)."""
    ips = tuple(f"198.51.100.{i}/32" for i in range(10, 20))
    uses = membership.Uses(CID, "public", ips, ())
    text = membership.user_comments(uses)
    assert len(text) <= facts.RAM_USER_COMMENTS_MAX and " a=* " in text
    back = membership.parse(text, "x")
    assert back.acl is None and back.uses_acl("192.0.2.1/32") and back.uses_public()
    assert not back.uses_route("10.0.0.0/24")
    assert membership.parse(membership.role_description(uses), "x").acl == ips   # a role's 1024 hold them


def test_older_marks_are_members_of_unknown_needs():
    older = membership.parse(f"acrx: pulls images for cluster {CID} (access-key mode)", "u")
    assert older is not None and older.cluster == CID and not older.known
    assert older.uses_acl("192.0.2.1/32") and older.uses_route("10.0.0.0/8") and older.uses_public()
    assert membership.parse("made by hand", "r") is None
    assert membership.parse("acrx: something else acrx wrote", "r") is None


def test_fleet_destroy_of_one_reads_no_other_cluster_account(run_cli, tmp_path, monkeypatch):
    """`acrx fleet destroy --cluster X` learns who still uses a shared resource from the marks in
    the registry account: no call goes to another cluster's account, the plan names the cluster
    each kept thing stays for, and the others still verify."""
    monkeypatch.setenv("ACRX_STATE_DIR", str(tmp_path / "state"))
    sandbox = FleetSandbox(clusters=3, accounts=3, rate_limits=False).start()
    try:
        sandbox.write_state(tmp_path / "sb")
        w = _World(sandbox, tmp_path / "sb")
        config = w.dir / "acrx.yaml"
        result = run_cli("--sandbox", w.dir, "fleet", "setup", "--yes", "--no-verify", "-f", config)
        assert result.exit_code == 0, result.stdout + result.stderr
        public = [c for c in w.seeded.clusters if c.network == "public"]
        gone, other = public[0], public[1]
        assert gone.account_alias != other.account_alias
        allowed = {w.seeded.account_b, gone.account_uid}

        mark = w.world.calls.mark()
        dry = run_cli("--sandbox", w.dir, "fleet", "destroy", "--cluster", gone.name, "--dry-run", "-f", config)
        assert dry.exit_code == 0, dry.stderr
        assert f"kept on: still used by {other.name}" in dry.stdout
        assert f"kept: still used by {other.name}" in dry.stdout       # the other's ACL entry, the pull policy
        assert f"delete registry/cr.acl.{gone.egress_ip}/32" in dry.stdout
        result = run_cli("--sandbox", w.dir, "fleet", "destroy", "--cluster", gone.name, "--yes", "-f", config)
        assert result.exit_code == 0, result.stdout + result.stderr
        touched = {c.account for c in w.world.calls.since(mark) if c.account}
        assert touched <= allowed, touched - allowed
        assert f"{other.egress_ip}/32" in w.acl() and f"{gone.egress_ip}/32" not in w.acl()

        rest = [a for c in w.seeded.clusters if c is not gone for a in ("--cluster", c.name)]
        verify = run_cli("--sandbox", w.dir, "fleet", "verify", *rest, "-f", config)
        assert verify.exit_code == 0, verify.stdout + verify.stderr
        result = run_cli("--sandbox", w.dir, "fleet", "destroy", "--yes", "-f", config)
        assert result.exit_code == 0, result.stdout + result.stderr
        assert acrx_leftovers(w) == [] and not w.endpoint_on()
    finally:
        sandbox.stop()


def test_access_key_cluster_mark_lives_in_the_users_comments(run_cli, two):
    """access-key mode: the pull user's Comments carry the mark (RAM users take no tags); another
    cluster's destroy keeps what it names; an edited mark is written back with UpdateUser."""
    from alibabacloud_ram20150501 import models

    one_cfg, two_cfg = two.single_config(0, "public"), two.single_config(1, "public", mode="access-key")
    first, second = two.seeded.clusters
    assert _cli(run_cli, two, "setup", "-f", one_cfg, "--yes").exit_code == 0
    result = _cli(run_cli, two, "setup", "-f", two_cfg, "--yes", "--allow-plaintext-access-key")
    assert result.exit_code == 0, result.stdout + result.stderr
    user = f"acrx-pull-{second.cluster_id}"
    sdk = two.ram_sdk()
    comments = sdk.get_user(models.GetUserRequest(user_name=user)).body.user.comments
    said = membership.parse(comments, "?")
    assert len(comments) <= facts.RAM_USER_COMMENTS_MAX
    assert said.cluster == second.cluster_id and said.acl == (f"{second.egress_ip}/32",)

    sdk.update_user(models.UpdateUserRequest(user_name=user, new_comments="acrx: edited by hand"))
    plan = _cli(run_cli, two, "plan", "-f", two_cfg, "-o", "json", "--allow-plaintext-access-key")
    change = next(c for c in json.loads(plan.stdout)["data"]["changes"] if c["address"] == "ram.user.registry")
    assert change["action"] == "update" and "membership mark changes" in change["reason"]
    result = _cli(run_cli, two, "setup", "-f", two_cfg, "--yes", "--allow-plaintext-access-key")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert sdk.get_user(models.GetUserRequest(user_name=user)).body.user.comments == comments

    dry = _cli(run_cli, two, "destroy", "-f", one_cfg, "--dry-run", "-o", "json")
    changes = {c["address"]: c for c in json.loads(dry.stdout)["data"]["changes"]}
    assert changes[f"cr.acl.{second.egress_ip}/32"]["reason"].startswith(f"kept: still used by {second.cluster_id}")
    assert changes[f"cr.acl.{first.egress_ip}/32"]["action"] == "delete"
    for cfg in (one_cfg, two_cfg):
        result = _cli(run_cli, two, "destroy", "-f", cfg, "--yes")
        assert result.exit_code == 0, result.stdout + result.stderr
    assert acrx_leftovers(two) == [] and not two.endpoint_on()
