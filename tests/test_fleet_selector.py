"""Issue 16: --cluster-selector on the clusters' tags in ACK, found with DescribeClustersV1 in the
accounts the config names. The sandbox answers DescribeClustersV1 and TagResources in the SDK's
wire shape; the fleet scenario seeds the tags (env prod/staging, team) and its config holds none.

The fleet: 6 clusters in 2 accounts; cluster i is in account cluster-(i % 2 + 1), in cn-hangzhou
unless i % 3 == 2 (cn-shanghai), tagged env=prod when i is even (else staging) and team
payments/search/platform in turn."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from acrx.sandbox.fleet import FleetSandbox, cluster_tags

pytestmark = pytest.mark.timeout(600)
CS = "alibabacloud_cs20151215"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    sandbox = FleetSandbox(clusters=6, accounts=2).start()
    directory = tmp_path_factory.mktemp("fleet-selector") / "sandbox"
    try:
        sandbox.write_state(directory)
        yield sandbox, directory
    finally:
        sandbox.stop()


@pytest.fixture
def world_tags(fleet):
    """Each test starts from the seeded tags (tests below change some through the SDK)."""
    sandbox, _ = fleet
    yield
    for i, fc in enumerate(sandbox.seeded.clusters):
        _cluster(sandbox, fc.cluster_id).tags = cluster_tags(i)


def _cluster(sandbox, cluster_id):
    from acrx.sandbox.services.cs.models import find_cluster

    return find_cluster(sandbox.world, cluster_id)


def _cs(sandbox, alias: str):
    from tests.sandbox_clients import sdk_client

    return sdk_client(CS, sandbox.cloud.endpoint, sandbox.account_key(alias))


def _ids(sandbox, *indexes) -> list[str]:
    return [sandbox.seeded.clusters[i].cluster_id for i in indexes]


def _tag(sandbox, i: int, **tags) -> None:
    """Change cluster i's tags through the CS SDK (TagResources), as a person would after the
    config was written."""
    from alibabacloud_cs20151215 import models as m

    fc = sandbox.seeded.clusters[i]
    _cs(sandbox, fc.account_alias).tag_resources(m.TagResourcesRequest(
        region_id=fc.region, resource_type="CLUSTER", resource_ids=[fc.cluster_id],
        tags=[m.Tag(key=k, value=v) for k, v in tags.items()]))


def _list(run_cli, fleet, *flags):
    sandbox, directory = fleet
    return run_cli("--sandbox", directory, "fleet", "list", "-f", directory / "acrx.yaml", *flags)


def _listed(run_cli, fleet, *flags) -> list[str]:
    result = _list(run_cli, fleet, "-o", "json", *flags)
    assert result.exit_code == 0, result.stderr
    return [row["cluster"] for row in json.loads(result.stdout)["data"]["clusters"]]


def _list_calls(sandbox, mark) -> int:
    return sum(1 for c in sandbox.world.calls.since(mark) if c.action == "DescribeClustersV1")


# -- the sandbox's wire shape ------------------------------------------------------------------
def test_describe_clusters_v1_pages_with_tags_per_account_and_region(fleet, world_tags):
    from alibabacloud_cs20151215 import models as m

    sandbox, _ = fleet
    cs = _cs(sandbox, "cluster-1")            # clusters 0, 2, 4: 0 and 4 in cn-hangzhou
    first = cs.describe_clusters_v1(m.DescribeClustersV1Request(region_id="cn-hangzhou", page_size=1)).body
    assert (first.page_info.page_number, first.page_info.page_size, first.page_info.total_count) == (1, 1, 2)
    second = cs.describe_clusters_v1(m.DescribeClustersV1Request(region_id="cn-hangzhou", page_size=1,
                                                                 page_number=2)).body
    assert [c.cluster_id for c in first.clusters + second.clusters] == _ids(sandbox, 0, 4)
    tags = first.clusters[0].tags                # the SDK's Tag model, not a map
    assert isinstance(tags[0], m.Tag) and {t.key: t.value for t in tags} == {"env": "prod", "team": "payments"}
    everywhere = cs.describe_clusters_v1(m.DescribeClustersV1Request()).body   # region_id is a filter
    assert sorted(c.cluster_id for c in everywhere.clusters) == sorted(_ids(sandbox, 0, 2, 4))
    other = _cs(sandbox, "cluster-2").describe_clusters_v1(m.DescribeClustersV1Request()).body
    assert sorted(c.cluster_id for c in other.clusters) == sorted(_ids(sandbox, 1, 3, 5))   # own clusters only
    with pytest.raises(Exception) as err:
        cs.describe_clusters_v1(m.DescribeClustersV1Request(page_size=101))
    assert "page_size" in str(err.value)


def test_tag_resources_changes_what_both_reads_answer(fleet, world_tags):
    from alibabacloud_cs20151215 import models as m

    sandbox, _ = fleet
    _tag(sandbox, 0, env="canary", owner="sre")
    cid = sandbox.seeded.clusters[0].cluster_id
    cs = _cs(sandbox, "cluster-1")
    detail = cs.describe_cluster_detail(cid).body
    assert {t.key: t.value for t in detail.tags} == {"env": "canary", "team": "payments", "owner": "sre"}
    listed = cs.describe_clusters_v1(m.DescribeClustersV1Request(cluster_id=cid)).body.clusters
    assert [{t.key: t.value for t in c.tags} for c in listed] == [{"env": "canary", "team": "payments", "owner": "sre"}]
    for bad in (dict(resource_type="NODE"), dict(tags=[m.Tag(key="env", value="acs:x")]),
                dict(resource_ids=[sandbox.seeded.clusters[1].cluster_id])):   # another account's cluster
        request = dict(region_id="cn-hangzhou", resource_type="CLUSTER", resource_ids=[cid],
                       tags=[m.Tag(key="env", value="x")]) | bad
        with pytest.raises(Exception):
            cs.tag_resources(m.TagResourcesRequest(**request))
    assert _cluster(sandbox, cid).tags["env"] == "canary"      # refused calls changed nothing


# -- the selector through the CLI --------------------------------------------------------------
def test_selector_matches_live_tags_one_listing_per_account_and_region(run_cli, fleet, world_tags):
    sandbox, directory = fleet
    assert "tags" not in (directory / "acrx.yaml").read_text()   # the scenario's config holds no tags
    mark = sandbox.world.calls.mark()
    assert sorted(_listed(run_cli, fleet, "--cluster-selector", "env=prod")) == sorted(_ids(sandbox, 0, 2, 4))
    assert _list_calls(sandbox, mark) == 4                       # 2 accounts x 2 regions, once each
    both = _listed(run_cli, fleet, "--cluster-selector", "env=staging", "--cluster-selector", "team=search")
    assert both == _ids(sandbox, 1)                              # every selector must hold
    # --cluster first: only the accounts and regions of what is left are listed
    mark = sandbox.world.calls.mark()
    assert _listed(run_cli, fleet, "--cluster", "fleet-003", "--cluster-selector", "team=platform") == _ids(sandbox, 2)
    assert _list_calls(sandbox, mark) == 1


def test_a_tag_changed_after_the_config_was_written_is_honoured(run_cli, fleet, world_tags):
    sandbox, directory = fleet
    before = (directory / "acrx.yaml").read_text()
    assert _listed(run_cli, fleet, "--cluster-selector", "env=prod", "--cluster-selector", "team=search") == \
        _ids(sandbox, 4)
    _tag(sandbox, 1, env="prod")                                 # cluster 1 was staging
    assert _listed(run_cli, fleet, "--cluster-selector", "env=prod", "--cluster-selector", "team=search") == \
        _ids(sandbox, 1, 4)
    assert (directory / "acrx.yaml").read_text() == before


def test_selector_narrows_fleet_plan(run_cli, fleet, world_tags):
    sandbox, directory = fleet
    _tag(sandbox, 3, ring="canary")
    result = run_cli("--sandbox", directory, "fleet", "plan", "-f", directory / "acrx.yaml",
                     "--cluster-selector", "ring=canary", "-o", "json")
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert sandbox.seeded.clusters[3].cluster_id in text
    assert not [fc.name for i, fc in enumerate(sandbox.seeded.clusters) if i != 3 and fc.cluster_id in text]


def test_no_match_exits_2_naming_the_selector(run_cli, fleet, world_tags):
    result = _list(run_cli, fleet, "--cluster-selector", "env=nowhere")
    assert result.exit_code == 2, result.stdout + result.stderr
    assert "--cluster-selector" in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_a_cluster_the_listing_does_not_hold_is_named_not_fatal(run_cli, fleet, world_tags, tmp_path):
    sandbox, directory = fleet
    config = yaml.safe_load((directory / "acrx.yaml").read_text())
    config["clusters"][1]["account"] = "cluster-1"               # cluster 1 lives in cluster-2
    path = tmp_path / "moved.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    result = run_cli("--sandbox", directory, "fleet", "list", "-f", path, "--cluster-selector", "team=search",
                     "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert [r["cluster"] for r in json.loads(result.stdout)["data"]["clusters"]] == _ids(sandbox, 4)
    warnings = [line for line in result.stderr.splitlines() if "fleet-002" in line]
    assert len(warnings) == 1 and "not in DescribeClustersV1 of account cluster-1" in warnings[0]


def test_list_says_where_tags_come_from_and_stays_offline_without_asking(run_cli, fleet, world_tags):
    sandbox, _ = fleet
    mark = sandbox.world.calls.mark()
    offline = json.loads(_list(run_cli, fleet, "-o", "json").stdout)["data"]["clusters"]
    assert _list_calls(sandbox, mark) == 0
    assert {(r["tags"], r["tags_source"]) for r in offline} == {(None, None)}
    live = json.loads(_list(run_cli, fleet, "--tags", "-o", "json").stdout)["data"]["clusters"]
    assert [r["tags"] for r in live] == [cluster_tags(i) for i in range(6)]
    assert {r["tags_source"] for r in live} == {"ack:DescribeClustersV1"}
    table = _list(run_cli, fleet, "--tags")
    assert table.exit_code == 0, table.stderr
    header, first = table.stdout.splitlines()[:2]
    assert "TAGS (ACK)" in header and "env=prod,team=payments" in first


def test_config_tags_are_refused_with_the_fix(run_cli, fleet, tmp_path):
    _, directory = fleet
    config = yaml.safe_load((directory / "acrx.yaml").read_text())
    config["clusters"][0]["tags"] = {"env": "prod"}
    path = Path(tmp_path / "tagged.yaml")
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    result = run_cli("--sandbox", directory, "fleet", "list", "-f", path)
    assert result.exit_code == 2
    assert "clusters[0].tags" in result.stderr and "tag the cluster in ACK" in result.stderr


def test_the_list_is_authorised_as_cs_get_clusters(fleet, world_tags):
    """The API reference names cs:GetClusters for DescribeClustersV1; a policy naming the API is not enough."""
    from alibabacloud_cs20151215 import models as m
    from alibabacloud_ram20150501 import models as ram_m

    from tests.sandbox_clients import sdk_client

    sandbox, _ = fleet
    ram = sdk_client("alibabacloud_ram20150501", sandbox.cloud.endpoint, sandbox.account_key("cluster-2"))
    statement = lambda action: json.dumps({"Version": "1", "Statement": [  # noqa: E731
        {"Effect": "Allow", "Action": [action], "Resource": ["*"]}]})
    keys = {}
    for action in ("cs:DescribeClustersV1", "cs:GetClusters"):
        user = "lister-" + action.split(":")[1].lower()
        ram.create_user(ram_m.CreateUserRequest(user_name=user))
        ram.create_policy(ram_m.CreatePolicyRequest(policy_name=user, policy_document=statement(action)))
        ram.attach_policy_to_user(ram_m.AttachPolicyToUserRequest(policy_type="Custom", policy_name=user,
                                                                  user_name=user))
        key = ram.create_access_key(ram_m.CreateAccessKeyRequest(user_name=user)).body.access_key
        keys[action] = sdk_client(CS, sandbox.cloud.endpoint, (key.access_key_id, key.access_key_secret))
    with pytest.raises(Exception) as err:
        keys["cs:DescribeClustersV1"].describe_clusters_v1(m.DescribeClustersV1Request())
    assert "cs:GetClusters" in str(err.value)
    rows = keys["cs:GetClusters"].describe_clusters_v1(m.DescribeClustersV1Request()).body.clusters
    assert sorted(c.cluster_id for c in rows) == sorted(_ids(sandbox, 1, 3, 5))


def test_a_listing_refused_by_ram_is_one_error_line(run_cli, fleet, world_tags, tmp_path, monkeypatch):
    from alibabacloud_ram20150501 import models as ram_m

    from tests.sandbox_clients import sdk_client

    sandbox, directory = fleet
    ram = sdk_client("alibabacloud_ram20150501", sandbox.cloud.endpoint, sandbox.account_key("cluster-2"))
    ram.create_user(ram_m.CreateUserRequest(user_name="no-cs"))
    key = ram.create_access_key(ram_m.CreateAccessKeyRequest(user_name="no-cs")).body.access_key
    monkeypatch.setenv("NO_CS_KEY_ID", key.access_key_id)
    monkeypatch.setenv("NO_CS_KEY_SECRET", key.access_key_secret)
    config = yaml.safe_load((directory / "acrx.yaml").read_text())
    config["accounts"]["cluster-2"]["env"] = {"access_key_id": "NO_CS_KEY_ID", "access_key_secret": "NO_CS_KEY_SECRET"}
    path = tmp_path / "no-cs.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    result = run_cli("--sandbox", directory, "fleet", "list", "-f", path, "--cluster-selector", "env=prod")
    assert result.exit_code == 1, result.stdout + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "cs:GetClusters" in result.stderr and "Traceback" not in result.stderr
    assert key.access_key_secret not in result.stderr + result.stdout
    assert result.stdout == ""


def test_the_listing_follows_pages_to_the_total(run_cli, fleet, world_tags, monkeypatch):
    import acrx.cloud.cs as cs_adapter

    sandbox, _ = fleet
    monkeypatch.setattr(cs_adapter, "LIST_PAGE_SIZE", 1)      # one cluster a page: every listing pages
    mark = sandbox.world.calls.mark()
    assert sorted(_listed(run_cli, fleet, "--cluster-selector", "env=staging")) == sorted(_ids(sandbox, 1, 3, 5))
    pages = [c for c in sandbox.world.calls.since(mark) if c.action == "DescribeClustersV1"]
    assert len(pages) == 6      # cluster-1: 2 in cn-hangzhou + 1 in cn-shanghai; cluster-2 likewise; no empty page
