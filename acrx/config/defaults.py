"""Deterministic default names: the cloud is the state, so names come from the ids alone."""

from __future__ import annotations

from acrx import facts

DEFAULT_CLUSTER_ACCOUNT = "cluster"
DEFAULT_REGISTRY_ACCOUNT = "registry"
DEFAULT_CONFIG_FILE = "acrx.yaml"

# Names of the environment variables an `env` credential source reads by default: the ones
# the Alibaba Cloud credentials chain reads.
DEFAULT_ENV_ACCESS_KEY_ID = "ALIBABA_CLOUD_ACCESS_KEY_ID"
DEFAULT_ENV_ACCESS_KEY_SECRET = "ALIBABA_CLOUD_ACCESS_KEY_SECRET"
# access-key mode: where the AccessKey of acrx's pull user (the one written into the ConfigMap)
# comes from. Named after `addon.access_key`, and unlike any name an account's credential source
# uses: the earlier ACRX_REGISTRY_* defaults were the names users gave account B's own deploy key,
# which then landed in the ConfigMap (see acrx.config.crossing).
DEFAULT_AK_ID_ENV = "ACRX_ADDON_ACCESS_KEY_ID"
DEFAULT_AK_SECRET_ENV = "ACRX_ADDON_ACCESS_KEY_SECRET"


def cluster_role_name(cluster_id: str) -> str:
    return f"acrx-rrsa-{cluster_id}"


def registry_role_name(cluster_id: str) -> str:
    return f"acrx-pull-{cluster_id}"


def pull_policy_name(instance_id: str) -> str:
    return f"acrx-pull-{instance_id}"


def assume_policy_name(cluster_id: str) -> str:
    return f"acrx-assume-{cluster_id}"


def access_key_user_name(cluster_id: str) -> str:
    """The RAM user in the registry account that holds the AccessKey (access-key mode)."""
    return f"acrx-pull-{cluster_id}"


def addon_flavour(mode: str) -> str:
    return facts.DEFAULT_FLAVOUR_FOR_MODE[mode]


def token_mode(mode: str) -> str:
    return facts.TOKEN_MODE_FOR_MODE[mode]
