"""Against the real cloud: for each mode and network, `plan`, `setup`, `verify`, `plan` (no
changes: exit 0 with --detailed-exitcode) and `destroy`, every run recorded with `--record`.

Inputs (docs/live-testing.md): ACRX_LIVE=1, ACRX_LIVE_CLUSTER_PROFILE, ACRX_LIVE_REGISTRY_PROFILE
(aliyun CLI profiles of account A and B), ACRX_LIVE_CLUSTER_ID, ACRX_LIVE_INSTANCE_ID; optional
ACRX_LIVE_CLUSTER_REGION (default cn-hangzhou), ACRX_LIVE_INSTANCE_REGION (default: the cluster's),
ACRX_LIVE_IMAGE (the image verify pulls), ACRX_LIVE_MODES / ACRX_LIVE_NETWORKS (comma lists),
ACRX_LIVE_RECORD_DIR (where the recordings go; default the test's tmp dir).
A combination the cluster does not support is refused by acrx's preflight (exit 2) and skipped.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from tests.live.conftest import REQUIRED, live_skip_reason

pytestmark = pytest.mark.timeout(3600)

MODES = tuple(os.environ.get("ACRX_LIVE_MODES", "rrsa,worker-role,access-key").split(","))
NETWORKS = tuple(os.environ.get("ACRX_LIVE_NETWORKS", "public,peering,cen").split(","))
USAGE = 2


def live_config(mode: str, network: str, environ=os.environ) -> dict:
    cluster_region = environ.get("ACRX_LIVE_CLUSTER_REGION", "cn-hangzhou")
    config = {
        "version": 1,
        "mode": mode,
        "accounts": {"cluster": {"profile": environ["ACRX_LIVE_CLUSTER_PROFILE"]},
                     "registry": {"profile": environ["ACRX_LIVE_REGISTRY_PROFILE"]}},
        "cluster": {"account": "cluster", "id": environ["ACRX_LIVE_CLUSTER_ID"], "region": cluster_region},
        "registries": [{"account": "registry", "instance_id": environ["ACRX_LIVE_INSTANCE_ID"],
                        "region": environ.get("ACRX_LIVE_INSTANCE_REGION", cluster_region)}],
        "network": {"mode": network},
    }
    if environ.get("ACRX_LIVE_IMAGE"):
        config["verify"] = {"image": environ["ACRX_LIVE_IMAGE"]}
    return config


@pytest.mark.parametrize("network", NETWORKS)
@pytest.mark.parametrize("mode", MODES)
def test_live_round_trip(tmp_path, run_cli, mode, network):
    config_path = tmp_path / "acrx.yaml"
    config_path.write_text(yaml.safe_dump(live_config(mode, network), sort_keys=False))
    records = Path(os.environ.get("ACRX_LIVE_RECORD_DIR") or tmp_path)
    extra = ("--allow-plaintext-access-key",) if mode == "access-key" else ()

    def acrx(step: str, command: str, *args: str):
        record = records / f"{mode}-{network}-{step}.json"
        return run_cli("--record", record, command, "-f", config_path, *args)

    first = acrx("1-plan", "plan", *extra)
    if first.exit_code == USAGE:
        pytest.skip(f"{mode}/{network} is not supported here: {first.stderr.strip()}")
    assert first.exit_code == 0, first.stderr
    try:
        setup = acrx("2-setup", "setup", "--yes", *extra)
        assert setup.exit_code == 0, setup.stdout + setup.stderr
        verified = acrx("3-verify", "verify")
        assert verified.exit_code == 0, verified.stdout + verified.stderr
        again = acrx("4-plan", "plan", "--detailed-exitcode", *extra)
        assert again.exit_code == 0, again.stdout + again.stderr
    finally:
        gone = acrx("5-destroy", "destroy", "--yes", *extra)
        assert gone.exit_code == 0, gone.stdout + gone.stderr
    for record in sorted(records.glob(f"{mode}-{network}-*.json")):
        assert json.loads(record.read_text())["cloud_calls"], record.name


# -- the suite's own plumbing (runs everywhere, no cloud) -----------------------------------------
@pytest.mark.offline
def test_the_live_suite_is_skipped_without_its_variables():
    assert live_skip_reason({}) is not None
    assert "ACRX_LIVE=1" in live_skip_reason({"ACRX_LIVE": "0"})
    partial = {"ACRX_LIVE": "1", "ACRX_LIVE_CLUSTER_ID": "c" + "0" * 32}
    assert "ACRX_LIVE_CLUSTER_PROFILE" in live_skip_reason(partial)
    full = {"ACRX_LIVE": "1", **{name: "x" for name in REQUIRED}}
    assert live_skip_reason(full) is None


@pytest.mark.offline
def test_live_configs_are_valid_acrx_configs():
    from acrx.config.model import AcrxConfig

    env = {"ACRX_LIVE_CLUSTER_PROFILE": "a", "ACRX_LIVE_REGISTRY_PROFILE": "b",
           "ACRX_LIVE_CLUSTER_ID": "c" + "0" * 32, "ACRX_LIVE_INSTANCE_ID": "cri-" + "a" * 16}
    for mode in ("rrsa", "worker-role", "access-key"):
        for network in ("public", "peering", "cen", "none"):
            AcrxConfig.model_validate(live_config(mode, network, env))
