"""Issue 13 items 3 and 4: kubelets before 1.30 (the Pulled event without the image size) and
the Pro tiers / Basic clusters for the managed addon. Scenarios `k8s-1.28`, `old-k8s`, `pro-xl`."""

from __future__ import annotations

import json
import re

import pytest

from acrx import facts
from acrx.kube.workloads import PULLED_RE
from tests.sandbox_fixture import running_sandbox
from tests.test_verify_sandbox import setup_everything, verify

pytestmark = pytest.mark.timeout(240)

# The three forms, as kubelet copies of each era print them (real-cloud-audit #11).
FORMS = {
    "1.30": ('Successfully pulled image "r/ns/nginx:v1" in 1.2s (1.3s including waiting). '
             'Image size: 123 bytes.', 123),
    "1.28": ('Successfully pulled image "r/ns/nginx:v1" in 1.2s (1.3s including waiting)', None),
    "1.21": ('Successfully pulled image "r/ns/nginx:v1" in 1.234567891s', None),
}
SIZE_LINE = re.compile(r"\. Image size: \d+ bytes\.$")


@pytest.fixture(autouse=True)
def _state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ACRX_STATE_DIR", str(tmp_path / "state"))


@pytest.mark.parametrize("era", sorted(FORMS))
def test_every_pulled_form_is_a_pull(era):
    text, size = FORMS[era]
    match = PULLED_RE.match(text)
    assert match and match.group("image") == "r/ns/nginx:v1"
    assert (int(match.group("size")) if match.group("size") else None) == size


def test_a_different_text_is_not_a_pull():
    assert not PULLED_RE.match('Successfully pulled image "r/ns/nginx:v1" in 1.2s and more')


@pytest.mark.parametrize("scenario, mode, sized", [
    ("k8s-1.28", "rrsa", False),
    ("old-k8s", "worker-role", False),       # 1.21: RRSA needs 1.22+, so worker-role and access-key
    ("old-k8s", "access-key", False),
    ("default", "rrsa", True),
])
def test_verify_passes_and_prints_the_line_the_kubelet_wrote(tmp_path, run_cli, scenario, mode, sized):
    with running_sandbox(tmp_path, scenario=scenario, mode=mode) as sb:
        extra = ("--allow-plaintext-access-key",) if mode == "access-key" else ()
        if mode == "access-key":
            setup = run_cli("--sandbox", sb.dir, "setup", "-f", sb.config_path, "--yes", *extra)
            assert setup.exit_code == 0, setup.stdout + setup.stderr
        else:
            setup_everything(sb, run_cli, mode=mode, network="peering")
        result = verify(run_cli, sb, "-o", "json")
        assert result.exit_code == 0, result.stdout + result.stderr
        pulled = json.loads(result.stdout)["data"]["pulled"]
        image = f"{sb.seeded.domain_vpc}/{sb.seeded.image_repo}:{sb.seeded.image_tag}"
        assert pulled.startswith(f'Successfully pulled image "{image}" in ')
        assert bool(SIZE_LINE.search(pulled)) is sized
        assert ("including waiting" in pulled) is (scenario != "old-k8s")


def test_pro_xl_is_pro_and_the_sandbox_serves_the_managed_addon(tmp_path):
    assert {facts.cluster_kind("ManagedKubernetes", "Default", spec) for spec in facts.PRO_SPECS} == {"pro"}
    with running_sandbox(tmp_path, scenario="pro-xl") as sb:
        cs = sb.client("alibabacloud_cs20151215")
        from alibabacloud_cs20151215 import models as m

        assert cs.describe_cluster_detail(sb.seeded.cluster_id).body.cluster_spec == "ack.pro.xlarge"
        addon = cs.describe_addon(facts.MANAGED_ADDON, m.DescribeAddonRequest(cluster_id=sb.seeded.cluster_id))
        assert addon.body.name == facts.MANAGED_ADDON


@pytest.mark.parametrize("scenario", ["pro-xl", "basic"])
def test_setup_rrsa_with_the_managed_addon(tmp_path, run_cli, scenario):
    with running_sandbox(tmp_path, scenario=scenario, mode="rrsa") as sb:
        sb.write_config(mode="rrsa", network="peering", addon={"flavour": "managed"})
        result = run_cli("--sandbox", sb.dir, "setup", "-f", sb.config_path, "--yes")
        assert result.exit_code == 0, result.stdout + result.stderr
        assert facts.MANAGED_ADDON in sb.sandbox.world.backends("cs")[0].clusters[sb.seeded.cluster_id].addons
