"""`setup --plan FILE`: read a saved plan, and take the settings that shaped it from the file.

A saved plan records every setting it was made under (mode, network, --route-to, ...). Applying
it needs none of those flags again; a flag given anyway must agree with the file, or the run is
refused (exit 2) naming the flag, because applying under other settings would not be the
reviewed plan.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

from acrx.errors import UsageError

# setting -> the flag that sets it. `mode` and `network` are the effective values (file or flag).
SETTING_FLAGS = {
    "mode": "--mode",
    "network": "--network",
    "route_to": "--route-to",
    "assume_policy": "--assume-policy",
    "pull_policy_scope": "--pull-policy-scope",
    "allow_plaintext_access_key": "--allow-plaintext-access-key",
    "allow_foreign_access_key": "--allow-foreign-access-key",
    "allow_any_source": "--allow-any-source",
    "create_zone_vswitch": "--create-zone-vswitch",
}

MAX_PLAN_BYTES = 16 * 1024 * 1024


def read_saved_plan(path: Path):
    """The Plan in `path`, refused (exit 2, field --plan) when unreadable, edited or incomplete."""
    from acrx.plan.plan import Plan

    try:
        if path.stat().st_size > MAX_PLAN_BYTES:
            raise ValueError(f"it is larger than {MAX_PLAN_BYTES // (1024 * 1024)} MiB")
        raw = json.loads(path.read_text(encoding="utf-8"))
        plan = Plan.from_dict(raw)
    except OSError as exc:
        raise UsageError(f"cannot read the saved plan {path}: {exc.strerror or exc}", field="--plan") from None
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise UsageError(f"{path} is refused: {' '.join(str(exc).split())}", field="--plan",
                         hint=f"make it again with `acrx plan --out {path}` and do not edit it") from None
    missing = [name for name in SETTING_FLAGS if name not in plan.settings]
    if missing:
        raise UsageError(f"{path} is refused: it does not record the setting {missing[0]}", field="--plan",
                         hint=f"make it again with `acrx plan --out {path}`")
    plan.source = str(path)
    return plan


def settings_for(saved_settings: Mapping[str, Any], flags: Mapping[str, Any], given: set[str]) -> dict[str, Any]:
    """The settings to apply a saved plan under: the file's, with each flag in `given` (set on
    the command line) checked against them."""
    for name, flag in SETTING_FLAGS.items():
        if name in given and flags.get(name) != saved_settings.get(name):
            raise UsageError(f"the saved plan was made with {_show(flag, saved_settings.get(name))}, "
                             f"not {_show(flag, flags.get(name))}", field=flag,
                             hint=f"drop {flag}: `setup --plan` applies the plan under the settings it was made with")
    return {name: saved_settings.get(name) for name in SETTING_FLAGS}


def _show(flag: str, value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return f"{flag} {'on' if value else 'off'}" if isinstance(value, bool) else f"no {flag}"
    return f"{flag} {value}"


def given_flags(ctx) -> set[str]:
    """The parameters of the current command that were set on the command line (or by env)."""
    try:
        from typer._click.core import ParameterSource   # typer >= 0.20 vendors click
    except ImportError:  # pragma: no cover - an older typer on the real click
        from click.core import ParameterSource

    given = set()
    for name in SETTING_FLAGS:
        try:
            source = ctx.get_parameter_source(name)
        except Exception:  # noqa: BLE001 - not a parameter of this command
            continue
        if source not in (None, ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP):
            given.add(name)
    return given
