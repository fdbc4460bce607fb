"""The sandbox Kubernetes API through the official `kubernetes` Python client and its kubeconfig."""

from __future__ import annotations

import base64
import threading
import time

import pytest
import yaml

from acrx.sandbox.kube import SandboxCluster


@pytest.fixture(scope="module")
def cluster():
    with SandboxCluster("api-test", controllers=False) as running:
        yield running


@pytest.fixture(scope="module")
def api_client(cluster):
    from kubernetes import config

    client = config.new_client_from_config_dict(yaml.safe_load(cluster.kubeconfig_yaml()))
    yield client
    client.close()


@pytest.fixture
def core(api_client):
    from kubernetes import client

    return client.CoreV1Api(api_client)


@pytest.fixture
def apps(api_client):
    from kubernetes import client

    return client.AppsV1Api(api_client)


def _status_of(call, *args, **kwargs) -> int:
    from kubernetes.client.rest import ApiException

    with pytest.raises(ApiException) as info:
        call(*args, **kwargs)
    return info.value.status


def test_seeded_namespaces_have_default_service_accounts(core):
    names = {ns.metadata.name for ns in core.list_namespace().items}
    assert {"default", "kube-system", "kube-public"} <= names
    for namespace in ("default", "kube-system", "kube-public"):
        assert core.read_namespaced_service_account("default", namespace).metadata.name == "default"


def test_new_namespace_gets_default_service_account(core, cluster):
    core.create_namespace({"metadata": {"name": "team-a"}})
    cluster.wait_idle()
    assert core.read_namespaced_service_account("default", "team-a").metadata.namespace == "team-a"


def test_configmap_create_read_and_each_patch_type(core):
    created = core.create_namespaced_config_map("kube-system", {
        "metadata": {"name": "acr-configuration", "labels": {"app": "helper"}},
        "data": {"watch-namespace": "default", "expiring-threshold": "15m"}})
    assert created.metadata.uid and created.metadata.resource_version
    read = core.read_namespaced_config_map("acr-configuration", "kube-system")
    assert read.data == {"watch-namespace": "default", "expiring-threshold": "15m"}

    strategic = core.patch_namespaced_config_map("acr-configuration", "kube-system",
                                                 {"data": {"acr-registry-info": "- instanceId: cri-1\n"}})
    assert strategic.data["acr-registry-info"] == "- instanceId: cri-1\n"
    assert int(strategic.metadata.resource_version) > int(created.metadata.resource_version)

    merged = core.patch_namespaced_config_map("acr-configuration", "kube-system",
                                              {"data": {"expiring-threshold": None}},
                                              _content_type="application/merge-patch+json")
    assert "expiring-threshold" not in merged.data

    json_patched = core.patch_namespaced_config_map("acr-configuration", "kube-system", [
        {"op": "test", "path": "/data/watch-namespace", "value": "default"},
        {"op": "replace", "path": "/data/watch-namespace", "value": "all"}])
    assert json_patched.data["watch-namespace"] == "all"
    # A failing JSON patch test is 422, and changes nothing.
    assert _status_of(core.patch_namespaced_config_map, "acr-configuration", "kube-system",
                      [{"op": "test", "path": "/data/watch-namespace", "value": "default"}]) == 422
    assert core.read_namespaced_config_map("acr-configuration", "kube-system").data["watch-namespace"] == "all"


def test_strategic_merge_patch_merges_containers_by_name(apps, cluster):
    apps.create_namespaced_deployment("default", {
        "metadata": {"name": "smp"},
        "spec": {"selector": {"matchLabels": {"app": "smp"}},
                 "template": {"metadata": {"labels": {"app": "smp"}},
                              "spec": {"containers": [{"name": "a", "image": "nginx:1"},
                                                      {"name": "b", "image": "busybox:1"}]}}}})
    patched = apps.patch_namespaced_deployment("smp", "default", {
        "spec": {"template": {"spec": {"containers": [{"name": "b", "image": "busybox:2"}]}}}})
    images = {c.name: c.image for c in patched.spec.template.spec.containers}
    assert images == {"a": "nginx:1", "b": "busybox:2"}
    assert patched.metadata.generation == 2
    deleted = apps.patch_namespaced_deployment("smp", "default", {
        "spec": {"template": {"spec": {"containers": [{"name": "a", "$patch": "delete"}]}}}})
    assert [c.name for c in deleted.spec.template.spec.containers] == ["b"]
    apps.delete_namespaced_deployment("smp", "default")


def test_errors_carry_real_codes(core):
    assert _status_of(core.read_namespaced_config_map, "missing", "default") == 404
    core.create_namespaced_config_map("default", {"metadata": {"name": "twice"}})
    assert _status_of(core.create_namespaced_config_map, "default", {"metadata": {"name": "twice"}}) == 409
    assert _status_of(core.create_namespaced_config_map, "default", {"metadata": {"name": "Not_Valid"}}) == 422
    assert _status_of(core.create_namespaced_pod, "default", {"metadata": {"name": "no-containers"},
                                                              "spec": {"containers": []}}) == 422
    stale = core.read_namespaced_config_map("twice", "default")
    core.patch_namespaced_config_map("twice", "default", {"data": {"k": "v"}})
    stale.data = {"k": "old"}
    assert _status_of(core.replace_namespaced_config_map, "twice", "default", stale) == 409
    assert _status_of(core.create_namespaced_config_map, "no-such-ns", {"metadata": {"name": "x"}}) == 404


