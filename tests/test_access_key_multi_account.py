"""access-key mode with two registry accounts, each with its own ACR EE instance (issue 11, item 2;
review finding F3): `acrx plan` and `acrx setup` through the CLI against the sandbox.

Each account gets acrx's pull user and its own AccessKey, and each acr-registry-info entry must
carry the key of ITS account: a key of account B cannot get a login for account C's instance.
The proof is the credential helper's Secrets: one per instance, whose login the sandbox registry
accepts for a pull of that instance's image (the token dance over HTTP, as a kubelet does it).
verify pulls the first registry's image only, so the second is proven through its Secret.
"""

from __future__ import annotations

import base64
import json
import time
from urllib.parse import urlsplit

import pytest
import yaml

from acrx import facts
from tests.registry_support import raw_request
from tests.sandbox_fixture import running_sandbox

pytestmark = pytest.mark.timeout(240)

SECOND = "registry2"
NAMESPACE = "team"
# addon.access_key names of this test's own, so no default name or account source can interfere
AK_ID_ENV, AK_SECRET_ENV = "C1_TEST_ADDON_AK_ID", "C1_TEST_ADDON_AK_SECRET"


@pytest.fixture(autouse=True)
def _state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ACRX_STATE_DIR", str(tmp_path / "state"))
    for var in (AK_ID_ENV, AK_SECRET_ENV):
        monkeypatch.delenv(var, raising=False)


def seed_second_registry(sb) -> dict:
    """A third account (alias registry2) holding its own instance with the default images, seeded
    through the sandbox's own seed methods, and its root key added to sandbox.env the way
    `acrx sandbox up` writes the others (no scenario offers a second registry account)."""
    region = sb.seeded.region_b
    account = sb.world.add_account(SECOND, region)
    cr = sb.world.backend("cr", account.uid, region)
    instance = cr.seed_instance("acme2", spec="Enterprise_Standard", status="RUNNING")
    cr.seed_namespace(instance.instance_id, NAMESPACE)
    images = sb.sandbox.images.seed_defaults(instance.instance_id, NAMESPACE)
    for repo in sorted({ref.rpartition(":")[0] for ref in images}):
        cr.seed_repository(instance.instance_id, NAMESPACE, repo.split("/", 1)[1], store=sb.sandbox.images)
    prefix = f"ACRX_SANDBOX_{SECOND.upper()}"
    with open(sb.dir / "sandbox.env", "a") as env:
        env.write(f"export {prefix}_UID={account.uid}\n"
                  f"export {prefix}_ACCESS_KEY_ID={account.root_key.access_key_id}\n"
                  f"export {prefix}_ACCESS_KEY_SECRET={account.root_key.secret}\n")
    sb.write_config(
        mode="access-key", network="peering",
        addon={"access_key": {"access_key_id_env": AK_ID_ENV, "access_key_secret_env": AK_SECRET_ENV}},
        accounts={SECOND: {"uid": account.uid, "env": {"access_key_id": f"{prefix}_ACCESS_KEY_ID",
                                                        "access_key_secret": f"{prefix}_ACCESS_KEY_SECRET"}}},
        registries=[{"account": "registry", "instance_id": sb.seeded.instance_id, "region": region,
                     "instance_name": sb.seeded.instance_name},
                    {"account": SECOND, "instance_id": instance.instance_id, "region": region,
                     "instance_name": "acme2"}])
    return {"uid": account.uid, "instance_id": instance.instance_id, "region": region,
            "domain": f"acme2-registry-vpc.{region}.cr.aliyuncs.com"}


def _cli(run_cli, sb, *args):
    return run_cli("--sandbox", sb.dir, *args, "-f", sb.config_path)


def _changes(stdout: str) -> dict[str, dict]:
    envelope = json.loads(stdout)
    return {c["address"]: c for c in envelope.get("data", envelope)["changes"]}


def _user_keys(sb, alias: str) -> set[str]:
    """AccessKey ids of acrx's pull user in account `alias`, read through the official SDK."""
    from alibabacloud_ram20150501 import models as ram

    user = f"acrx-pull-{sb.seeded.cluster_id}"
    body = sb.client("alibabacloud_ram20150501", alias).list_access_keys(
        ram.ListAccessKeysRequest(user_name=user)).body
    return {k.access_key_id for k in body.access_keys.access_key}


def _registry_info(sb) -> list[dict]:
    cm = sb.sandbox.cluster.store.get("configmaps", facts.CONFIGMAP_NAMESPACE, facts.CONFIGMAP_NAME)
    return yaml.safe_load(cm["data"][facts.CM_REGISTRY_INFO])


