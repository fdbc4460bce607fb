"""The live suite runs only against a real account pair, never in CI: it is skipped unless
ACRX_LIVE=1 and every required variable is set (see docs/live-testing.md)."""

from __future__ import annotations

import os

import pytest

REQUIRED = ("ACRX_LIVE_CLUSTER_PROFILE", "ACRX_LIVE_REGISTRY_PROFILE", "ACRX_LIVE_CLUSTER_ID",
            "ACRX_LIVE_INSTANCE_ID")


def live_skip_reason(environ=os.environ) -> str | None:
    """Why the live suite does not run here, or None when it may."""
    if environ.get("ACRX_LIVE") != "1":
        return "live tests run only with ACRX_LIVE=1 (they create and destroy real cloud resources)"
    missing = [name for name in REQUIRED if not environ.get(name)]
    if missing:
        return "ACRX_LIVE=1 but " + ", ".join(missing) + " not set"
    return None


def pytest_collection_modifyitems(config, items):
    reason = live_skip_reason()
    if reason is None:
        return
    marker = pytest.mark.skip(reason=reason)
    for item in items:
        if "/live/" in str(item.fspath).replace(os.sep, "/") and not item.get_closest_marker("offline"):
            item.add_marker(marker)


def pytest_configure(config):
    config.addinivalue_line("markers", "offline: a test of the live suite's own plumbing; runs everywhere")
