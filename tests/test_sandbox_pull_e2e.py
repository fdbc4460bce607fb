"""A pod in cluster account A pulls an image from the registry in account B, for real reasons.

Identity and network are set up by hand through the official SDKs over HTTP (tests/sandbox_world);
the sandbox's credential helper and kubelet then do what the component and the node do. Each
broken variant leaves out or gets wrong exactly one thing and must end in ErrImagePull or
ImagePullBackOff with the matching cause.
"""

from __future__ import annotations

import pytest

from acrx.sandbox.app import Sandbox
from sandbox_cloud import wait_for
from sandbox_world import Hand

pytestmark = pytest.mark.timeout(600)   # waits poll up to 120 s each, ending early on success

SELF_MANAGED = "aliyun-acr-credential-helper"
MANAGED = "managed-aliyun-acr-credential-helper"


@pytest.fixture
def hand():
    sandbox = Sandbox(reconcile_interval_s=0.2).start()
    try:
        yield Hand(sandbox)
    finally:
        sandbox.stop()


def store_of(hand):
    return hand.sandbox.clusters[hand.s.cluster_id].store


def runtime_of(hand):
    return hand.sandbox.runtimes[hand.s.cluster_id]


def image(hand, public: bool = False) -> str:
    domain = hand.s.domain_public if public else hand.s.domain_vpc
    return f"{domain}/{hand.s.image_repo}:{hand.s.image_tag}"


def rrsa_entry(hand, role_a: str, role_b: str, rrsa: dict, *, public: bool = False) -> dict:
    return {"instanceId": hand.s.instance_id, "regionId": hand.s.region_b,
            "domains": hand.s.domain_public if public else hand.s.domain_vpc,
            "rrsaRoleARN": role_a, "rrsaOIDCProviderRoleARN": rrsa["oidc_arn"],
            "assumeRoleARN": role_b, "expireDuration": 3600}


def configure_helper(hand, entry: dict, *, rrsa: bool = True) -> None:
    store = store_of(hand)
    wait_for(lambda: _helper_pod(hand), what="the helper pod to run")
    data = hand.acr_configuration(entry, rrsa=rrsa)
    current = store.get("configmaps", "kube-system", "acr-configuration")
    current["data"] = data
    store.update("configmaps", "kube-system", current)


def _helper_pod(hand):
    pods = [p for p in store_of(hand).list("pods", "kube-system", label_selector=f"app={SELF_MANAGED}")
            if (p.get("status") or {}).get("phase") == "Running"]
    return pods[0] if pods else None


def helper_logs(hand) -> str:
    pod = _helper_pod(hand)
    return store_of(hand).read_log("kube-system", pod["metadata"]["name"], SELF_MANAGED) if pod else ""


def deploy_nginx(hand, img: str) -> None:
    store_of(hand).create("deployments", "default", {
        "metadata": {"name": "nginx"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "nginx"}},
                 "template": {"metadata": {"labels": {"app": "nginx"}},
                              "spec": {"containers": [{"name": "nginx", "image": img}]}}}})


def nginx_pod(hand):
    pods = store_of(hand).list("pods", "default", label_selector="app=nginx")
    return pods[0] if pods else None


def pod_events(hand, pod) -> list[str]:
    return [e["message"] for e in store_of(hand).list("events", "default")
            if e["involvedObject"].get("uid") == pod["metadata"]["uid"]]


def waiting_reason(pod) -> str | None:
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        waiting = (status.get("state") or {}).get("waiting")
        if waiting:
            return waiting.get("reason")
    return None


def wait_running(hand):
    def running():
        pod = nginx_pod(hand)
        return pod if pod and pod["status"].get("phase") == "Running" else None
    return wait_for(running, what="nginx to run")


def wait_failed(hand):
    def failed():
        pod = nginx_pod(hand)
        return pod if pod and waiting_reason(pod) in ("ErrImagePull", "ImagePullBackOff") else None
    return wait_for(failed, what="nginx to fail its pull")


def secret_written(hand) -> bool:
    sa = store_of(hand).get("serviceaccounts", "default", "default")
    return any(s["name"].startswith("acr-credential-") for s in sa.get("imagePullSecrets") or [])


def failure_text(hand, pod) -> str:
    return "\n".join(m for m in pod_events(hand, pod) if m.startswith("Failed to pull image"))