def _helper_login(sb, domain: str, timeout_s: float = 120.0) -> tuple[str, str]:
    """(username, password) for `domain` from the helper's dockerconfigjson Secrets in `default`."""
    deadline = time.monotonic() + timeout_s
    while True:
        for secret in sb.sandbox.cluster.store.list("secrets", "default"):
            if secret.get("type") != "kubernetes.io/dockerconfigjson":
                continue
            doc = json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))
            auth = doc.get("auths", {}).get(domain)
            if auth:
                return auth["username"], auth["password"]
        if time.monotonic() > deadline:
            raise AssertionError(f"the credential helper wrote no Secret for {domain}")
        time.sleep(0.2)


def _pulls_manifest(sb, domain: str, login: tuple[str, str]) -> bool:
    """The registry v2 token dance a kubelet does, against the sandbox registry at `domain`."""
    url = sb.sandbox.registry.url
    status, headers, _ = raw_request(url, "GET", "/v2/", host=domain)
    assert status == 401, status
    params = dict(part.split("=", 1) for part in headers["WWW-Authenticate"].split(" ", 1)[1].split(","))
    realm, service = (params[k].strip('"') for k in ("realm", "service"))
    basic = base64.b64encode(":".join(login).encode()).decode()
    status, _, body = raw_request(url, "GET", f"{urlsplit(realm).path}?service={service}"
                                  f"&scope=repository:{NAMESPACE}/nginx:pull",
                                  headers={"Authorization": f"Basic {basic}"})
    if status != 200:
        return False
    token = json.loads(body)["token"]
    accept = "application/vnd.docker.distribution.manifest.v2+json"
    status, _, _ = raw_request(url, "GET", f"/v2/{NAMESPACE}/nginx/manifests/v1", host=domain,
                               headers={"Authorization": f"Bearer {token}", "Accept": accept})
    return status == 200


def test_two_registry_accounts_plan_and_apply_with_a_key_each(tmp_path, run_cli):
    with running_sandbox(tmp_path, mode="access-key", network="peering") as sb:
        second = seed_second_registry(sb)

        result = _cli(run_cli, sb, "plan", "-o", "json", "--allow-plaintext-access-key")
        assert result.exit_code == 0, result.stderr[-3000:]
        planned = _changes(result.stdout)
        for alias in ("registry", SECOND):
            assert planned[f"ram.user.registry.{alias}"]["action"] == "create"
            assert planned[f"ram.access_key.registry.{alias}"]["action"] == "create"
        configmap = planned[f"k8s.configmap.{facts.CONFIGMAP_NAMESPACE}/{facts.CONFIGMAP_NAME}"]
        assert {f"ram.access_key.registry.{alias}" for alias in ("registry", SECOND)} <= set(configmap["depends_on"])

        result = _cli(run_cli, sb, "setup", "--yes", "--allow-plaintext-access-key")
        assert result.exit_code == 0, result.stderr[-3000:]
        assert "Successfully pulled image" in result.stdout + result.stderr   # verify: the first registry

        # Each entry holds a key of acrx's user in its OWN account, and the two keys differ.
        entries = {e["instanceId"]: e for e in _registry_info(sb)}
        first_key = entries[sb.seeded.instance_id]["customAccessKey"]
        second_key = entries[second["instance_id"]]["customAccessKey"]
        assert first_key in _user_keys(sb, "registry")
        assert second_key in _user_keys(sb, SECOND)
        assert first_key != second_key

        # The helper logged in to both instances, and each login pulls from its registry.
        for domain in (sb.seeded.domain_vpc, second["domain"]):
            assert _pulls_manifest(sb, domain, _helper_login(sb, domain)), f"no pull from {domain}"
        # ... and a login for one instance is worth nothing on the other.
        assert not _pulls_manifest(sb, second["domain"], _helper_login(sb, sb.seeded.domain_vpc))

        # Planning again finds each account's key in the live ConfigMap: nothing to do.
        result = _cli(run_cli, sb, "plan", "--detailed-exitcode", "--allow-plaintext-access-key")
        assert result.exit_code == 0, result.stdout[-3000:] + result.stderr[-2000:]

        result = _cli(run_cli, sb, "destroy", "--yes")
        assert result.exit_code == 0, result.stdout[-3000:] + result.stderr[-3000:]
        for alias in ("registry", SECOND):
            users = sb.world.backend("ram", sb.world.account_by_alias(alias).uid, None).users
            assert f"acrx-pull-{sb.seeded.cluster_id}" not in users


def test_offline_render_refuses_one_key_for_two_accounts(tmp_path, run_cli, monkeypatch):
    """`acrx render configmap` knows only the environment's key, which belongs to one account:
    it says so instead of putting that key into the other account's entry."""
    with running_sandbox(tmp_path, mode="access-key", network="peering") as sb:
        seed_second_registry(sb)
        monkeypatch.setenv(AK_ID_ENV, "LTAI-not-used")
        monkeypatch.setenv(AK_SECRET_ENV, "not-used")
        result = run_cli("render", "configmap", "-f", sb.config_path, "--allow-plaintext-access-key")
        assert result.exit_code == 2, result.stdout + result.stderr
        assert "registries" in result.stderr and "one AccessKey per registry account" in result.stderr
        assert result.stdout == ""
