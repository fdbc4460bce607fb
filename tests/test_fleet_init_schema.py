"""Issue 16: `acrx schema` and docs/configuration.md cover `clusters:`; `acrx init --fleet` writes a fleet config."""

import json

import pytest
import yaml

from acrx.config.fleet import ENTRY_KEYS, load_fleet

CLUSTER = "c9123456789abcdef0123456789abcdef"


def test_schema_has_clusters_and_requires_one_of_cluster_or_clusters(run_cli):
    result = run_cli("schema")
    assert result.exit_code == 0, result.stderr
    schema = json.loads(result.stdout)
    assert schema["properties"]["clusters"]["items"] == {"$ref": "#/$defs/FleetCluster"}
    assert "cluster" not in schema["required"] and "registries" in schema["required"]
    assert schema["oneOf"] == [{"required": ["cluster"]}, {"required": ["clusters"]}]
    entry = schema["$defs"]["FleetCluster"]
    # The schema names exactly the keys acrx.config.fleet.expand accepts, and nothing else.
    assert set(entry["properties"]) == ENTRY_KEYS
    assert entry["additionalProperties"] is False and set(entry["required"]) == {"id", "region"}


def test_configuration_doc_describes_fleet_entries():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "configuration.md").read_text()
    assert "## FleetCluster" in text and "| `clusters` |" in text
    for key in ENTRY_KEYS:
        assert f"| `{key}` |" in text.split("## FleetCluster", 1)[1].split("\n## ", 1)[0]


@pytest.mark.parametrize("mode,network", [("rrsa", "peering"), ("worker-role", "cen"), ("access-key", "public")])
def test_init_fleet_writes_a_config_that_loads_as_a_fleet(tmp_path, run_cli, mode, network):
    target = tmp_path / "acrx.yaml"
    result = run_cli("init", "--fleet", "--mode", mode, "--network", network, "-f", target,
                     "--cluster-id", CLUSTER, "--region", "cn-shanghai")
    assert result.exit_code == 0, result.stderr
    text = target.read_text()
    assert "clusters:" in text and "\ncluster:" not in text and "# " in text
    fleet = load_fleet(target)
    assert fleet.is_fleet_file and len(fleet.members) == 2
    assert fleet.members[0].cluster_id == CLUSTER
    assert {m.config.mode for m in fleet.members} == {mode}
    assert {m.config.network.mode for m in fleet.members} == {network}
    assert {m.config.cluster.region for m in fleet.members} == {"cn-shanghai"}
    assert "tags:" not in text            # the selector reads the clusters' tags in ACK (docs/fleet.md)
    listed = run_cli("fleet", "list", "-f", target, "--cluster", "second", "-o", "json")
    assert listed.exit_code == 0, listed.stderr
    assert [c["name"] for c in json.loads(listed.stdout)["data"]["clusters"]] == ["second"]
    # The commented overrides are valid when uncommented.
    uncommented = text.replace("    # mode: worker-role", "    mode: worker-role").replace(
        "    # network: public", "    network: public")
    data = yaml.safe_load(uncommented)
    assert data["clusters"][1]["mode"] == "worker-role"
    target.write_text(uncommented)
    second = load_fleet(target).members[1].config
    assert (second.mode, second.network.mode) == ("worker-role", "public")


def test_init_fleet_refuses_overwrite_and_bad_flags(tmp_path, run_cli):
    target = tmp_path / "acrx.yaml"
    target.write_text("keep\n")
    again = run_cli("init", "--fleet", "-f", target)
    assert again.exit_code == 2 and "--force" in again.stderr and target.read_text() == "keep\n"
    bad = run_cli("init", "--fleet", "--network", "vpn", "-f", tmp_path / "x.yaml")
    assert bad.exit_code == 2 and "--network" in bad.stderr and not (tmp_path / "x.yaml").exists()