def test_wrong_token_is_401(cluster):
    from kubernetes import client, config
    from kubernetes.client.rest import ApiException

    kubeconfig = yaml.safe_load(cluster.kubeconfig_yaml())
    kubeconfig["users"][0]["user"]["token"] = "not-the-token"
    api = client.CoreV1Api(config.new_client_from_config_dict(kubeconfig))
    with pytest.raises(ApiException) as info:
        api.list_namespace()
    assert info.value.status == 401
    assert "not-the-token" not in repr(cluster) and cluster.token not in repr(cluster)


def test_label_selector_filters(core):
    for name, tier in (("front", "web"), ("back", "db")):
        core.create_namespaced_config_map("default", {"metadata": {"name": f"sel-{name}", "labels": {"tier": tier}}})
    assert [c.metadata.name for c in core.list_namespaced_config_map("default", label_selector="tier=web").items] \
        == ["sel-front"]
    assert [c.metadata.name for c in core.list_namespaced_config_map("default", label_selector="tier!=web,tier").items] \
        == ["sel-back"]
    assert {c.metadata.name for c in core.list_config_map_for_all_namespaces(label_selector="tier in (web,db)").items} \
        == {"sel-front", "sel-back"}
    assert [c.metadata.name for c in core.list_namespaced_config_map(
        "default", field_selector="metadata.name=sel-back").items] == ["sel-back"]


def test_secret_string_data_becomes_data(core):
    secret = core.create_namespaced_secret("default", {"metadata": {"name": "creds"},
                                                       "stringData": {"password": "s3cret"}})
    assert secret.string_data is None
    assert base64.b64decode(secret.data["password"]) == b"s3cret"
    assert secret.type == "Opaque"
    listed = core.list_namespaced_secret("default", field_selector="type=Opaque").items
    assert "creds" in [s.metadata.name for s in listed]


def test_watch_pods_sees_added_modified_deleted(core):
    from kubernetes import watch

    seen: list[tuple[str, str]] = []
    watcher = watch.Watch()
    ready = threading.Event()

    def consume() -> None:
        for event in watcher.stream(core.list_namespaced_pod, "default", label_selector="watch=me", timeout_seconds=10):
            ready.set()
            seen.append((event["type"], event["object"].metadata.name))
            if event["type"] == "DELETED":
                watcher.stop()

    core.create_namespaced_pod("default", {"metadata": {"name": "seed", "labels": {"watch": "me"}},
                                           "spec": {"containers": [{"name": "c", "image": "nginx"}]}})
    thread = threading.Thread(target=consume)
    thread.start()
    assert ready.wait(5)  # the synthetic ADDED for the existing pod
    core.patch_namespaced_pod("seed", "default", {"metadata": {"annotations": {"touched": "yes"}}})
    core.create_namespaced_pod("default", {"metadata": {"name": "other", "labels": {"watch": "no"}},
                                           "spec": {"containers": [{"name": "c", "image": "nginx"}]}})
    core.delete_namespaced_pod("seed", "default")
    thread.join(10)
    assert seen == [("ADDED", "seed"), ("MODIFIED", "seed"), ("DELETED", "seed")]