def vpc_network(hand, *, routes_there: bool = True, record: bool = True) -> None:
    peering = hand.peer_vpcs()
    hand.peering_routes(peering, there=routes_there)
    hand.private_zone(record=record)


def rrsa_setup(hand, **role_options):
    rrsa = hand.enable_rrsa()
    role_a, role_b = hand.rrsa_roles(rrsa, **role_options)
    hand.install_addon(SELF_MANAGED)
    return rrsa, role_a, role_b


# -- the working path -------------------------------------------------------------------------
def test_rrsa_over_peering_pulls_and_runs(hand):
    rrsa, role_a, role_b = rrsa_setup(hand)
    vpc_network(hand)
    configure_helper(hand, rrsa_entry(hand, role_a, role_b, rrsa))
    wait_for(lambda: secret_written(hand), what="the helper to patch the default SA")
    secret = store_of(hand).list("secrets", "default")[0]
    assert secret["type"] == "kubernetes.io/dockerconfigjson"
    deploy_nginx(hand, image(hand))
    pod = wait_running(hand)
    events = pod_events(hand, pod)
    pulled = [m for m in events if m.startswith("Successfully pulled image")]
    assert pulled and f'"{image(hand)}"' in pulled[0]
    assert f"Image size: {hand.s.image_size} bytes." in pulled[0]
    assert f'Pulling image "{image(hand)}"' in events
    logs = helper_logs(hand)
    assert "refreshed the authorization token" in logs
    assert secret["data"][".dockerconfigjson"] not in logs   # no secret in the logs


def test_public_endpoint_with_the_egress_eip_in_the_acl(hand):
    rrsa, role_a, role_b = rrsa_setup(hand)
    hand.open_internet_endpoint([f"{hand.sandbox.scenario.egress_eip}/32"])
    configure_helper(hand, rrsa_entry(hand, role_a, role_b, rrsa, public=True))
    wait_for(lambda: secret_written(hand), what="the SA patch")
    deploy_nginx(hand, image(hand, public=True))
    pod = wait_running(hand)
    assert any(m.startswith("Successfully pulled image") for m in pod_events(hand, pod))


def test_worker_role_mode(hand):
    role_b = hand.registry_role(f"acs:ram::{hand.s.account_a}:role/{hand.s.worker_role}")
    hand.attach("a", hand.s.worker_role, "AliyunSTSAssumeRoleAccess", "System")
    hand.install_addon(SELF_MANAGED)
    vpc_network(hand)
    configure_helper(hand, {"instanceId": hand.s.instance_id, "regionId": hand.s.region_b,
                            "assumeRoleARN": role_b, "expireDuration": 3600}, rrsa=False)
    wait_for(lambda: secret_written(hand), what="the SA patch")
    # No `domains`: the helper lists the instance's endpoints and covers all of them.
    deploy_nginx(hand, image(hand))
    wait_running(hand)


# -- one thing wrong at a time ------------------------------------------------------------------
def test_wrong_subject_in_the_trust_policy(hand):
    rrsa, role_a, role_b = rrsa_setup(hand, sub="system:serviceaccount:kube-system:default")
    vpc_network(hand)
    configure_helper(hand, rrsa_entry(hand, role_a, role_b, rrsa))
    wait_for(lambda: "AuthenticationFail.NoPermission" in helper_logs(hand), what="the helper's error")
    deploy_nginx(hand, image(hand))
    pod = wait_failed(hand)
    assert "401 Unauthorized" in failure_text(hand, pod)
    assert not secret_written(hand)


def test_missing_pull_policy(hand):
    rrsa, role_a, role_b = rrsa_setup(hand, pull_actions=None)
    vpc_network(hand)
    configure_helper(hand, rrsa_entry(hand, role_a, role_b, rrsa))
    wait_for(lambda: "GetAuthorizationToken" in helper_logs(hand), what="the helper's error")
    deploy_nginx(hand, image(hand))
    pod = wait_failed(hand)
    assert "401 Unauthorized" in failure_text(hand, pod)


def test_token_without_pull_permission_is_denied(hand):
    rrsa, role_a, role_b = rrsa_setup(hand, pull_actions=["cr:GetAuthorizationToken"])
    vpc_network(hand)
    configure_helper(hand, rrsa_entry(hand, role_a, role_b, rrsa))
    wait_for(lambda: secret_written(hand), what="the SA patch")
    deploy_nginx(hand, image(hand))
    pod = wait_failed(hand)
    assert "pull access denied" in failure_text(hand, pod)
    assert "insufficient_scope" in failure_text(hand, pod)


