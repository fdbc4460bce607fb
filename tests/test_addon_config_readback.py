"""Issue 13 item 8: the addon config read back honestly, both ways.

The cloud (through the official SDKs, sandbox knobs `addon-defaults` and `addon-schema-flat`): an
addon may read back with the schema's defaults and keys of its own, and config_schema may come
in a shape that is not a JSON schema. acrx (through the CLI): drift is "what acrx sets ⊆ what the
cluster reports", so the cloud's defaults and extra keys are neither drift nor an apply error,
while a changed or lingering key of acrx's still is; a schema of an unknown shape stops the plan,
naming its keys, before any write.
"""

from __future__ import annotations

import json

import pytest
from alibabacloud_cs20151215 import models as cs_models

from acrx import facts
from acrx.errors import PreflightError
from acrx.steps.addon import readback
from acrx.steps.addon.schema import SchemaMismatch, check_shape, conform
from tests.sandbox_fixture import running_sandbox

pytestmark = pytest.mark.timeout(300)

ADDON = f"cs.addon.{facts.MANAGED_ADDON}"


@pytest.fixture(autouse=True)
def _state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ACRX_STATE_DIR", str(tmp_path / "state"))


def _cli(run_cli, sb, command: str, *extra):
    return run_cli("--sandbox", sb.dir, *command.split(), "-f", sb.config_path, *extra)


def _changes(stdout: str) -> dict[str, dict]:
    envelope = json.loads(stdout)
    return {c["address"]: c for c in envelope.get("data", envelope)["changes"]}


def _cs(sb):
    return sb.client("alibabacloud_cs20151215")


def _live_config(sb, name: str = facts.MANAGED_ADDON) -> dict:
    return json.loads(_cs(sb).get_cluster_addon_instance(sb.seeded.cluster_id, name).body.config)


# -- the cloud, through the official SDKs -----------------------------------------------------------
def test_the_sandbox_addon_can_echo_defaults_and_keys_of_its_own(tmp_path):
    with running_sandbox(tmp_path, scenario="addon-defaults") as sb:
        schema = json.loads(_cs(sb).describe_addon(facts.MANAGED_ADDON, cs_models.DescribeAddonRequest(
            cluster_id=sb.seeded.cluster_id)).body.config_schema)
        assert schema["properties"]["enableWebhook"] == {"type": "boolean", "default": False}
        sent = {"AcrInstanceInfo": [{"instanceId": sb.seeded.instance_id}], "enableRRSA": False}
        body = [cs_models.InstallClusterAddonsRequestBody(name=facts.MANAGED_ADDON, config=json.dumps(sent))]
        _cs(sb).install_cluster_addons(sb.seeded.cluster_id, cs_models.InstallClusterAddonsRequest(body=body))
        live = _live_config(sb)
        assert {k: live[k] for k in sent} == sent
        assert live["enableWebhook"] is False and live["webhookFailurePolicy"] == "Ignore"   # the cloud's own
        assert live["watchNamespace"] == "default" and live["expiringThreshold"] == "15m"   # schema defaults


def test_the_default_sandbox_reads_back_exactly_what_was_sent(tmp_path):
    with running_sandbox(tmp_path) as sb:
        text = json.dumps({"tokenMode": "workerRole"})
        body = [cs_models.InstallClusterAddonsRequestBody(name=facts.SELF_MANAGED_ADDON, config=text)]
        _cs(sb).install_cluster_addons(sb.seeded.cluster_id, cs_models.InstallClusterAddonsRequest(body=body))
        assert _cs(sb).get_cluster_addon_instance(sb.seeded.cluster_id, facts.SELF_MANAGED_ADDON).body.config == text


def test_a_flat_schema_is_not_a_json_schema(tmp_path):
    with running_sandbox(tmp_path, scenario="addon-schema-flat") as sb:
        schema = json.loads(_cs(sb).describe_addon(facts.MANAGED_ADDON, cs_models.DescribeAddonRequest(
            cluster_id=sb.seeded.cluster_id)).body.config_schema)
        assert "properties" not in schema and "AcrInstanceInfo" in schema


# -- acrx, through the CLI -----------------------------------------------------------------------------
@pytest.mark.parametrize("mode, flavour, name", [
    ("rrsa", "managed", facts.MANAGED_ADDON),
    ("worker-role", "self-managed", facts.SELF_MANAGED_ADDON),
])
def test_defaults_and_extra_keys_are_not_drift(tmp_path, run_cli, mode, flavour, name):
    with running_sandbox(tmp_path, scenario="addon-defaults", mode=mode) as sb:
        sb.write_config(mode=mode, network="peering", addon={"flavour": flavour})
        result = _cli(run_cli, sb, "setup", "--yes")
        assert result.exit_code == 0, result.stdout + result.stderr   # the apply's own read-back passed
        live = _live_config(sb, name)
        extra = set(readback.ACRX_KEYS[name]) ^ set(live)
        assert extra, "the cloud added keys of its own"
        again = _cli(run_cli, sb, "plan", "-o", "json", "--detailed-exitcode")
        assert again.exit_code == 0, again.stdout + again.stderr
        assert _changes(again.stdout)[f"cs.addon.{name}"]["action"] == "no-op"


