"""CS routes (ROA, 2015-12-15): thin handlers, in the field names of the SDK's response models."""

from __future__ import annotations

from acrx.sandbox.core.errors import ApiError
from acrx.sandbox.core.routing import Response, Router
from acrx.sandbox.services.cs import models, models_addons

router = Router("cs", "2015-12-15", product="cs")


def _cluster_arn(req) -> str:
    """`acs:cs:<region>:<account>:cluster/<id>`, the resource RAM checks CS cluster actions on."""
    cluster_id = req.path_params.get("ClusterId", "")
    cluster = models.find_cluster(req.world, cluster_id)
    region = cluster.region if cluster is not None else (req.region or "*")
    return f"acs:cs:{region}:{req.account}:cluster/{cluster_id}"


def _cluster(req) -> models.Cluster:
    return models.owned_cluster(req.world, req.account, req.path_params["ClusterId"])


def _task_answer(cluster: models.Cluster, task: models.Task, req) -> dict:
    return {"cluster_id": cluster.cluster_id, "request_id": req.request_id, "task_id": task.task_id}


@router.roa("GET", "/clusters/{ClusterId}", "DescribeClusterDetail", writes=False, resource=_cluster_arn)
def describe_cluster_detail(req):
    return models.describe_cluster(_cluster(req), req.world)


@router.roa("PUT", "/api/v2/clusters/{ClusterId}", "ModifyCluster", writes=True, resource=_cluster_arn)
def modify_cluster(req):
    body = req.json_body() or {}
    if not isinstance(body, dict):
        raise ApiError("InvalidParameter", "The request body must be a JSON object.", 400)
    enable = body.get("enable_rrsa")
    if enable is not None and not isinstance(enable, bool):
        raise ApiError("InvalidParameter", "enable_rrsa must be a boolean.", 400)
    # Only enable_rrsa is modelled; the sandbox ignores the other cluster settings.
    cluster = _cluster(req)
    return _task_answer(cluster, cluster.modify(enable), req)


@router.roa("GET", "/tasks/{task_id}", "DescribeTaskInfo", writes=False)
def describe_task_info(req):
    task, cluster = models.owned_task(req.world, req.account, req.path_params["task_id"])
    return models.describe_task(task, cluster, req.world)


@router.roa("POST", "/clusters/{ClusterId}/components/install", "InstallClusterAddons", writes=True,
            resource=_cluster_arn)
def install_cluster_addons(req):
    cluster = _cluster(req)
    return _task_answer(cluster, models_addons.install(cluster, req.json_body()), req)


@router.roa("POST", "/clusters/{ClusterId}/components/uninstall", "UnInstallClusterAddons", writes=True,
            resource=_cluster_arn)
def uninstall_cluster_addons(req):
    cluster = _cluster(req)
    return _task_answer(cluster, models_addons.uninstall(cluster, req.json_body()), req)


@router.roa("GET", "/clusters/{ClusterId}/addon_instances", "ListClusterAddonInstances", writes=False,
            resource=_cluster_arn)
def list_cluster_addon_instances(req):
    return {"addons": models_addons.list_instances(_cluster(req))}


@router.roa("GET", "/clusters/{ClusterId}/addon_instances/{instance_name}", "GetClusterAddonInstance",
            writes=False, resource=_cluster_arn)
def get_cluster_addon_instance(req):
    return models_addons.get_instance(_cluster(req), req.path_params["instance_name"])


@router.roa("POST", "/clusters/{ClusterId}/components/{component_id}/config", "ModifyClusterAddon",
            writes=True, resource=_cluster_arn)
def modify_cluster_addon(req):
    body = req.json_body() or {}
    if not isinstance(body, dict):
        raise ApiError("InvalidParameter", "The request body must be a JSON object.", 400)
    models_addons.modify_config(_cluster(req), req.path_params["component_id"], body.get("config"))
    return Response(None, 200)   # the SDK expects no body (body_type "none")


@router.roa("GET", "/addons/{addon_name}", "DescribeAddon", writes=False)
def describe_addon(req):
    cluster_id = req.str("cluster_id")
    cluster = models.owned_cluster(req.world, req.account, cluster_id) if cluster_id else None
    return models_addons.describe_addon(req.path_params["addon_name"], cluster)


@router.roa("GET", "/k8s/{ClusterId}/user_config", "DescribeClusterUserKubeconfig", writes=False,
            resource=_cluster_arn)
def describe_cluster_user_kubeconfig(req):
    private = req.bool("PrivateIpAddress", default=False)
    minutes = req.int("TemporaryDurationMinutes", minimum=15, maximum=4320)
    return _cluster(req).user_kubeconfig(private, minutes)


from acrx.sandbox.services.cs import nodepools  # noqa: E402,F401  DescribeClusterNodePools (issue 12)
from acrx.sandbox.services.cs import listing  # noqa: E402,F401  DescribeClustersV1, TagResources (issue 16)
