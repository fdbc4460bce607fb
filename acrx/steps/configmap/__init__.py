"""The kube-system/acr-configuration step of the self-managed credential helper."""

from acrx.steps.configmap.step import ADDRESS, ConfigMapStep  # noqa: F401
