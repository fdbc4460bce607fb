"""One contract, two registries: acrx's probe against the sandbox registry and against
Debian's docker-registry (distribution) with token auth. A difference between the two
backends is a bug in the fake (or a documented difference of the real services)."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field

import pytest

from acrx.cloud.registry import ImageProbe, RegistryProbeError, probe_image
from acrx.sandbox.registry.images import ImageStore, image_size
from acrx.sandbox.registry.server import RegistryServer
from registry_support import SimpleRegistryAuth, debian_registry, free_port, registry_binary_available

DOMAIN = "contract-registry.cn-hangzhou.cr.aliyuncs.com"


@dataclass(frozen=True)
class Backend:
    name: str
    connect_to: str
    username: str
    password: str = field(repr=False)
    no_pull_username: str
    no_pull_password: str = field(repr=False)
    repo: str
    tag: str
    digest: str
    size: int
    unknown_repo_kinds: tuple[str, ...]


@pytest.fixture(scope="module")
def sandbox_backend():
    store = ImageStore()
    seeded = store.seed_defaults("cri-contract", "team")
    auth = SimpleRegistryAuth({"puller": ("pull-pass-1", {"team"}),
                               "stranger": ("other-pass-2", set())})
    server = RegistryServer(store, auth, lambda host: "cri-contract" if host == DOMAIN else None,
                            lambda instance_id: "cn-hangzhou").start()
    image = seeded["team/nginx:v1"]
    yield Backend("sandbox", server.url, "puller", "pull-pass-1", "stranger", "other-pass-2",
                  "team/nginx", "v1", image.digest, image_size(image),
                  # with the pull right on the namespace, a missing repository is NAME_UNKNOWN
                  unknown_repo_kinds=("not_found",))
    server.stop()


@pytest.fixture(scope="module")
def distribution_backend(tmp_path_factory):
    if not registry_binary_available():
        pytest.skip("Debian's docker-registry is not installed (apt-get install docker-registry)")
    with debian_registry(tmp_path_factory.mktemp("distribution")) as reg:
        yield Backend("distribution", reg.url, reg.username, reg.password, reg.no_pull_username,
                      reg.no_pull_password, reg.repo, reg.tag, reg.digest, reg.size,
                      # distribution 2.8 answers MANIFEST_UNKNOWN for a repository it never saw
                      unknown_repo_kinds=("not_found",))


@pytest.fixture(params=["sandbox", pytest.param("distribution", marks=pytest.mark.registry)])
def backend(request) -> Backend:
    return request.getfixturevalue(f"{request.param}_backend")


def _probe_error(backend: Backend, **overrides) -> RegistryProbeError:
    args = dict(domain=DOMAIN, repository=backend.repo, reference=backend.tag,
                username=backend.username, password=backend.password,
                connect_to=backend.connect_to, timeout=5)
    args.update(overrides)
    with pytest.raises(RegistryProbeError) as info:
        probe_image(**args)
    err = info.value
    for secret in (backend.password, backend.no_pull_password):
        assert secret not in str(err) and secret not in repr(err)
    return err


def test_good_credentials_give_digest_and_size(backend):
    probe = probe_image(DOMAIN, backend.repo, backend.tag, backend.username, backend.password,
                        connect_to=backend.connect_to)
    assert probe == ImageProbe(backend.digest, "application/vnd.docker.distribution.manifest.v2+json",
                               backend.size)
    by_digest = probe_image(DOMAIN, backend.repo, backend.digest, backend.username,
                            backend.password, connect_to=backend.connect_to)
    assert by_digest.digest == backend.digest and by_digest.size == backend.size


def test_wrong_password_is_unauthorized(backend):
    err = _probe_error(backend, password="not-the-password")
    assert err.kind == "unauthorized"
    assert "401 Unauthorized" in err.message and "failed to fetch oauth token" in err.message


def test_no_pull_right_is_denied_for_insufficient_scope(backend):
    err = _probe_error(backend, username=backend.no_pull_username, password=backend.no_pull_password)
    assert err.kind == "denied"
    assert "pull access denied" in err.message and "insufficient_scope" in err.message


def test_unknown_tag_is_not_found(backend):
    err = _probe_error(backend, reference="no-such-tag")
    assert err.kind == "not_found"
    assert err.message.startswith(f"{DOMAIN}/{backend.repo}:no-such-tag: not found")
    assert "manifest unknown" in err.message


def test_unknown_repository(backend):
    err = _probe_error(backend, repository="team/no-such-repo")
    assert err.kind in backend.unknown_repo_kinds


def test_repository_outside_the_granted_namespace_is_denied(backend):
    err = _probe_error(backend, repository="elsewhere/nginx")
    assert err.kind == "denied"


def test_closed_port_is_connect(backend):
    err = _probe_error(backend, connect_to=f"http://127.0.0.1:{free_port()}")
    assert err.kind == "connect"
    assert "connection refused" in err.message


def test_unresolvable_domain_is_dns(backend):
    err = _probe_error(backend, domain="no-such-registry.invalid", connect_to=None)
    assert err.kind == "dns"
    assert err.message == "dial tcp: lookup no-such-registry.invalid: no such host"


def test_silent_server_is_timeout(backend):
    # A listener that accepts and never answers, standing in front of either backend.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        port = listener.getsockname()[1]
        err = _probe_error(backend, connect_to=f"http://127.0.0.1:{port}", timeout=0.3)
        assert err.kind == "timeout" and "i/o timeout" in err.message
    finally:
        stop.set()
        thread.join()
        for sock in accepted:
            sock.close()
        listener.close()
