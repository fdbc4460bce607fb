"""Seeded container images, built deterministically in memory, and the store that holds them.

Images are real: gzip'd tar layers with files in them, a config blob whose rootfs.diff_ids are
the sha256 of the uncompressed layers, and a manifest (Docker schema 2 or OCI) whose digests
and sizes are computed from the bytes. Nothing is hard-coded, so a client that verifies
digests (containerd does) is satisfied.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import threading
from dataclasses import dataclass, field

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"

# A fixed timestamp keeps tar headers, and so every digest, stable across runs.
_EPOCH = 1714521600  # 2024-05-01T00:00:00Z
_CREATED = "2024-05-01T00:00:00Z"


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Blob:
    media_type: str
    data: bytes = field(repr=False)

    @property
    def digest(self) -> str:
        return sha256_digest(self.data)

    @property
    def size(self) -> int:
        return len(self.data)

    def descriptor(self) -> dict:
        return {"mediaType": self.media_type, "size": self.size, "digest": self.digest}


@dataclass(frozen=True)
class Image:
    """One single-platform image: manifest bytes exactly as served, plus its blobs."""

    media_type: str
    manifest: bytes = field(repr=False)
    config: Blob
    layers: tuple[Blob, ...]

    @property
    def digest(self) -> str:
        return sha256_digest(self.manifest)

    def blobs(self) -> tuple[Blob, ...]:
        return (self.config, *self.layers)


def image_size(image: Image) -> int:
    """Config plus compressed layers: what the kubelet prints as `Image size: N bytes`."""
    return image.config.size + sum(layer.size for layer in image.layers)


def _filler(seed: str, size: int) -> bytes:
    """Deterministic incompressible bytes, so an image has a size worth reporting."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


def _tar_layer(files: dict[str, bytes]) -> bytes:
    """An uncompressed tar with fixed owners and mtimes (so its digest never changes)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        dirs: set[str] = set()
        for path in sorted(files):
            parts = path.strip("/").split("/")
            for depth in range(1, len(parts)):
                d = "/".join(parts[:depth])
                if d not in dirs:
                    dirs.add(d)
                    info = tarfile.TarInfo(d + "/")
                    info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, _EPOCH
                    info.uname = info.gname = "root"
                    tar.addfile(info)
            data = files[path]
            info = tarfile.TarInfo(path.strip("/"))
            info.size, info.mode, info.mtime = len(data), 0o644, _EPOCH
            info.uname = info.gname = "root"
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def build_image(layer_files: list[dict[str, bytes]], container_config: dict, *,
                oci: bool = False, history: list[str] | None = None) -> Image:
    """Assemble layers, config and manifest; every digest and size comes from the bytes."""
    layer_type, config_type, manifest_type = (
        (OCI_LAYER, OCI_CONFIG, OCI_MANIFEST) if oci else (DOCKER_LAYER, DOCKER_CONFIG, DOCKER_MANIFEST))
    tars = [_tar_layer(files) for files in layer_files]
    layers = tuple(Blob(layer_type, gzip.compress(t, mtime=0)) for t in tars)
    config_doc = {
        "architecture": "amd64",
        "os": "linux",
        "created": _CREATED,
        "config": container_config,
        "rootfs": {"type": "layers", "diff_ids": [sha256_digest(t) for t in tars]},
        "history": [{"created": _CREATED, "created_by": step}
                    for step in (history or ["layer"] * len(tars))],
    }
    config = Blob(config_type, json.dumps(config_doc, sort_keys=True, separators=(",", ":")).encode())
    manifest_doc = {
        "schemaVersion": 2,
        "mediaType": manifest_type,
        "config": config.descriptor(),
        "layers": [layer.descriptor() for layer in layers],
    }
    manifest = json.dumps(manifest_doc, indent=3).encode()
    return Image(manifest_type, manifest, config, layers)


def nginx_image(version: str = "1.27.0", *, oci: bool = False) -> Image:
    base = {
        "etc/os-release": b'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n',
        "etc/passwd": b"root:x:0:0:root:/root:/bin/sh\nnginx:x:101:101:nginx:/nonexistent:/bin/false\n",
        "usr/lib/x86_64-linux-gnu/libbase.so": _filler("base", 96 * 1024),
    }
    app = {
        "etc/nginx/nginx.conf": (b"user nginx;\nworker_processes auto;\nevents { worker_connections 1024; }\n"
                                 b"http { server { listen 80; root /usr/share/nginx/html; } }\n"),
        "usr/share/nginx/html/index.html": b"<!DOCTYPE html>\n<title>Welcome to nginx!</title>\n",
        "usr/sbin/nginx": _filler(f"nginx-{version}", 160 * 1024),
    }
    config = {
        "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                f"NGINX_VERSION={version}"],
        "Cmd": ["nginx", "-g", "daemon off;"],
        "ExposedPorts": {"80/tcp": {}},
        "StopSignal": "SIGQUIT",
    }
    return build_image([base, app], config, oci=oci,
                       history=["ADD rootfs.tar.gz /", f"RUN install nginx {version}"])


def busybox_image(version: str = "1.36.1", *, oci: bool = True) -> Image:
    files = {"bin/busybox": _filler(f"busybox-{version}", 48 * 1024),
             "etc/hostname": b"busybox\n"}
    return build_image([files], {"Cmd": ["sh"]}, oci=oci, history=[f"ADD busybox-{version} /"])


@dataclass
class _Repository:
    tags: dict[str, str] = field(default_factory=dict)  # tag -> manifest digest
    manifests: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # digest -> (type, bytes)
    blobs: dict[str, bytes] = field(default_factory=dict)  # digest -> bytes


@dataclass(frozen=True)
class StoredManifest:
    digest: str
    media_type: str
    data: bytes = field(repr=False)


class ImageStore:
    """Images per (instance id, "namespace/repository"), thread-safe for the HTTP server."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._repos: dict[tuple[str, str], _Repository] = {}

    def put(self, instance_id: str, repository: str, tag: str, image: Image) -> str:
        """Store the image's manifest and blobs and point `tag` at it; returns the digest."""
        with self._lock:
            repo = self._repos.setdefault((instance_id, repository), _Repository())
            repo.manifests[image.digest] = (image.media_type, image.manifest)
            for blob in image.blobs():
                repo.blobs[blob.digest] = blob.data
            repo.tags[tag] = image.digest
            return image.digest

    def seed_defaults(self, instance_id: str, namespace: str) -> dict[str, Image]:
        """The images a fresh sandbox instance holds: `<ns>/nginx` (Docker schema 2, tags v1
        and 1.27, one image) and `<ns>/busybox:1.36` (OCI). Returns `repo:tag` -> image."""
        nginx, busybox = nginx_image(), busybox_image()
        seeded = {f"{namespace}/nginx:v1": nginx, f"{namespace}/nginx:1.27": nginx,
                  f"{namespace}/busybox:1.36": busybox}
        for ref, image in seeded.items():
            repository, tag = ref.rsplit(":", 1)
            self.put(instance_id, repository, tag, image)
        return seeded

    def has_repository(self, instance_id: str, repository: str) -> bool:
        with self._lock:
            return (instance_id, repository) in self._repos

    def repositories(self, instance_id: str) -> list[str]:
        with self._lock:
            return sorted(name for (iid, name) in self._repos if iid == instance_id)

    def tags(self, instance_id: str, repository: str) -> list[str] | None:
        with self._lock:
            repo = self._repos.get((instance_id, repository))
            return None if repo is None else sorted(repo.tags)

    def manifest(self, instance_id: str, repository: str, reference: str) -> StoredManifest | None:
        """Look a manifest up by tag or by digest."""
        with self._lock:
            repo = self._repos.get((instance_id, repository))
            if repo is None:
                return None
            digest = reference if reference.startswith("sha256:") else repo.tags.get(reference)
            if digest is None or digest not in repo.manifests:
                return None
            media_type, data = repo.manifests[digest]
            return StoredManifest(digest, media_type, data)

    def blob(self, instance_id: str, repository: str, digest: str) -> bytes | None:
        with self._lock:
            repo = self._repos.get((instance_id, repository))
            return None if repo is None else repo.blobs.get(digest)

    def delete_tag(self, instance_id: str, repository: str, tag: str) -> bool:
        with self._lock:
            repo = self._repos.get((instance_id, repository))
            return bool(repo) and repo.tags.pop(tag, None) is not None

    def reset(self) -> None:
        with self._lock:
            self._repos.clear()
