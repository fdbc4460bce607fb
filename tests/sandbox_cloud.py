"""What the sandbox service tests share: a world of two accounts served over HTTP, the error an
official SDK client raises, and polling until something happens."""

from __future__ import annotations

import contextlib
import time

import pytest

from acrx.sandbox.core.server import CloudServer
from acrx.sandbox.core.world import World


def two_accounts(seed: int, region: str = "cn-hangzhou", b_region: str | None = None, *, clock_scale: float = 0.0):
    """(world, a, b): account a "cluster" and account b "registry"."""
    world = World(seed=seed, clock_scale=clock_scale)
    return world, world.add_account("cluster", region), world.add_account("registry", b_region or region)


@contextlib.contextmanager
def serving(world: World):
    """The world's cloud API on a local port for the duration of the block."""
    server = CloudServer(world).start()
    try:
        yield server
    finally:
        server.stop()


def api_error(call):
    """The ClientException an SDK call raises (the test fails when it raises nothing)."""
    from alibabacloud_tea_openapi.exceptions import ClientException

    with pytest.raises(ClientException) as info:
        call()
    return info.value


def error_code(call) -> tuple[str, int]:
    """(code, HTTP status) of the error an SDK call raises."""
    err = api_error(call)
    return err.code, err.status_code


def expect_error(call, code: str, status: int):
    err = api_error(call)
    assert (err.code, err.status_code) == (code, status), err.message
    return err


def wait_for(predicate, what: str = "condition", timeout: float = 120.0):
    """Poll `predicate` every 50 ms; its first truthy value, or AssertionError after `timeout`.
    The deadline is generous on purpose (a busy 2-core machine once needed more than 15 s); a
    predicate that holds ends the wait at once."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