def test_deployment_delete_cascades_to_replicasets_and_pods(core, apps):
    deploy = apps.create_namespaced_deployment("default", {
        "metadata": {"name": "cascade"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "cascade"}},
                 "template": {"metadata": {"labels": {"app": "cascade"}},
                              "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}})
    owner = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "cascade", "uid": deploy.metadata.uid,
             "controller": True}
    rs = apps.create_namespaced_replica_set("default", {
        "metadata": {"name": "cascade-abc", "labels": {"app": "cascade"}, "ownerReferences": [owner]},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "cascade"}},
                 "template": {"metadata": {"labels": {"app": "cascade"}},
                              "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}})
    rs_owner = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "cascade-abc", "uid": rs.metadata.uid,
                "controller": True}
    core.create_namespaced_pod("default", {"metadata": {"name": "cascade-abc-x1", "labels": {"app": "cascade"},
                                                        "ownerReferences": [rs_owner]},
                                           "spec": {"containers": [{"name": "c", "image": "nginx"}]}})
    assert [p.metadata.name for p in core.list_namespaced_pod("default", label_selector="app=cascade").items] \
        == ["cascade-abc-x1"]
    apps.delete_namespaced_deployment("cascade", "default")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and core.list_namespaced_pod("default", label_selector="app=cascade").items:
        time.sleep(0.05)
    assert core.list_namespaced_pod("default", label_selector="app=cascade").items == []
    assert apps.list_namespaced_replica_set("default", label_selector="app=cascade").items == []


def test_pod_log_subresource(core, cluster):
    core.create_namespaced_pod("default", {"metadata": {"name": "logger"},
                                           "spec": {"containers": [{"name": "main", "image": "busybox"}]}})
    assert _status_of(core.read_namespaced_pod_log, "logger", "default") == 400  # not started yet
    cluster.store.append_log("default", "logger", "main", "line one\n")
    cluster.store.append_log("default", "logger", "main", "line two\n")
    assert core.read_namespaced_pod_log("logger", "default") == "line one\nline two\n"
    assert core.read_namespaced_pod_log("logger", "default", tail_lines=1) == "line two\n"


def test_pod_gets_its_service_accounts_pull_secrets_at_creation(core):
    core.create_namespaced_service_account("default", {"metadata": {"name": "puller"},
                                                       "imagePullSecrets": [{"name": "acr-credential-abc"}]})
    pod = core.create_namespaced_pod("default", {"metadata": {"name": "pulls"},
                                                 "spec": {"serviceAccountName": "puller",
                                                          "containers": [{"name": "c", "image": "nginx"}]}})
    assert [s.name for s in pod.spec.image_pull_secrets] == ["acr-credential-abc"]
    own = core.create_namespaced_pod("default", {"metadata": {"name": "pulls-own"},
                                                 "spec": {"serviceAccountName": "puller",
                                                          "imagePullSecrets": [{"name": "mine"}],
                                                          "containers": [{"name": "c", "image": "nginx"}]}})
    assert [s.name for s in own.spec.image_pull_secrets] == ["mine"]


# ---------------------------------------------------------------- the store and patch rules directly

def test_strategic_merge_patch_directives_as_kubectl_apply_writes_them():
    from acrx.sandbox.kube.patch import strategic_merge_patch

    live = {"spec": {"containers": [{"name": "a", "image": "1", "env": [{"name": "X", "value": "1"}]},
                                    {"name": "b", "image": "2"}],
                     "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}},
            "metadata": {"finalizers": ["keep", "drop"]}}
    patched = strategic_merge_patch(live, {
        "spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
                 "containers": [{"name": "a", "env": [{"name": "Y", "value": "2"}]}],
                 "strategy": {"$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": None}},
        "metadata": {"$deleteFromPrimitiveList/finalizers": ["drop"], "finalizers": ["new"]}})
    assert [c["name"] for c in patched["spec"]["containers"]] == ["b", "a"]
    assert patched["spec"]["containers"][1]["env"] == [{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}]
    assert patched["spec"]["strategy"] == {"type": "Recreate"}
    assert patched["metadata"]["finalizers"] == ["keep", "new"]
    replaced = strategic_merge_patch(live, {"spec": {"containers": [{"$patch": "replace"}, {"name": "c", "image": "3"}]}})
    assert replaced["spec"]["containers"] == [{"name": "c", "image": "3"}]


def test_json_patch_move_copy_and_pointer_escapes():
    from acrx.sandbox.kube.patch import PatchError, json_patch

    doc = json_patch({"a": {"b": [1, 2]}}, [{"op": "move", "from": "/a/b/0", "path": "/a/c"},
                                            {"op": "copy", "from": "/a/c", "path": "/a/b/-"},
                                            {"op": "add", "path": "/x~1y", "value": {"~": 1}}])
    assert doc == {"a": {"b": [2, 1], "c": 1}, "x/y": {"~": 1}}
    with pytest.raises(PatchError):
        json_patch(doc, [{"op": "remove", "path": "/nope"}])


def test_store_watch_resumes_from_a_resource_version_and_filters_by_field():
    from acrx.sandbox.kube import ClusterStore

    store = ClusterStore()
    store.create("namespaces", None, {"metadata": {"name": "default"}})
    first = store.create("configmaps", "default", {"metadata": {"name": "one"}})
    store.create("configmaps", "default", {"metadata": {"name": "two"}})
    store.patch("configmaps", "default", "one", {"data": {"k": "v"}})
    with store.watch("configmaps", "default", since_rv=first["metadata"]["resourceVersion"],
                     field_selector="metadata.name=one") as watch:
        event_type, obj = watch.get(timeout=30)
        assert (event_type, obj["data"]) == ("MODIFIED", {"k": "v"})
        store.delete("configmaps", "default", "one")
        assert watch.get(timeout=30)[0] == "DELETED"
        assert watch.get(timeout=0.1) is None


def test_scale_subresource_and_dry_run(cluster, apps):
    apps.create_namespaced_deployment("default", {
        "metadata": {"name": "scaled"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "scaled"}},
                 "template": {"metadata": {"labels": {"app": "scaled"}},
                              "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}})
    scale = apps.patch_namespaced_deployment_scale("scaled", "default", {"spec": {"replicas": 4}})
    assert scale.spec.replicas == 4 and scale.status.selector == "app=scaled"
    assert apps.read_namespaced_deployment("scaled", "default").spec.replicas == 4
    apps.patch_namespaced_deployment("scaled", "default", {"spec": {"replicas": 9}}, dry_run="All")
    assert apps.read_namespaced_deployment("scaled", "default").spec.replicas == 4
