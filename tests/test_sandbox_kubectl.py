"""kubectl (the real binary) against the sandbox cluster: it is the judge of the API server."""

from __future__ import annotations

import re
import shutil
import subprocess
import time

import pytest

from acrx.sandbox.kube import SandboxCluster

KUBECTL = shutil.which("kubectl")
pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed on this machine")

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
  labels: {app: web}
spec:
  replicas: REPLICAS
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: registry.example.com/team/nginx:1.27
        ports: [{containerPort: 80}]
"""


@pytest.fixture(scope="module")
def cluster():
    with SandboxCluster("kubectl-test") as running:
        yield running


@pytest.fixture(scope="module")
def kubectl(cluster, tmp_path_factory):
    folder = tmp_path_factory.mktemp("kubectl")
    kubeconfig = folder / "kubeconfig"
    kubeconfig.write_text(cluster.kubeconfig_yaml())
    kubeconfig.chmod(0o600)

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run([KUBECTL, "--kubeconfig", str(kubeconfig), "--cache-dir", str(folder / "cache"),
                                 "--request-timeout", "20s", *args],
                                capture_output=True, text=True, timeout=60)
        if check:
            assert result.returncode == 0, f"kubectl {' '.join(args)} failed: {result.stderr}"
        return result

    return run


def _manifest(tmp_path, replicas: int):
    path = tmp_path / "deploy.yaml"
    path.write_text(DEPLOYMENT.replace("REPLICAS", str(replicas)))
    return str(path)


def test_get_namespaces(kubectl):
    out = kubectl("get", "ns").stdout
    lines = {line.split()[0]: line.split()[1] for line in out.splitlines()[1:]}
    assert lines == {"default": "Active", "kube-public": "Active", "kube-system": "Active"}


def test_get_configmap_in_kube_system(kubectl, cluster):
    assert "No resources found in kube-system namespace." in kubectl("get", "configmap", "-n", "kube-system").stderr
    cluster.store.create("configmaps", "kube-system", {"metadata": {"name": "acr-configuration"},
                                                       "data": {"watch-namespace": "all"}})
    out = kubectl("get", "cm", "-n", "kube-system").stdout
    assert out.split("\n")[0].split() == ["NAME", "DATA", "AGE"]
    assert out.split("\n")[1].split()[:2] == ["acr-configuration", "1"]
    as_json = kubectl("get", "configmap", "acr-configuration", "-n", "kube-system", "-o", "jsonpath={.data}").stdout
    assert as_json == '{"watch-namespace":"all"}'


def test_apply_twice_then_get_pods_by_label(kubectl, cluster, tmp_path):
    assert kubectl("apply", "-f", _manifest(tmp_path, 2)).stdout.strip() == "deployment.apps/web created"
    assert kubectl("apply", "-f", _manifest(tmp_path, 2)).stdout.strip() == "deployment.apps/web unchanged"
    assert kubectl("apply", "-f", _manifest(tmp_path, 3)).stdout.strip() == "deployment.apps/web configured"
    cluster.wait_idle()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(cluster.store.list("pods", "default", "app=web")) < 3:
        time.sleep(0.05)
    rows = kubectl("get", "pods", "-l", "app=web").stdout.splitlines()
    assert rows[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert len(rows) == 4 and all(r.split()[1:3] == ["0/1", "Pending"] and r.startswith("web-") for r in rows[1:])
    assert kubectl("get", "pods", "-l", "app=nothing").stderr.startswith("No resources found")
    deploy = kubectl("get", "deploy", "web").stdout.splitlines()[1].split()
    assert deploy[:4] == ["web", "0/3", "3", "0"]


def _pod_with_pull_events(cluster, name: str) -> dict:
    pod = cluster.store.create("pods", "default", {
        "metadata": {"name": name, "labels": {"app": "probe"}},
        "spec": {"containers": [{"name": "main", "image": "registry.example.com/team/nginx:1.27"}]}})
    image = '"registry.example.com/team/nginx:1.27"'
    cluster.store.record_event(pod, "Normal", "Pulling", f"Pulling image {image}", host="node-1")
    cluster.store.record_event(pod, "Warning", "Failed", f"Failed to pull image {image}: unauthorized", host="node-1")
    cluster.store.record_event(pod, "Warning", "Failed", "Error: ErrImagePull", host="node-1")
    return pod


def test_describe_pod_shows_its_events(kubectl, cluster):
    _pod_with_pull_events(cluster, "probe")
    out = kubectl("describe", "pod", "probe").stdout
    assert "Name:             probe" in out
    assert re.search(r"^\s+Image:\s+registry\.example\.com/team/nginx:1\.27$", out, re.M)
    events = out[out.index("Events:"):]
    assert 'Pulling image "registry.example.com/team/nginx:1.27"' in events
    assert "Error: ErrImagePull" in events and "kubelet" in events


def test_logs_of_a_pod(kubectl, cluster):
    cluster.store.create("pods", "kube-system", {
        "metadata": {"name": "aliyun-acr-credential-helper-abcde"},
        "spec": {"containers": [{"name": "helper", "image": "acr-credential-helper:v1"}]}})
    not_started = kubectl("logs", "-n", "kube-system", "aliyun-acr-credential-helper-abcde", check=False)
    assert not_started.returncode != 0 and "waiting to start" in not_started.stderr
    cluster.store.append_log("kube-system", "aliyun-acr-credential-helper-abcde", "helper", "starting\n")
    cluster.store.append_log("kube-system", "aliyun-acr-credential-helper-abcde", "helper", "refreshed token\n")
    assert kubectl("logs", "-n", "kube-system", "aliyun-acr-credential-helper-abcde").stdout \
        == "starting\nrefreshed token\n"


def test_get_events(kubectl, cluster):
    _pod_with_pull_events(cluster, "probe-events")
    rows = kubectl("get", "events", "--field-selector", "involvedObject.name=probe-events").stdout.splitlines()
    assert rows[0].split() == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert any("Pulling" in r and "pod/probe-events" in r for r in rows[1:])
    assert any("Warning" in r and "Error: ErrImagePull" in r for r in rows[1:])


def test_scale_and_rollout_history(kubectl, cluster):
    assert kubectl("scale", "deploy/web", "--replicas=1").stdout.strip() == "deployment.apps/web scaled"
    cluster.wait_idle()
    assert len(cluster.store.list("pods", "default", "app=web")) == 1
    assert kubectl("get", "rs", "-l", "app=web").stdout.splitlines()[1].split()[1:3] == ["1", "1"]
    assert "1         <none>" in kubectl("rollout", "history", "deploy/web").stdout


def test_delete(kubectl, cluster, tmp_path):
    assert kubectl("delete", "-f", _manifest(tmp_path, 3)).stdout.strip() == 'deployment.apps "web" deleted'
    assert kubectl("get", "pods", "-l", "app=web").stderr.startswith("No resources found")
    assert kubectl("get", "rs").stderr.startswith("No resources found")
    assert kubectl("delete", "pod", "probe").stdout.strip() == 'pod "probe" deleted'
    missing = kubectl("get", "pod", "probe", check=False)
    assert missing.returncode == 1 and 'pods "probe" not found' in missing.stderr
    assert kubectl("delete", "configmap", "acr-configuration", "-n", "kube-system").stdout.strip() \
        == 'configmap "acr-configuration" deleted'
