"""acrx's ownership mark, in one place: what it is for each kind of resource, how it is written,
how it is read, and the adoption rule.

The rule: acrx marks only what it creates, and marks it in the same call that creates it
wherever the API takes a mark there, so no moment exists where the thing is there without
it (a lost answer retried then finds its own mark). Something acrx finds in place, or that
appears between plan and apply (EntityAlreadyExists), is adopted: acrx may add to it (a
trust statement, a policy version) but never adds its mark, so destroy leaves it in place and
the destroy plan says "adopted, kept".

    resource                          mark                                   written
    RAM role                          tag acrx:managed=true                  CreateRole Tag
    RAM custom policy                 the same tag, and Description "acrx: " CreatePolicy Tag, Description
    RAM user (access-key mode)        Comments "acrx: ..."                   CreateUser Comments (no Tag
                                                                             parameter in RAM 2015-05-01)
    its AccessKeys                    the user's mark: keys of acrx's user are acrx's
    VPC peering, CEN                  the tag                                Create* Tag
    a vSwitch (--create-zone-vswitch) the tag, and the name "acrx-..."          CreateVSwitch Tag
    PrivateZone zone                  the tag                                TagResources right after AddZone
                                                                             (AddZone takes no resource tag);
                                                                             a cluster record bridges the two
    routes, TR attachments, records,  name or description "acrx-..."         the create call
    CR ACL entries
    verify's Deployment               label app.kubernetes.io/managed-by=acrx  the create call
    the credential helper addon,      a record in ConfigMap                  BEFORE the create call, so a
    acr-configuration when acrx        kube-system/acrx-ownership            run that dies half-way still
    created it, account B's internet   (cluster side, in the cloud, never    leaves the mark destroy needs
    endpoint when acrx switched it on  only on the local disk)

Why the internet endpoint's record lives in the cluster's ConfigMap: CR 2018-12-01 has
TagResources for instances, but a tag on the instance would mark account B's shared instance,
not the endpoint switch; the record names the registry instance and the cluster it was switched
on for, beside the only consumer acrx knows about.
"""

from __future__ import annotations

import json
import time
from typing import Any

from acrx import facts

TAGS = {facts.MARK_TAG_KEY: facts.MARK_TAG_VALUE}
ADOPTED = "adopted: not created by acrx, so acrx never deletes it"
ADOPTED_KEPT = "adopted, kept: it has no acrx ownership mark, so acrx did not create it"

# -- the cluster-side record ------------------------------------------------------------------------
RECORD_NAMESPACE = "kube-system"
RECORD_NAME = "acrx-ownership"
RECORD_LABELS = {"app.kubernetes.io/managed-by": "acrx"}
RECORD_ANNOTATIONS = {
    "acrx.io/ownership": "what acrx created for this cluster where the resource takes no tag; "
                         "`acrx destroy` reads it. Each key is an acrx address, written before the "
                         "thing was created.",
}
_MEMO = "k8s:acrx-ownership"

# -- verify's Deployment ----------------------------------------------------------------------------
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "acrx"


# -- tags and text prefixes ---------------------------------------------------------------------------
def description(purpose: str) -> str:
    """A RAM Description / Comments that carries acrx's mark."""
    return f"{facts.MARK_TEXT_PREFIX} {purpose}"


def text_marked(text: str | None) -> bool:
    return (text or "").startswith(facts.MARK_TEXT_PREFIX)


def tags_marked(tags) -> bool:
    return dict(tags or ()).get(facts.MARK_TAG_KEY) == facts.MARK_TAG_VALUE


def role_owned(tags) -> bool:
    return tags_marked(tags)


def policy_owned(policy_description: str | None, tags) -> bool:
    """Tagged at creation; policies made before tags were sent carry only the Description."""
    return tags_marked(tags) or text_marked(policy_description)


def user_owned(comments: str | None) -> bool:
    return text_marked(comments)


def label_marked(labels) -> bool:
    return dict(labels or ()).get(MANAGED_BY_LABEL) == MANAGED_BY_VALUE


# -- network names and descriptions ----------------------------------------------------------------
def marked_name(*parts: str) -> str:
    return facts.MARK_PREFIX + "-".join(p for p in parts if p)


