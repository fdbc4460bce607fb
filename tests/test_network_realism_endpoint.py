"""Issue 12, item 5: the ACR internet endpoint is asynchronous.

Sources: GetInstanceEndpoint reports CREATING/RUNNING/DELETING (official ZH doc); Terraform's
provider waits for RUNNING before writing ACL entries, then for each entry to be listed, and
retries SLB_SERVICE_ERROR (terraform-provider-alicloud resource_alicloud_cr_internet_endpoint.go,
resource_alicloud_cr_endpoint_acl_policy.go:92); enabling adds a system 127.0.0.1/32 "default"
entry (resource_alicloud_cr_internet_endpoint.go:121-131).
"""

from __future__ import annotations

import pytest

from tests.sandbox_clients import sdk_client
from tests.sandbox_cloud import api_error
from tests.sandbox_fixture import running_sandbox

pytestmark = pytest.mark.timeout(240)

CR = "alibabacloud_cr20181201"


def _instance(sb):
    s = sb.seeded
    return sb.world.backend("cr", s.account_b, s.region_b).instances[s.instance_id]


def test_the_sandbox_endpoint_is_creating_drops_early_acl_entries_and_adds_the_default(tmp_path):
    from alibabacloud_cr20181201 import models as m

    with running_sandbox(tmp_path, network="public", clock_scale=1.0) as sb:
        iid = sb.seeded.instance_id
        client = sdk_client(CR, sb.sandbox.cloud.endpoint, sb.sandbox.account_key("registry"),
                            region=sb.seeded.region_b)

        def endpoint():
            return client.get_instance_endpoint(m.GetInstanceEndpointRequest(
                instance_id=iid, endpoint_type="internet", module_name="Registry")).body

        def add(cidr):
            return client.create_instance_endpoint_acl_policy(m.CreateInstanceEndpointAclPolicyRequest(
                instance_id=iid, endpoint_type="internet", entry=cidr, comment="test", module_name="Registry")).body

        client.update_instance_endpoint_status(m.UpdateInstanceEndpointStatusRequest(
            instance_id=iid, endpoint_type="internet", enable=True, module_name="Registry"))
        now = endpoint()
        assert now.status == "CREATING"
        assert [(e.entry, e.comment) for e in now.acl_entries] == [("127.0.0.1/32", "default")]
        assert add("203.0.113.7/32").is_success          # answered as done ...
        sb.world.clock.advance(60)
        assert endpoint().status == "RUNNING"
        assert "203.0.113.7/32" not in [e.entry for e in endpoint().acl_entries]   # ... and dropped
        add("203.0.113.7/32")
        assert api_error(lambda: add("203.0.113.8/32")).code == "SLB_SERVICE_ERROR"   # writes too close
        sb.world.clock.advance(5)
        add("203.0.113.8/32")
        assert {"203.0.113.7/32", "203.0.113.8/32", "127.0.0.1/32"} <= {e.entry for e in endpoint().acl_entries}


def test_public_setup_waits_for_running_writes_acl_one_by_one_and_keeps_the_default(tmp_path, run_cli, monkeypatch):
    """With the endpoint CREATING for 1.5 s (clock scale 0.05), an ACL entry written at once would be
    dropped and the pull would time out; acrx waits, confirms each entry, verifies a pull, plans no
    change afterwards (the default entry is no drift), and destroy removes only acrx's entries (the
    default one goes only with the endpoint acrx switched on)."""
    monkeypatch.setenv("ACRX_STATE_DIR", str(tmp_path / "state"))
    with running_sandbox(tmp_path, network="public", clock_scale=0.05) as sb:
        cli = ("--sandbox", sb.dir)
        result = run_cli(*cli, "setup", "-f", sb.config_path, "--yes")
        assert result.exit_code == 0, result.stderr
        acl = dict(_instance(sb).acl)
        assert acl.get("127.0.0.1/32") == "default"
        assert any(c.startswith("acrx") for c in acl.values())
        plan = run_cli(*cli, "plan", "-f", sb.config_path, "--detailed-exitcode")
        assert plan.exit_code == 0, plan.stdout + plan.stderr
        assert "127.0.0.1" not in plan.stdout
        for _ in range(2):
            result = run_cli(*cli, "destroy", "-f", sb.config_path, "--yes")
            assert result.exit_code == 0, result.stderr
        instance = _instance(sb)
        assert not [c for _, c in instance.acl if c.startswith("acrx")]
        # The default entry is never acrx's while the endpoint is on; destroy removes it only together
        # with switching off an endpoint acrx switched on (acrx.steps.network.destroy_handlers).
        assert ("127.0.0.1/32", "default") in instance.acl if instance.internet_enabled else instance.acl == []