def test_a_key_acrx_sets_still_drifts_and_one_it_stopped_setting_is_cleared(tmp_path, run_cli):
    with running_sandbox(tmp_path, scenario="addon-defaults", mode="rrsa") as sb:
        sb.write_config(mode="rrsa", network="peering", addon={"flavour": "managed"})
        assert _cli(run_cli, sb, "setup", "--yes").exit_code == 0
        live = _live_config(sb)
        edited = dict(live, watchNamespace="elsewhere", notifyEmail="someone@example.com")
        _cs(sb).modify_cluster_addon(sb.seeded.cluster_id, facts.MANAGED_ADDON,
                                     cs_models.ModifyClusterAddonRequest(config=json.dumps(edited)))
        change = _changes(_cli(run_cli, sb, "plan", "-o", "json").stdout)[ADDON]
        assert change["action"] == "update"
        assert "watchNamespace" in change["reason"] and "notifyEmail" in change["reason"]
        assert "enableWebhook" not in change["reason"] and "webhookFailurePolicy" not in change["reason"]
        assert _cli(run_cli, sb, "addon install", "--yes").exit_code == 0
        mended = _live_config(sb)
        assert mended["watchNamespace"] == live["watchNamespace"] and not mended.get("notifyEmail")


def test_a_schema_of_unknown_shape_stops_the_plan_naming_its_keys(tmp_path, run_cli):
    with running_sandbox(tmp_path, scenario="addon-schema-flat", mode="rrsa") as sb:
        sb.write_config(mode="rrsa", network="peering", addon={"flavour": "managed"})
        mark = sb.mark()
        result = _cli(run_cli, sb, "plan")
        assert result.exit_code == 2, result.stdout + result.stderr
        message = result.stderr
        assert "not a JSON schema with `properties`" in message
        for key in ("AcrInstanceInfo", "enableRRSA", "watchNamespace", "serviceAccount", "expiringThreshold"):
            assert key in message
        assert not sb.writes_since(mark)


# -- the pure parts: data in, verdict out ------------------------------------------------------------
@pytest.mark.parametrize("desired, live, drift", [
    ({"a": 1}, {"a": 1, "cloud": "x"}, []),                           # the cloud's own key
    ({"a": [{"id": "i", "r": "x"}]}, {"a": [{"id": "i", "r": "x", "d": 3600}]}, []),   # a default inside an entry
    ({"a": [{"id": "i"}]}, {"a": [{"id": "i"}, {"id": "j"}]}, ["a"]),   # an entry acrx did not write
    ({"a": True}, {"a": 1}, ["a"]),                                   # a boolean is not a number
    ({"a": 3600}, {"a": 3600.0}, []),                                 # numbers compare as numbers
    ({"a": "1"}, {"a": 1}, ["a"]),
    ({"a": 1}, {}, ["a"]),
])
def test_what_acrx_sets_must_be_within_what_the_cluster_reports(desired, live, drift):
    assert readback.drift("some-addon", desired, live) == drift


def test_a_key_acrx_writes_but_not_now_drifts_unless_empty_or_the_default():
    schema = {"type": "object", "properties": {facts.MA_WATCH_NAMESPACE: {"type": "string", "default": "default"}}}
    name = facts.MANAGED_ADDON
    assert readback.drift(name, {}, {facts.MA_NOTIFY_EMAIL: ""}, schema) == []
    assert readback.drift(name, {}, {facts.MA_WATCH_NAMESPACE: "default"}, schema) == []
    assert readback.drift(name, {}, {facts.MA_WATCH_NAMESPACE: "apps"}, schema) == [facts.MA_WATCH_NAMESPACE]
    assert readback.drift(name, {}, {facts.MA_NOTIFY_EMAIL: "a@b.c"}, schema) == [facts.MA_NOTIFY_EMAIL]


def test_schema_shapes_and_a_missing_key_name_what_the_schema_has():
    assert check_shape("x", {}, ["k"]) is False                      # no schema: sent unchecked (warned)
    assert check_shape("x", {"type": "object", "properties": {"k": {}}}, ["k"]) is True
    for odd in ({"k": {"type": "string"}}, {"type": "object", "properties": []}, ["k"]):
        with pytest.raises(PreflightError) as caught:
            check_shape("x", odd, ["k"])
        assert "not a JSON schema" in str(caught.value)
    with pytest.raises(SchemaMismatch) as caught:
        conform("x", {"k": 1, "lost": 2}, {"type": "object", "properties": {"k": {}, "other": {}}})
    assert "config key lost does not exist" in str(caught.value) and "its keys here: k, other" in str(caught.value)