def test_no_route_to_the_endpoint(hand):
    rrsa, role_a, role_b = rrsa_setup(hand)
    vpc_network(hand, routes_there=False)
    configure_helper(hand, rrsa_entry(hand, role_a, role_b, rrsa))
    wait_for(lambda: secret_written(hand), what="the SA patch")
    deploy_nginx(hand, image(hand))
    pod = wait_failed(hand)
    assert f"dial tcp {hand.s.vpc_endpoint_ip}:443: i/o timeout" in failure_text(hand, pod)


def test_no_private_zone_record(hand):
    rrsa, role_a, role_b = rrsa_setup(hand)
    vpc_network(hand, record=False)
    configure_helper(hand, rrsa_entry(hand, role_a, role_b, rrsa))
    wait_for(lambda: secret_written(hand), what="the SA patch")
    deploy_nginx(hand, image(hand))
    pod = wait_failed(hand)
    assert f"lookup {hand.s.domain_vpc} on 100.100.2.136:53: no such host" in failure_text(hand, pod)


def test_acl_without_the_egress_eip(hand):
    rrsa, role_a, role_b = rrsa_setup(hand)
    hand.open_internet_endpoint(["198.51.100.7/32"])
    configure_helper(hand, rrsa_entry(hand, role_a, role_b, rrsa, public=True))
    wait_for(lambda: secret_written(hand), what="the SA patch")
    deploy_nginx(hand, image(hand, public=True))
    pod = wait_failed(hand)
    assert ":443: i/o timeout" in failure_text(hand, pod)


def test_rrsa_enabled_after_the_helper_started_needs_a_pod_restart(hand):
    hand.install_addon(SELF_MANAGED)
    first = wait_for(lambda: _helper_pod(hand), what="the helper pod")
    rrsa = hand.enable_rrsa()
    role_a, role_b = hand.rrsa_roles(rrsa)
    vpc_network(hand)
    configure_helper(hand, rrsa_entry(hand, role_a, role_b, rrsa))
    wait_for(lambda: "no such file or directory" in helper_logs(hand), what="the order-trap error")
    deploy_nginx(hand, image(hand))
    pod = wait_failed(hand)
    assert "401 Unauthorized" in failure_text(hand, pod)
    # The documented fix: delete the helper pod; its Deployment makes one with the OIDC token.
    store_of(hand).delete("pods", "kube-system", first["metadata"]["name"])
    wait_for(lambda: secret_written(hand), what="the SA patch after the restart")
    # Pods take the SA's pull secrets when created: the failing pod is replaced, as a user would.
    store_of(hand).delete("pods", "default", pod["metadata"]["name"])
    running = wait_running(hand)
    assert any(m.startswith("Successfully pulled image") for m in pod_events(hand, running))


def test_a_pull_that_becomes_possible_later_succeeds_on_retry(hand):
    rrsa, role_a, role_b = rrsa_setup(hand)
    peering = hand.peer_vpcs()
    hand.peering_routes(peering, there=False)
    hand.private_zone()
    configure_helper(hand, rrsa_entry(hand, role_a, role_b, rrsa))
    wait_for(lambda: secret_written(hand), what="the SA patch")
    deploy_nginx(hand, image(hand))
    wait_failed(hand)
    hand.peering_routes(peering, back=False)   # the missing route arrives
    pod = wait_running(hand)
    events = pod_events(hand, pod)
    assert any(m == f'Back-off pulling image "{image(hand)}"' for m in events)
    assert any(m.startswith("Successfully pulled image") for m in events)


# -- the managed edition, refresh, and the pieces -------------------------------------------------
def test_managed_edition_runs_without_a_pod(hand):
    rrsa = hand.enable_rrsa()
    role_a, role_b = hand.rrsa_roles(rrsa)
    vpc_network(hand)
    hand.install_addon(MANAGED, {"AcrInstanceInfo": [rrsa_entry(hand, role_a, role_b, rrsa)], "enableRRSA": True,
                                 "watchNamespace": "default", "serviceAccount": "default",
                                 "expiringThreshold": "15m"})
    wait_for(lambda: secret_written(hand), what="the managed helper's SA patch")
    assert store_of(hand).list("deployments", "kube-system") == []   # it runs on the control plane
    deploy_nginx(hand, image(hand))
    wait_running(hand)


