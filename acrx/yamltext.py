"""YAML text read with the libyaml safe loader where PyYAML was built with it (the pure-Python
loader took ~6% of a 100-cluster fleet plan's CPU: every kubeconfig and ConfigMap is parsed).
The same safe subset either way; acrx.yaml itself goes through the bounded loader instead
(acrx.config.yaml_bounds)."""

from __future__ import annotations

from typing import Any

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> Any:
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader
