"""Namespaces, repositories and tags of an ACR EE instance.

Tags come either from a fixed {tag: (digest, size)} map or, when a scenario passes the
registry's ImageStore, from that store at every read, so ListRepoTag and the registry agree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from acrx.sandbox.core.errors import ApiError

NAMESPACE_NOT_EXIST = "NAMESPACE_NOT_EXIST"
REPO_NOT_EXIST = "REPO_NOT_EXIST"


@dataclass
class Namespace:
    namespace_id: str
    name: str
    instance_id: str


@dataclass
class Repository:
    repo_id: str
    namespace: str
    name: str
    instance_id: str
    created: float
    static_tags: dict[str, tuple[str, int]] = field(default_factory=dict)
    store: object = field(default=None, repr=False)

    def tags(self) -> dict[str, tuple[str, int]]:
        """tag -> (manifest digest, image size: config plus layers, as the registry holds it)."""
        if self.store is None:
            return dict(self.static_tags)
        name = f"{self.namespace}/{self.name}"
        found = {}
        for tag in self.store.tags(self.instance_id, name) or []:
            manifest = self.store.manifest(self.instance_id, name, tag)
            if manifest is None:
                continue
            doc = json.loads(manifest.data)
            size = doc.get("config", {}).get("size", 0) + sum(layer.get("size", 0) for layer in doc.get("layers", []))
            found[tag] = (manifest.digest, size)
        return found

    def summary(self) -> dict:
        created = int(self.created * 1000)
        return {"RepoId": self.repo_id, "RepoName": self.name, "RepoNamespaceName": self.namespace,
                "InstanceId": self.instance_id, "RepoType": "PRIVATE", "RepoStatus": "NORMAL",
                "RepoBuildType": "MANUAL", "Summary": "", "TagImmutability": False, "ResourceGroupId": "",
                "CreateTime": created, "ModifiedTime": created}


def add_namespace(world, instance, name: str) -> Namespace:
    namespace = instance.namespaces.get(name)
    if namespace is None:
        namespace = Namespace("crn-" + world.ids.alnum(16), name, instance.instance_id)
        instance.namespaces[name] = namespace
    return namespace


def add_repository(world, instance, namespace: str, name: str, tags: dict, store) -> Repository:
    add_namespace(world, instance, namespace)
    repo = Repository("crr-" + world.ids.alnum(16), namespace, name, instance.instance_id, world.clock.now(),
                      {tag: (digest, int(size)) for tag, (digest, size) in tags.items()}, store)
    instance.repositories[(namespace, name)] = repo
    return repo


def page(items: list, page_no: int | None, page_size: int | None) -> tuple[list, int, int]:
    page_no, page_size = page_no or 1, page_size or 30
    return items[(page_no - 1) * page_size: page_no * page_size], page_no, page_size


def list_namespaces(instance, name: str | None) -> list[dict]:
    return [{"NamespaceId": ns.namespace_id, "NamespaceName": ns.name, "InstanceId": ns.instance_id,
             "NamespaceStatus": "NORMAL", "AutoCreateRepo": False, "DefaultRepoType": "PRIVATE",
             "ResourceGroupId": ""}
            for ns in instance.namespaces.values() if not name or ns.name == name]


def list_repositories(instance, namespace: str | None, name: str | None) -> list[dict]:
    if namespace and namespace not in instance.namespaces:
        raise ApiError(NAMESPACE_NOT_EXIST, f"The namespace {namespace} does not exist.", 404)
    return [repo.summary() for repo in instance.repositories.values()
            if (not namespace or repo.namespace == namespace) and (not name or repo.name == name)]


def find_repository(instance, repo_id: str | None, namespace: str | None, name: str | None) -> Repository:
    for repo in instance.repositories.values():
        if (repo_id and repo.repo_id == repo_id) or (not repo_id and repo.namespace == namespace and repo.name == name):
            return repo
    raise ApiError(REPO_NOT_EXIST, "The repository does not exist.", 404)


def list_tags(repo: Repository) -> list[dict]:
    created = str(int(repo.created * 1000))
    images = []
    for tag, (digest, size) in sorted(repo.tags().items()):
        bare = digest.split(":", 1)[-1]   # [?] ACR shows digests without the "sha256:" prefix
        images.append({"Tag": tag, "Digest": bare, "ImageId": bare[:64], "ImageSize": size, "Status": "NORMAL",
                       "ImageCreate": created, "ImageUpdate": created})
    return images
