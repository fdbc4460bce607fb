"""The account's cluster list with tags (DescribeClustersV1) and tagging (TagResources).

Wire shapes from the SDK's models (alibabacloud_cs20151215 7.x): DescribeClustersV1 is
GET /api/v1/clusters with query `region_id`, `cluster_id`, `name`, `cluster_type`, `profile`,
`cluster_spec`, `page_number`, `page_size`, answering {"clusters": [...], "page_info":
{"page_number", "page_size", "total_count"}}, each cluster in DescribeClusterDetail's field names
with `tags` as a list of the SDK's Tag model ({"key", "value"}). TagResources is PUT /tags with a
JSON body {"region_id", "resource_ids", "resource_type": "CLUSTER", "tags": [Tag]} and answers
{"request_id"}.

RAM: the API reference ("DescribeClustersV1", Authorization information) names the action
cs:GetClusters on acs:cs:*:<account>:cluster/*, not the API name; the sandbox checks that.
TagResources is checked as cs:TagResources on each cluster's ARN.

Without region_id the list holds the account's clusters in every region (the parameter is
documented as a filter). [?] the page_size default and maximum are not documented: 10 (the
reference's example value) and 100 are taken, a larger page is refused (the stricter reading).
"""

from __future__ import annotations

from acrx.sandbox.core.errors import ApiError
from acrx.sandbox.services.cs import models
from acrx.sandbox.services.cs.api import router

DEFAULT_PAGE_SIZE = 10        # [?] the reference's example value
MAX_PAGE_SIZE = 100           # [?] not documented; larger pages are refused
MAX_RESOURCES = 50            # TagResourcesRequest.resource_ids: "up to 50 resource IDs"
MAX_TAGS = 20                 # TagResourcesRequest.tags: "up to 20 tag key-value pairs"; [?] also per cluster
MAX_TAG_TEXT = 128            # "can be up to 128 characters in length"
RESERVED_PREFIXES = ("aliyun", "acs:")   # "cannot start with aliyun or acs:"; [?] keys too (stricter)


def _invalid(message: str) -> ApiError:
    return ApiError("InvalidParameter", message, 400)


def _clusters_of(world, account: str) -> list[models.Cluster]:
    found = []
    for backend in world.backends("cs"):
        if backend.account == account:
            found += list(backend.clusters.values())
    return sorted(found, key=lambda c: (c.created, c.cluster_id))   # oldest first, a stable order


def _matches(cluster: models.Cluster, req) -> bool:
    wanted = {"region_id": cluster.region, "cluster_id": cluster.cluster_id, "cluster_type": cluster.cluster_type,
              "profile": cluster.profile, "cluster_spec": cluster.cluster_spec}
    for key, value in wanted.items():
        given = req.str(key)
        if given is not None and given != value:
            return False
    name = req.str("name")
    return name is None or name in cluster.name     # "Fuzzy match is supported" (the SDK's request model)


@router.roa("GET", "/api/v1/clusters", "DescribeClustersV1", writes=False, authorize=False)
def describe_clusters_v1(req):
    req.authorize("cs:GetClusters", f"acs:cs:*:{req.account}:cluster/*")
    page = req.int("page_number", default=1, minimum=1, maximum=1_000_000)
    size = req.int("page_size", default=DEFAULT_PAGE_SIZE, minimum=1, maximum=MAX_PAGE_SIZE)
    rows = [c for c in _clusters_of(req.world, req.account) if _matches(c, req)]
    chosen = rows[(page - 1) * size: page * size]
    return {"clusters": [models.describe_cluster(c, req.world) for c in chosen],
            "page_info": {"page_number": page, "page_size": size, "total_count": len(rows)}}


def _tags(raw) -> dict:
    if not isinstance(raw, list) or not raw:
        raise _invalid("tags is required: a list of {key, value}.")
    if len(raw) > MAX_TAGS:
        raise _invalid(f"At most {MAX_TAGS} tags may be given.")
    out = {}
    for tag in raw:
        key = tag.get("key") if isinstance(tag, dict) else None
        value = tag.get("value", "") if isinstance(tag, dict) else None
        if not isinstance(key, str) or not key or not isinstance(value, str):
            raise _invalid("Each tag needs a string key and value.")
        for text in (key, value):
            if len(text) > MAX_TAG_TEXT or text.startswith(RESERVED_PREFIXES) or "http://" in text \
                    or "https://" in text:
                raise _invalid(f"The tag {text!r} is not allowed: at most {MAX_TAG_TEXT} characters, not starting "
                               "with aliyun or acs:, without http:// or https://.")
        out[key] = value
    return out


@router.roa("PUT", "/tags", "TagResources", writes=True, authorize=False)
def tag_resources(req):
    body = req.json_body() or {}
    if not isinstance(body, dict):
        raise _invalid("The request body must be a JSON object.")
    region, kind, ids = body.get("region_id"), body.get("resource_type"), body.get("resource_ids")
    if not region:
        raise ApiError("MissingParameter", "region_id is required.", 400)
    if kind != "CLUSTER":
        raise _invalid("resource_type must be CLUSTER.")
    if not isinstance(ids, list) or not ids or len(ids) > MAX_RESOURCES:
        raise _invalid(f"resource_ids must list 1 to {MAX_RESOURCES} cluster ids.")
    tags = _tags(body.get("tags"))
    clusters = []
    for cluster_id in ids:
        cluster = models.owned_cluster(req.world, req.account, str(cluster_id))
        if cluster.region != region:   # a cluster of another region is not found there
            raise ApiError(models.CLUSTER_NOT_FOUND, f"cluster {cluster_id} not found", 404)
        req.authorize("cs:TagResources", f"acs:cs:{cluster.region}:{req.account}:cluster/{cluster.cluster_id}")
        if len({**cluster.tags, **tags}) > MAX_TAGS:
            raise _invalid(f"A cluster holds at most {MAX_TAGS} tags.")
        clusters.append(cluster)
    for cluster in clusters:          # all or nothing: every id was checked first
        cluster.tags.update(tags)
    return {"request_id": req.request_id}
