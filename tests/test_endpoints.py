"""Issue 13 item 2: every region the installed SDKs know resolves, for every product acrx calls, to
a host the official endpoint tables list. Pure: clients are built, no call is made.

The official tables, as the reference notes give them (real-cloud-audit.md #2, §2 and
alibaba-cloud.md §2): RAM lists only `ram.aliyuncs.com` (help.aliyun.com/document_detail/2337625.html);
PrivateZone `pvtz.aliyuncs.com` (the host the Terraform provider pins, endpoint.go:417); STS, CS,
CR and VPC regional `<product>.<region>.aliyuncs.com`; CBN and VpcPeer central.
"""

from __future__ import annotations

import importlib
import inspect
import re

import pytest

from acrx.cloud.credentials import CredentialsFactory
from acrx.cloud.session import SDK_MODULES, CloudSession
from acrx.config.model import AcrxConfig

# Regions the audit reproduced the SDK fallback in (real-cloud-audit.md #2).
AUDIT_REGIONS = ("cn-heyuan", "cn-wulanchabu", "cn-guangzhou", "ap-southeast-6", "ap-southeast-7", "ap-northeast-2")


def official(product: str, region: str) -> set[str]:
    return {
        "ram": {"ram.aliyuncs.com"},
        "pvtz": {"pvtz.aliyuncs.com"},
        "cbn": {"cbn.aliyuncs.com"},
        "vpcpeer": {"vpcpeer.aliyuncs.com"},
    }.get(product, {f"{product}.{region}.aliyuncs.com"})


def sdk_regions() -> set[str]:
    """Every region named in any installed SDK's endpoint map."""
    found: set[str] = set()
    for module in SDK_MODULES.values():
        source = inspect.getsource(importlib.import_module(module + ".client").Client.__init__)
        found |= set(re.findall(r"'([a-z][a-z0-9-]+)': '[a-z0-9.-]+\.aliyuncs\.com'", source))
    return found


ALL_REGIONS = sorted(sdk_regions() | set(AUDIT_REGIONS))


@pytest.fixture(scope="module")
def account():
    env = {"ACRX_T_AK": "LTAIexample", "ACRX_T_SK": "not-a-real-secret"}
    source = {"env": {"access_key_id": "ACRX_T_AK", "access_key_secret": "ACRX_T_SK"}}
    cfg = AcrxConfig.model_validate({
        "accounts": {"cluster": source, "registry": source},
        "cluster": {"account": "cluster", "id": "c" + "0" * 32, "region": "cn-heyuan"},
        "registries": [{"account": "registry", "instance_id": "cri-" + "a" * 16, "region": "cn-heyuan"}]})
    return CloudSession(cfg, None, credentials=CredentialsFactory(cfg, None, environ=env)).account("cluster")


def test_the_sdk_maps_are_read_and_cover_the_audit_regions():
    regions = sdk_regions()
    assert len(regions) > 40 and {"cn-hangzhou", "cn-beijing", "ap-southeast-1"} <= regions


def test_the_sdks_own_rule_sends_ram_and_pvtz_to_unlisted_hosts():
    """Why acrx pins: the bare SDK client picks `ram.<region>` where the official table has none."""
    from alibabacloud_tea_openapi import models as open_api_models

    for product, module in (("ram", SDK_MODULES["ram"]), ("pvtz", SDK_MODULES["pvtz"])):
        client = importlib.import_module(module + ".client").Client(
            open_api_models.Config(region_id="cn-heyuan", access_key_id="x", access_key_secret="y"))
        assert client._endpoint == f"{product}.cn-heyuan.aliyuncs.com"
        assert client._endpoint not in official(product, "cn-heyuan")


@pytest.mark.parametrize("product", sorted(SDK_MODULES))
def test_every_known_region_resolves_to_an_official_host(account, product):
    wrong = {}
    for region in ALL_REGIONS:
        host = account.client(product, region)._endpoint
        if host not in official(product, region):
            wrong[region] = host
    assert not wrong, f"{product}: {wrong}"
