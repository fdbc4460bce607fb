"""Issue 12, item 7: a private cross-region pull is refused; public mode across regions works.

Sources: through an EE VPC endpoint, layers are redirected to the registry region's OSS internal
endpoint (official ACR doc on OSS domain routing); the puller needs routes to the registry's auth
and OSS internal ranges (ACR docs on pulls from outside the VPC), which lie in 100.64.0.0/10, and
CreateRouteEntry refuses 100.64.0.0/10 (SDK doc). acrx refuses the private path in preflight
(acrx/steps/network/preflight.py check_same_region); the sandbox's kubelet follows the blob
redirect and fails it across regions (acrx/sandbox/services/network_path.py blob_path).
"""

from __future__ import annotations

import pytest

import tests.test_sandbox_network_path as paths
from acrx.sandbox.services import network_path
from tests.sandbox_fixture import running_sandbox

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(autouse=True)
def _state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ACRX_STATE_DIR", str(tmp_path / "state"))


def test_the_sandbox_endpoint_is_reachable_across_regions_but_the_layers_are_not():
    s = paths._world(b_region=paths.SH)
    _, att_a, att_b = paths._cen(s, peer=True)
    paths._route(s["va"], s["vpc_a"].route_table_id, "10.0.0.0/16", "Attachment", att_a.attachment_id)
    paths._route(s["vb"], s["vpc_b"].route_table_id, "192.168.0.0/16", "Attachment", att_b.attachment_id)
    ok, why = network_path.private_path(s["world"], paths._src(s), paths.ENDPOINT_IP)
    assert ok, why
    ok, why = network_path.blob_path(s["world"], paths.HZ, paths.SH)
    assert not ok and "oss-cn-shanghai-internal.aliyuncs.com" in why and "100.64.0.0/10" in why
    assert network_path.blob_path(s["world"], paths.SH, paths.SH)[0]


@pytest.mark.parametrize("network", ["peering", "cen"])
def test_a_private_cross_region_setup_stops_in_preflight(tmp_path, run_cli, network):
    with running_sandbox(tmp_path, scenario="cross-region", network=network) as sb:
        mark = sb.mark()
        result = run_cli("--sandbox", sb.dir, "setup", "-f", sb.config_path, "--yes")
        assert result.exit_code == 2, result.stderr
        assert "cn-shanghai" in result.stderr and "network mode public" in result.stderr
        assert "replica" in result.stderr
        assert sb.writes_since(mark) == []


def test_public_mode_across_regions_pulls(tmp_path, run_cli):
    with running_sandbox(tmp_path, scenario="cross-region", network="public") as sb:
        result = run_cli("--sandbox", sb.dir, "setup", "-f", sb.config_path, "--yes")
        assert result.exit_code == 0, result.stderr
        for _ in range(2):
            assert run_cli("--sandbox", sb.dir, "destroy", "-f", sb.config_path, "--yes").exit_code == 0
