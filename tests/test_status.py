"""`acrx status`: what acrx manages for this cluster, read from its marks, through the CLI
against the sandbox: before setup everything is missing, after it every resource is acrx's
(with its account, and the mode and network acrx's cluster record names), adopted things are
told apart, a change behind acrx's back shows as drifted, and status writes nothing."""

from __future__ import annotations

import json

import pytest

from tests.sandbox_fixture import running_sandbox

pytestmark = pytest.mark.timeout(600)


def _status(run_cli, sb, *extra):
    result = run_cli("--sandbox", sb.dir, "status", "-f", sb.config_path, *extra)
    assert result.exit_code == 0, result.stderr
    return result


def _by_address(result) -> dict:
    doc = json.loads(result.stdout)
    assert doc["kind"] == "Status"
    return doc["data"], {r["address"]: r for r in doc["data"]["resources"]}


def test_status_before_and_after_setup(run_cli, tmp_path):
    with running_sandbox(tmp_path, mode="rrsa", network="public") as sb:
        data, before = _by_address(_status(run_cli, sb, "-o", "json"))
        assert data["summary"]["managed"] == 0 and data["summary"]["missing"] > 3
        assert before["ram.role.cluster"]["state"] == "missing" and before["ram.role.cluster"]["owner"] is None
        assert before["ram.role.registry"]["account"] == "registry"

        setup = run_cli("--sandbox", sb.dir, "-q", "setup", "-f", sb.config_path, "--yes", "--no-verify")
        assert setup.exit_code == 0, setup.stderr
        mark = sb.mark()
        data, after = _by_address(_status(run_cli, sb, "-o", "json"))
        text = _status(run_cli, sb).stdout
        assert sb.writes_since(mark) == []                       # read-only
    assert data["summary"]["missing"] == 0 and data["summary"]["drifted"] == 0
    assert data["config"] == {"mode": "rrsa", "network": "public"}
    assert set(data["accounts"]) == {"cluster", "registry"}
    for address, account in (("ram.role.cluster", "cluster"), ("ram.role.registry", "registry"),
                             ("ram.policy.registry_pull", "registry")):
        assert after[address]["owner"] == "acrx" and after[address]["account"] == account, after[address]
    adopted = [r for r in after.values() if r["owner"] == "adopted"]
    assert adopted and all(r["detail"] for r in adopted)         # each says why it is kept
    recorded = [r for r in after.values() if r["applied_for"]]
    assert recorded and all(r["applied_for"] == {"mode": "rrsa", "network": "public"} for r in recorded)
    # The table says the same: one line per resource, the account headings and the summary.
    assert "Account cluster (uid " in text and "Account registry (uid " in text
    assert "  managed  ram.role.cluster" in text
    assert "[applied for rrsa + public]" in text
    assert text.rstrip().splitlines()[-1] == (f"{data['summary']['managed']} managed by acrx, "
                                               f"{data['summary']['adopted']} adopted, 0 missing, 0 drifted")


def test_status_shows_what_changed_behind_acrx(run_cli, tmp_path):
    from alibabacloud_cr20181201 import models as m

    from tests.sandbox_clients import sdk_client

    with running_sandbox(tmp_path, mode="rrsa", network="public") as sb:
        setup = run_cli("--sandbox", sb.dir, "-q", "setup", "-f", sb.config_path, "--yes", "--no-verify")
        assert setup.exit_code == 0, setup.stderr
        _, after = _by_address(_status(run_cli, sb, "-o", "json"))
        acl = next(a for a in after if a.startswith("cr.acl."))
        entry = acl[len("cr.acl."):]
        cr = sdk_client("alibabacloud_cr20181201", sb.sandbox.cloud.endpoint, sb.sandbox.account_key("registry"),
                        region=sb.seeded.region_b)
        cr.delete_instance_endpoint_acl_policy(m.DeleteInstanceEndpointAclPolicyRequest(
            instance_id=sb.seeded.instance_id, endpoint_type="internet", entry=entry, module_name="Registry"))
        data, now = _by_address(_status(run_cli, sb, "-o", "json"))
    assert now[acl]["state"] == "missing"
    assert now[acl]["detail"] == f"the registry's internet endpoint ACL does not admit {entry}"
    assert data["summary"]["missing"] == 1