def test_credentials_are_refreshed_before_the_threshold(hand):
    rrsa, role_a, role_b = rrsa_setup(hand)
    vpc_network(hand)
    configure_helper(hand, rrsa_entry(hand, role_a, role_b, rrsa))
    wait_for(lambda: secret_written(hand), what="the SA patch")
    store = store_of(hand)
    name = store.get("serviceaccounts", "default", "default")["imagePullSecrets"][0]["name"]
    before = store.get("secrets", "default", name)["data"]
    runtime_of(hand).helper.reconcile_now()
    assert store.get("secrets", "default", name)["data"] == before   # still fresh: kept
    hand.world.clock.advance(3600 - 15 * 60 + 1)                      # inside the 15m threshold
    runtime_of(hand).helper.reconcile_now()
    assert store.get("secrets", "default", name)["data"] != before


def test_image_references_and_durations_read_as_the_runtime_prints_them():
    from acrx.sandbox.kube.kubelet import go_duration
    from acrx.sandbox.kube.registry_client import ImageRef

    assert str(ImageRef.parse("nginx")) == "docker.io/library/nginx:latest"
    assert str(ImageRef.parse("registry.k8s.io/pause:3.9")) == "registry.k8s.io/pause:3.9"
    ref = ImageRef.parse("a-registry-vpc.cn-hangzhou.cr.aliyuncs.com/team/nginx:v1")
    assert (ref.host, ref.repository, ref.reference) == ("a-registry-vpc.cn-hangzhou.cr.aliyuncs.com",
                                                         "team/nginx", "v1")
    assert ImageRef.parse("localhost:5000/x/y@sha256:ab").reference == "sha256:ab"
    assert [go_duration(s) for s in (0.0004, 0.5123, 1.2345, 2.0, 75.5)] == ["0s", "512ms", "1.234s", "2s", "1m15.5s"]


def test_self_managed_workload_follows_the_addon(hand):
    store = store_of(hand)
    assert store.list("deployments", "kube-system") == []
    hand.install_addon(SELF_MANAGED)
    pod = wait_for(lambda: _helper_pod(hand), what="the helper pod")
    assert pod["spec"]["serviceAccountName"] == SELF_MANAGED
    assert store.get("configmaps", "kube-system", "acr-configuration")["data"]["watch-namespace"] == "default"
    events = pod_events_in(hand, "kube-system", pod)
    assert any(m.startswith("Container image ") and m.endswith(" already present on machine") for m in events)
    hand.uninstall_addon(SELF_MANAGED)
    wait_for(lambda: not store.list("deployments", "kube-system"), what="the Deployment to go")
    wait_for(lambda: not store.list("pods", "kube-system", label_selector=f"app={SELF_MANAGED}"),
             what="the helper pod to go")
    assert SELF_MANAGED not in [sa["metadata"]["name"] for sa in store.list("serviceaccounts", "kube-system")]


def pod_events_in(hand, namespace: str, pod) -> list[str]:
    return [e["message"] for e in store_of(hand).list("events", namespace)
            if e["involvedObject"].get("uid") == pod["metadata"]["uid"]]


def test_access_key_mode(hand):
    from alibabacloud_ram20150501 import models as ram

    client = hand.client("alibabacloud_ram20150501", "b")
    client.create_user(ram.CreateUserRequest(user_name="acr-puller"))
    hand.create_policy("b", "acr-pull", ["cr:GetAuthorizationToken", "cr:ListInstanceEndpoint", "cr:PullRepository"])
    client.attach_policy_to_user(ram.AttachPolicyToUserRequest(policy_type="Custom", policy_name="acr-pull",
                                                               user_name="acr-puller"))
    key = client.create_access_key(ram.CreateAccessKeyRequest(user_name="acr-puller")).body.access_key
    hand.install_addon(SELF_MANAGED)
    vpc_network(hand)
    configure_helper(hand, {"instanceId": hand.s.instance_id, "regionId": hand.s.region_b,
                            "domains": hand.s.domain_vpc, "customAccessKey": key.access_key_id,
                            "customAccessKeySecret": key.access_key_secret}, rrsa=False)
    wait_for(lambda: secret_written(hand), what="the SA patch")
    assert key.access_key_secret not in helper_logs(hand)
    deploy_nginx(hand, image(hand))
    wait_running(hand)
