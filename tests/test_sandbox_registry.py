"""Sandbox registry details the contract tests do not reach: Host routing between instances,
token expiry tied to the session, OCI negotiation, blob digests, the read-only surface."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import tarfile

import pytest

from acrx.cloud.registry import RegistryProbeError, parse_challenge, probe_image
from acrx.sandbox.registry.images import (DOCKER_MANIFEST, OCI_MANIFEST, ImageStore, busybox_image,
                                          image_size, nginx_image)
from acrx.sandbox.registry.server import RegistryServer
from registry_support import SimpleRegistryAuth, raw_request

HOST_A = "alpha-registry.cn-hangzhou.cr.aliyuncs.com"
HOST_A_VPC = "alpha-registry-vpc.cn-hangzhou.cr.aliyuncs.com"
HOST_B = "beta-registry.cn-shanghai.cr.aliyuncs.com"
INSTANCES = {HOST_A: "cri-alpha", HOST_A_VPC: "cri-alpha", HOST_B: "cri-beta"}
REGIONS = {"cri-alpha": "cn-hangzhou", "cri-beta": "cn-shanghai"}


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def registry(clock):
    store = ImageStore()
    store.seed_defaults("cri-alpha", "team")
    store.put("cri-beta", "other/busybox", "1.36", busybox_image())
    auth = SimpleRegistryAuth({"alice": ("alice-pass", {"team", "other"})}, clock=clock,
                              lifetime=120)
    server = RegistryServer(store, auth, INSTANCES.get, REGIONS.__getitem__, clock=clock).start()
    yield server
    server.stop()


def _token(registry, instance_id: str, scope: str, user="alice", password="alice-pass"):
    service = f"registry.aliyuncs.com:{REGIONS[instance_id]}:{instance_id}"
    basic = base64.b64encode(f"{user}:{password}".encode()).decode()
    status, _, body = raw_request(
        registry.url, "GET", f"/auth/{REGIONS[instance_id]}/token?service={service}&scope={scope}",
        headers={"Authorization": f"Basic {basic}"})
    assert status == 200, body
    return json.loads(body)


def test_challenge_names_the_instance_realm_and_service(registry):
    status, headers, body = raw_request(registry.url, "GET", "/v2/", host=HOST_B)
    assert status == 401
    assert json.loads(body)["errors"][0]["code"] == "UNAUTHORIZED"
    scheme, params = parse_challenge(headers["WWW-Authenticate"])
    assert scheme == "bearer"
    assert params == {"realm": f"{registry.url}/auth/cn-shanghai/token",
                      "service": "registry.aliyuncs.com:cn-shanghai:cri-beta"}


def test_host_routing_keeps_instances_apart(registry):
    nginx = nginx_image()
    for host in (HOST_A, HOST_A_VPC):  # internet and VPC domains of one instance
        assert probe_image(host, "team/nginx", "v1", "alice", "alice-pass",
                           connect_to=registry.url).digest == nginx.digest
    with pytest.raises(RegistryProbeError) as info:
        probe_image(HOST_B, "team/nginx", "v1", "alice", "alice-pass", connect_to=registry.url)
    assert info.value.kind == "not_found"
    assert probe_image(HOST_B, "other/busybox", "1.36", "alice", "alice-pass",
                       connect_to=registry.url).digest == busybox_image().digest
    # A token asked for instance alpha is worth nothing on beta.
    token = _token(registry, "cri-alpha", "repository:other/busybox:pull")["token"]
    status, headers, _ = raw_request(registry.url, "GET", "/v2/other/busybox/tags/list", host=HOST_B,
                                     headers={"Authorization": f"Bearer {token}"})
    assert status == 401 and 'error="invalid_token"' in headers["WWW-Authenticate"]
    status, _, body = raw_request(registry.url, "GET", "/v2/", host="unknown.example.com")
    assert status == 404 and json.loads(body)["errors"][0]["code"] == "NAME_UNKNOWN"


def test_token_expires_with_the_session(registry, clock):
    grant = _token(registry, "cri-alpha", "repository:team/nginx:pull")
    assert grant["expires_in"] == 120  # the session's 120 s, shorter than the 300 s default
    bearer = {"Authorization": f"Bearer {grant['token']}"}
    status, _, _ = raw_request(registry.url, "HEAD", "/v2/team/nginx/manifests/v1", HOST_A, bearer)
    assert status == 200
    clock.now += 121
    status, headers, body = raw_request(registry.url, "GET", "/v2/team/nginx/manifests/v1",
                                        HOST_A, bearer)
    assert status == 401
    assert json.loads(body)["errors"][0]["code"] == "UNAUTHORIZED"
    _, params = parse_challenge(headers["WWW-Authenticate"])
    assert params["error"] == "invalid_token" and params["scope"] == "repository:team/nginx:pull"


def test_token_endpoint_refuses_bad_or_missing_credentials_and_accepts_oauth_post(registry):
    path = "/auth/cn-hangzhou/token?service=registry.aliyuncs.com:cn-hangzhou:cri-alpha"
    assert raw_request(registry.url, "GET", path)[0] == 401
    bad = base64.b64encode(b"alice:wrong").decode()
    assert raw_request(registry.url, "GET", path, headers={"Authorization": f"Basic {bad}"})[0] == 401
    form = b"grant_type=password&username=alice&password=alice-pass&scope=repository:team/nginx:pull"
    status, _, body = raw_request(registry.url, "POST", path, body=form, headers={
        "Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200 and json.loads(body)["access_token"]


def test_oci_manifest_needs_an_accept_that_names_it(registry):
    token = _token(registry, "cri-alpha", "repository:team/busybox:pull")["token"]
    auth = {"Authorization": f"Bearer {token}"}
    status, _, body = raw_request(registry.url, "GET", "/v2/team/busybox/manifests/1.36", HOST_A,
                                  {**auth, "Accept": DOCKER_MANIFEST})
    assert status == 404 and json.loads(body)["errors"][0]["code"] == "MANIFEST_UNKNOWN"
    status, headers, body = raw_request(registry.url, "GET", "/v2/team/busybox/manifests/1.36",
                                        HOST_A, {**auth, "Accept": f"{DOCKER_MANIFEST}, {OCI_MANIFEST}"})
    assert status == 200 and headers["Content-Type"] == OCI_MANIFEST
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    assert headers["Docker-Content-Digest"] == digest == busybox_image().digest
    status, head_headers, head_body = raw_request(registry.url, "HEAD", f"/v2/team/busybox/manifests/{digest}",
                                                  HOST_A, {**auth, "Accept": OCI_MANIFEST})
    assert status == 200 and head_body == b""
    assert int(head_headers["Content-Length"]) == len(body)


def test_blobs_match_their_digests_and_the_config(registry):
    token = _token(registry, "cri-alpha", "repository:team/nginx:pull")["token"]
    auth = {"Authorization": f"Bearer {token}"}
    _, _, raw = raw_request(registry.url, "GET", "/v2/team/nginx/manifests/v1", HOST_A,
                            {**auth, "Accept": DOCKER_MANIFEST})
    manifest = json.loads(raw)
    blobs = {}
    for desc in [manifest["config"], *manifest["layers"]]:
        status, headers, data = raw_request(registry.url, "GET", f"/v2/team/nginx/blobs/{desc['digest']}",
                                            HOST_A, auth)
        assert status == 200 and headers["Docker-Content-Digest"] == desc["digest"]
        assert "sha256:" + hashlib.sha256(data).hexdigest() == desc["digest"]
        assert len(data) == desc["size"]
        blobs[desc["digest"]] = data
    config = json.loads(blobs[manifest["config"]["digest"]])
    diff_ids = []
    for layer in manifest["layers"]:
        tar_bytes = gzip.decompress(blobs[layer["digest"]])
        diff_ids.append("sha256:" + hashlib.sha256(tar_bytes).hexdigest())
        with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
            assert tar.getnames()
    assert config["rootfs"]["diff_ids"] == diff_ids
    assert sum(d["size"] for d in [manifest["config"], *manifest["layers"]]) == image_size(nginx_image())
    status, _, body = raw_request(registry.url, "GET", "/v2/team/nginx/blobs/sha256:" + "0" * 64,
                                  HOST_A, auth)
    assert status == 404 and json.loads(body)["errors"][0]["code"] == "BLOB_UNKNOWN"


def test_tags_list_and_read_only_surface(registry):
    token = _token(registry, "cri-alpha", "repository:team/nginx:pull,push")["token"]
    auth = {"Authorization": f"Bearer {token}"}
    status, _, body = raw_request(registry.url, "GET", "/v2/team/nginx/tags/list", HOST_A, auth)
    assert status == 200 and json.loads(body) == {"name": "team/nginx", "tags": ["1.27", "v1"]}
    status, headers, body = raw_request(registry.url, "PUT", "/v2/team/nginx/manifests/v2", HOST_A,
                                        {**auth, "Content-Type": DOCKER_MANIFEST}, body=b"{}")
    assert status == 401 and json.loads(body)["errors"][0]["code"] == "DENIED"
    assert 'error="insufficient_scope"' in headers["WWW-Authenticate"]


def test_images_are_deterministic_and_sized_from_their_bytes():
    first, second = nginx_image(), nginx_image()
    assert first.digest == second.digest and first.manifest == second.manifest
    assert nginx_image("1.26.0").digest != first.digest
    assert image_size(first) == first.config.size + sum(len(l.data) for l in first.layers)


def test_latency_knob_makes_a_probe_time_out(registry):
    registry.latency = 0.5
    with pytest.raises(RegistryProbeError) as info:
        probe_image(HOST_A, "team/nginx", "v1", "alice", "alice-pass", connect_to=registry.url,
                    timeout=0.2)
    assert info.value.kind == "timeout"
