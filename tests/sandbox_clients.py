"""Helpers that build official SDK clients pointed at a running sandbox server."""

from __future__ import annotations

import importlib


def tea_config(endpoint: str, access_key_id: str | None, secret: str | None, *, token: str | None = None,
               region: str = "cn-hangzhou", credential=None):
    from alibabacloud_tea_openapi import models as open_api_models

    kwargs = dict(endpoint=endpoint, protocol="http", region_id=region, read_timeout=10000, connect_timeout=5000)
    if credential is not None:
        kwargs["credential"] = credential
    else:
        kwargs.update(access_key_id=access_key_id, access_key_secret=secret, security_token=token)
    return open_api_models.Config(**kwargs)


def sdk_client(product_module: str, endpoint: str, key, *, region: str = "cn-hangzhou", credential=None):
    """`product_module` like 'alibabacloud_ram20150501'; `key` is a sandbox Credential or (id, secret[, token])."""
    module = importlib.import_module(product_module + ".client")
    if credential is None:
        if hasattr(key, "access_key_id"):
            ak, sk, token = key.access_key_id, key.secret, key.security_token
        else:
            ak, sk, token = (tuple(key) + (None,))[:3]
        config = tea_config(endpoint, ak, sk, token=token, region=region)
    else:
        config = tea_config(endpoint, None, None, region=region, credential=credential)
    return module.Client(config)
