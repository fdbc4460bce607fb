"""acrx.kube.client.KubeClient against a sandbox Kubernetes API (https, token, throwaway CA)."""

from __future__ import annotations

import base64
import datetime as dt
import tempfile

import pytest
import yaml

from acrx.kube.client import KubeClient
from acrx.kube.errors import KubeconfigError, KubeError
from acrx.sandbox.kube import SandboxCluster

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def cluster():
    with SandboxCluster("kube-client-test") as running:
        yield running


@pytest.fixture
def no_disk(monkeypatch):
    """Fail the test if anything tries to put kubeconfig material in a temp file."""
    def refuse(*args, **kwargs):
        raise AssertionError("kubeconfig material written to a temp file")

    from kubernetes.config import kube_config

    monkeypatch.setattr(kube_config, "_create_temp_file_with_content", refuse)
    for name in ("mkstemp", "NamedTemporaryFile", "mkdtemp", "TemporaryDirectory"):
        monkeypatch.setattr(tempfile, name, refuse)


@pytest.fixture
def kube(cluster, no_disk):
    with KubeClient.from_text(cluster.kubeconfig_yaml()) as client:
        yield client


def _client_cert_pem() -> tuple[bytes, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "acrx-test-user")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=1))
            .not_valid_after(now + dt.timedelta(days=1)).sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def test_from_text_lists_namespaces_and_hides_the_token(kube, cluster):
    assert {"default", "kube-system", "kube-public"} <= set(kube.list_namespaces())
    assert cluster.token not in repr(kube)
    assert kube.server in repr(kube)


def test_configmap_create_patch_keeps_other_keys_and_removes_null(kube):
    assert kube.get_configmap("default", "cm-a") is None
    kube.create_configmap("default", "cm-a", {"keep": "1", "change": "old", "drop": "x"}, labels={"app": "t"})
    patched = kube.patch_configmap_data("default", "cm-a", {"change": "new", "drop": None, "add": "y"})
    assert patched["data"] == {"keep": "1", "change": "new", "add": "y"}
    assert kube.get_configmap("default", "cm-a")["metadata"]["labels"] == {"app": "t"}
    assert kube.delete_configmap("default", "cm-a") is True
    assert kube.delete_configmap("default", "cm-a") is False


def test_api_errors_carry_status_and_reason(kube):
    kube.create_configmap("default", "cm-dup", {"a": "1"})
    with pytest.raises(KubeError) as info:
        kube.create_configmap("default", "cm-dup", {"a": "1"})
    assert info.value.status == 409 and info.value.conflict
    assert info.value.reason == "AlreadyExists"
    assert "cm-dup" in str(info.value)
    with pytest.raises(KubeError) as missing:
        kube.patch_configmap_data("default", "cm-none", {"a": "1"})
    assert missing.value.not_found


def test_secret_data_only_when_asked(kube, cluster):
    cluster.store.create("secrets", "default", {"metadata": {"name": "acr-credential-x", "labels": {"app": "h"}},
                                                "type": "kubernetes.io/dockerconfigjson",
                                                "data": {".dockerconfigjson": base64.b64encode(b"{}").decode()}})
    meta = kube.get_secret_meta("default", "acr-credential-x")
    assert meta["type"] == "kubernetes.io/dockerconfigjson" and "data" not in meta
    assert "data" in kube.get_secret_meta("default", "acr-credential-x", include_data=True)
    listed = kube.list_secrets("default", label_selector="app=h")
    assert [s["metadata"]["name"] for s in listed] == ["acr-credential-x"] and "data" not in listed[0]
    typed = kube.list_secrets("default", field_selector="type=kubernetes.io/dockerconfigjson", include_data=True)
    assert typed and all("data" in s for s in typed)
    assert kube.get_secret_meta("default", "nope") is None


def test_service_account_pods_logs_and_delete(kube, cluster):
    assert kube.get_service_account("default", "default")["metadata"]["name"] == "default"
    assert kube.get_service_account("default", "ghost") is None
    cluster.store.create("pods", "kube-system", {
        "metadata": {"name": "helper-1", "labels": {"app": "helper"}},
        "spec": {"containers": [{"name": "main", "image": "busybox"}]}})
    cluster.store.append_log("kube-system", "helper-1", "main", "line one\nline two\n")
    pods = kube.list_pods("kube-system", label_selector="app=helper")
    assert [p["metadata"]["name"] for p in pods] == ["helper-1"]
    assert kube.pod_logs("kube-system", "helper-1", tail_lines=1).strip() == "line two"
    assert kube.delete_pod("kube-system", "helper-1") is True
    assert kube.delete_pod("kube-system", "helper-1") is False


def test_from_file_reads_relative_ca_file(cluster, tmp_path, no_disk):
    config = yaml.safe_load(cluster.kubeconfig_yaml())
    ca = config["clusters"][0]["cluster"].pop("certificate-authority-data")
    (tmp_path / "ca.pem").write_bytes(base64.b64decode(ca))
    config["clusters"][0]["cluster"]["certificate-authority"] = "ca.pem"
    (tmp_path / "kubeconfig").write_text(yaml.safe_dump(config))
    with KubeClient.from_file(tmp_path / "kubeconfig") as client:
        assert "default" in client.list_namespaces()


def test_client_certificate_is_loaded_in_memory(cluster, no_disk):
    cert, key = _client_cert_pem()
    config = yaml.safe_load(cluster.kubeconfig_yaml())
    user = config["users"][0]["user"]
    user["client-certificate-data"] = base64.b64encode(cert).decode()
    user["client-key-data"] = base64.b64encode(key).decode()
    with KubeClient.from_dict(config) as client:
        assert "kube-system" in client.list_namespaces()
    user["client-key-data"] = base64.b64encode(b"not a key").decode()
    with pytest.raises(KubeconfigError):
        KubeClient.from_dict(config)


def test_wrong_token_is_401_and_wrong_ca_is_a_kube_error(cluster):
    config = yaml.safe_load(cluster.kubeconfig_yaml())
    config["users"][0]["user"]["token"] = "wrong-token"
    with KubeClient.from_dict(config) as client, pytest.raises(KubeError) as info:
        client.list_namespaces()
    assert info.value.status == 401
    assert "wrong-token" not in str(info.value)
    other = SandboxCluster("other-ca")   # never started: only its CA is wanted
    from acrx.sandbox.kube.tls import make_serving_certificate

    config = yaml.safe_load(cluster.kubeconfig_yaml())
    config["clusters"][0]["cluster"]["certificate-authority-data"] = base64.b64encode(
        make_serving_certificate(other.name).ca_pem).decode()
    with KubeClient.from_dict(config) as client:
        client.timeout = (2.0, 2.0)
        with pytest.raises(KubeError) as bad_ca:
            client.list_namespaces()
    assert bad_ca.value.status is None and "SSLError" in str(bad_ca.value)


def test_bad_kubeconfigs_are_named():
    with pytest.raises(KubeconfigError, match="current-context"):
        KubeClient.from_text("apiVersion: v1\nkind: Config\n")
    with pytest.raises(KubeconfigError, match="no context named"):
        KubeClient.from_text(yaml.safe_dump({"current-context": "x", "contexts": []}))
    with pytest.raises(KubeconfigError, match="not valid YAML"):
        KubeClient.from_text("a: [")
