"""Issue 16 benchmarks: a no-change fleet plan reads what N clusters share once, not N times.

The registry's roles' and the cluster roles' ownership tags come from one ListRoles listing per
account (its Role model carries Tags) instead of one ListTagResources per role; a policy whose
Description carries acrx's mark has its tags left unread (they cannot change whose it is); the
addon's catalogue entry (DescribeAddon) is read once per kind of cluster; the pull roles'
attachment comes from one ListEntitiesForPolicy of the shared pull policy. The facts stay the
same: a role whose tag someone removed is still "adopted", a pull role someone detached is
attached again, and an operator RAM refuses ListRoles still plans, one role at a time.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from acrx import facts
from acrx.cloud.read_memo import ReadMemo
from acrx.sandbox.fleet import FleetSandbox

pytestmark = pytest.mark.timeout(900)

CLUSTERS, ACCOUNTS = 5, 2


@pytest.fixture(scope="module")
def applied(tmp_path_factory):
    """A fleet set up once for the module (setup is the slow part); each test plans it."""
    import os

    tmp = tmp_path_factory.mktemp("fleet-calls")
    old = os.environ.get("ACRX_STATE_DIR")
    os.environ["ACRX_STATE_DIR"] = str(tmp / "state")
    sandbox = FleetSandbox(clusters=CLUSTERS, accounts=ACCOUNTS).start()
    try:
        directory = tmp / "sandbox"
        sandbox.write_state(directory)
        yield sandbox, directory
    finally:
        sandbox.stop()
        if old is None:
            os.environ.pop("ACRX_STATE_DIR", None)
        else:
            os.environ["ACRX_STATE_DIR"] = old


def _set_up(run_cli, sandbox, directory) -> None:
    if getattr(sandbox, "_calls_test_setup", False):
        return
    setup = run_cli("--sandbox", directory, "fleet", "setup", "--yes", "--no-verify", "-f", directory / "acrx.yaml")
    assert setup.exit_code == 0, setup.stderr
    sandbox._calls_test_setup = True


def _plan(run_cli, sandbox, directory, *extra):
    mark = sandbox.world.calls.mark()
    result = run_cli("--sandbox", directory, "fleet", "plan", "--detailed-exitcode", *extra,
                     "-f", directory / "acrx.yaml")
    return result, sandbox.world.calls.since(mark)


def test_no_change_fleet_plan_reads_tags_and_catalogue_once_per_account_or_kind(applied, run_cli):
    sandbox, directory = applied
    _set_up(run_cli, sandbox, directory)
    result, calls = _plan(run_cli, sandbox, directory)
    assert result.exit_code == 0, result.stdout + result.stderr
    counts = Counter(f"{c.service}:{c.action}" for c in calls)
    # Every role's tags came from the listings; every policy acrx made carries its Description mark.
    assert counts["ram:ListTagResources"] == 0, counts
    listings = Counter(c.account for c in calls if c.action == "ListRoles")
    accounts = {sandbox.seeded.account_b, *(c.account_uid for c in sandbox.seeded.clusters)}
    assert listings == Counter({uid: 1 for uid in accounts}), listings
    # One catalogue read per (region, addon edition), whatever the number of clusters and accounts.
    kinds = {(c.region, "managed" if c.mode == "rrsa" else "other") for c in sandbox.seeded.clusters}
    assert 1 <= counts["cs:DescribeAddon"] <= len(kinds) < CLUSTERS, counts
    # The pull roles' attachment of the shared pull policy: one ListEntitiesForPolicy for them all.
    registry = Counter(c.action for c in calls if c.account == sandbox.seeded.account_b)
    assert registry["ListEntitiesForPolicy"] == 1 and registry["ListPoliciesForRole"] == 0, registry
    # Each cluster's own roles are still read, one GetRole each: nothing per cluster was merged.
    registry_roles = [c for c in calls if c.action == "GetRole" and c.account == sandbox.seeded.account_b]
    assert len(registry_roles) == CLUSTERS


def _pull_role(applied, run_cli, index: int):
    """(sandbox, state dir, the index-th cluster, its pull role in the sandbox's RAM) of the set-up fleet."""
    sandbox, directory = applied
    _set_up(run_cli, sandbox, directory)
    victim = sandbox.seeded.clusters[index]
    ram = sandbox.world.backend("ram", sandbox.seeded.account_b, "global")
    return sandbox, directory, victim, next(r for r in ram.roles.values() if victim.cluster_id in r.name)


def test_a_registry_role_that_lost_its_tag_is_still_adopted_in_a_fleet_plan(applied, run_cli):
    sandbox, directory, victim, role = _pull_role(applied, run_cli, 1)
    saved = dict(role.tags)
    role.tags.pop(facts.MARK_TAG_KEY)
    try:
        result, _ = _plan(run_cli, sandbox, directory, "-o", "json")
        assert result.exit_code == 0, result.stderr
        roles = {address: reason for address, reason in _changes(json.loads(result.stdout))
                 if "/ram.role." in address}
        # That cluster's registry role is adopted (acrx would never delete it), as a one-cluster
        # plan says; every other cluster's roles are still acrx's own.
        assert "adopted" in roles[f"{victim.name}/ram.role.registry"], roles
        assert [a for a, r in roles.items() if "adopted" in r] == [f"{victim.name}/ram.role.registry"], roles
    finally:
        role.tags.update(saved)


def test_a_pull_role_someone_detached_is_planned_for_attaching_again(applied, run_cli):
    sandbox, directory, victim, role = _pull_role(applied, run_cli, 2)
    saved = list(role.attachments)
    role.attachments.clear()
    try:
        result, calls = _plan(run_cli, sandbox, directory, "-o", "json")
        assert result.exit_code == 3, result.stderr   # changes pending
        pending = [a for a, r in _changes(json.loads(result.stdout)) if "not attached" in r]
        assert pending == [f"{victim.name}/ram.policy_attachment.registry_pull"], pending
        # The listing did not name that role, so it alone was read by itself.
        own = [c for c in calls if c.action == "ListPoliciesForRole" and c.account == sandbox.seeded.account_b]
        assert len(own) == 1, own
    finally:
        role.attachments[:] = saved


def _changes(document) -> list[tuple[str, str]]:
    """(address, reason) of every change in the fleet plan's JSON envelope."""
    out = []

    def walk(node):
        if isinstance(node, dict):
            if "address" in node and "action" in node:
                out.append((node["address"], node.get("reason") or ""))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    return out


def test_an_operator_refused_the_listings_still_plans_one_role_at_a_time(applied, run_cli):
    sandbox, directory = applied
    _set_up(run_cli, sandbox, directory)
    for action in ("ListRoles", "ListEntitiesForPolicy"):
        sandbox.world.knobs.scripted_faults[action] = [
            ("NoPermission", f"You are not authorized to do this action. Action: ram:{action}", 403)] * 10
    try:
        result, calls = _plan(run_cli, sandbox, directory)
    finally:
        for action in ("ListRoles", "ListEntitiesForPolicy"):
            sandbox.world.knobs.scripted_faults.pop(action, None)
    assert result.exit_code == 0, result.stdout + result.stderr
    refused = [c for c in calls if c.action in ("ListRoles", "ListEntitiesForPolicy")]
    assert {c.action for c in refused} == {"ListRoles", "ListEntitiesForPolicy"}, refused
    assert all(c.status == 403 for c in refused), refused
    # The tags and the pull roles' attachments were read role by role instead, as before.
    counts = Counter(f"{c.service}:{c.action}" for c in calls)
    assert counts["ram:ListTagResources"] >= CLUSTERS, counts
    pulls = [c for c in calls if c.action == "ListPoliciesForRole" and c.account == sandbox.seeded.account_b]
    assert len(pulls) == CLUSTERS, pulls


def test_the_memo_hands_each_caller_its_own_copy_and_the_reader_its_own_answer():
    memo, made = ReadMemo(), []

    def read():
        made.append({"Routes": [{"Cidr": "10.0.0.0/16", "Next": ("a", "b")}]})
        return made[-1]

    first = memo.read(("vpc", "DescribeRouteEntryList"), read)
    assert first is made[0]   # the reader's own answer, not copied
    first["Routes"].append({"Cidr": "changed"})   # what the reader does to it stays its own
    second = memo.read(("vpc", "DescribeRouteEntryList"), read)
    third = memo.read(("vpc", "DescribeRouteEntryList"), read)
    assert second == third == {"Routes": [{"Cidr": "10.0.0.0/16", "Next": ("a", "b")}]}
    second["Routes"][0]["Cidr"] = "x"
    assert third["Routes"][0]["Cidr"] == "10.0.0.0/16" and len(made) == 1
    # A value pickle cannot take (a function, here) is still copied for each caller.
    memo.read(("odd",), lambda: {"call": lambda: 1, "n": [1]})
    a, b = memo.read(("odd",), lambda: None), memo.read(("odd",), lambda: None)
    a["n"].append(2)
    assert b["n"] == [1]