def is_marked(name: str = "", tags=None, description: str = "") -> bool:
    return tags_marked(tags) or (name or "").startswith(facts.MARK_PREFIX) or (
        description or "").startswith(facts.MARK_PREFIX)


def keep_reason(marked: bool, what: str) -> str:
    """No-op reasons: what acrx made is "managed"; anything else found in place is "adopted"."""
    return f"{what} (acrx-managed)" if marked else f"adopted: {what}"


# -- the cluster-side record: write before creating, read at destroy, drop after deleting -------------
def endpoint_record(instance_id: str) -> str:
    """The record of account B's internet endpoint acrx switched on, named by its instance."""
    return f"cr.endpoint.internet.{instance_id}"


def record_key(address: str) -> str:
    """ConfigMap keys allow [-._a-zA-Z0-9]; an address may hold '/'."""
    return address.replace("/", "_")


def records(ctx) -> dict[str, dict]:
    """{record key: details} from the cluster's record; {} when there is none. Read once a run."""
    def read() -> dict[str, dict]:
        live = ctx.kube().get_configmap(RECORD_NAMESPACE, RECORD_NAME)
        out: dict[str, dict] = {}
        for key, text in ((live or {}).get("data") or {}).items():
            try:
                value = json.loads(text)
            except ValueError:
                value = None
            out[key] = value if isinstance(value, dict) else {"raw": text}
        return out

    return ctx.memo(_MEMO, read)


def recorded(ctx, address: str) -> dict | None:
    return records(ctx).get(record_key(address))


def record(ctx, address: str, **details: Any) -> None:
    """Write acrx's mark for `address` into the cluster's record, before the thing is created.
    Idempotent; other keys of the record are untouched (a strategic-merge patch of one key)."""
    from acrx.kube.errors import KubeError

    from acrx.steps.applied import stamp   # the settings it was applied under (mode, network, route_to, ...)

    config = ctx.config
    value = json.dumps({"address": address, "cluster": config.cluster.id, **stamp(config),
                        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                        **details}, sort_keys=True, separators=(",", ":"))
    key = record_key(address)
    kube = ctx.kube()
    try:
        # Another step of the run may create the record (conflict: patch it) or delete it as its
        # last key goes (drop(): not found, create it again) between our two calls: go round.
        for attempt in range(5):
            try:
                kube.patch_configmap_data(RECORD_NAMESPACE, RECORD_NAME, {key: value})
                return
            except KubeError as exc:
                if not exc.not_found or attempt == 4:
                    raise
            try:
                kube.create_configmap(RECORD_NAMESPACE, RECORD_NAME, {key: value}, labels=RECORD_LABELS,
                                      annotations=RECORD_ANNOTATIONS)
                return
            except KubeError as exc:
                if not exc.conflict or attempt == 4:
                    raise
    finally:
        ctx.forget(_MEMO)


def drop(ctx, address: str) -> None:
    """Remove the record of `address` once the thing is gone; the record itself goes when empty."""
    from acrx.kube.errors import KubeError

    kube = ctx.kube()
    key = record_key(address)
    try:
        for _ in range(5):
            live = kube.get_configmap(RECORD_NAMESPACE, RECORD_NAME)
            data = (live or {}).get("data") or {}
            if key not in data:
                return
            if set(data) != {key}:
                kube.patch_configmap_data(RECORD_NAMESPACE, RECORD_NAME, {key: None})
                return
            # The last key: delete the record, but only as read. Another step of the same run may
            # be writing its own key right now (a parallel create); then read again.
            version = (live.get("metadata") or {}).get("resourceVersion")
            try:
                kube.call(f"delete configmap {RECORD_NAMESPACE}/{RECORD_NAME}", kube.core.delete_namespaced_config_map,
                          RECORD_NAME, RECORD_NAMESPACE, body={"preconditions": {"resourceVersion": version}})
                return
            except KubeError as exc:
                if exc.not_found:
                    return
                if not exc.conflict:
                    raise
        kube.patch_configmap_data(RECORD_NAMESPACE, RECORD_NAME, {key: None})   # busy: leave it empty
    finally:
        ctx.forget(_MEMO)
