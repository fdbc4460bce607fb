"""Every change kind the steps can emit has a typed payload model (acrx/plan/payloads.py), and
the plans the steps really make fit those models: a saved plan of each mode and network loads."""

from __future__ import annotations

import json

import pytest

from acrx.plan.payloads import PAYLOADS
from acrx.plan.plan import Plan
from tests.sandbox_fixture import running_sandbox

pytestmark = pytest.mark.timeout(240)

NO_OP_ONLY = {"keep"}   # the destroy plans' "stays" changes: never applied, so no handler


def _handler_kinds(sb) -> set[str]:
    from acrx.cloud.sandbox_target import SandboxTarget
    from acrx.cloud.session import CloudSession
    from acrx.config.loader import load_config
    from acrx.steps import registry
    from acrx.steps.context import StepContext

    config = load_config(sb.config_path, {})
    ctx = StepContext(config, CloudSession(config, SandboxTarget.load(sb.dir)))
    kinds: set[str] = set()
    for spec in registry.STEPS:
        for network in ("public", "peering", "cen", "none"):
            kinds |= set(spec.build(network).handlers(ctx))
    for spec in registry.DESTROYERS:
        kinds |= set(spec.handlers(ctx))
    return kinds


def test_every_kind_a_step_applies_has_a_payload_model_and_no_model_is_stale(tmp_path):
    with running_sandbox(tmp_path, mode="access-key", network="cen") as sb:
        kinds = _handler_kinds(sb)
    assert kinds, "no handlers found"
    assert sorted(kinds - set(PAYLOADS)) == []
    assert sorted(set(PAYLOADS) - kinds - NO_OP_ONLY) == []


@pytest.mark.parametrize("mode, network", [("rrsa", "cen"), ("access-key", "peering"), ("worker-role", "public")])
def test_the_plans_steps_make_fit_their_payload_models(tmp_path, run_cli, monkeypatch, mode, network):
    monkeypatch.setenv("ACRX_STATE_DIR", str(tmp_path / "state"))
    flags = ["--allow-plaintext-access-key"] if mode == "access-key" else []
    with running_sandbox(tmp_path, mode=mode, network=network) as sb:
        out = tmp_path / "p.json"
        result = run_cli("--sandbox", sb.dir, "plan", "-f", sb.config_path, "--out", out, *flags)
        assert result.exit_code == 0, result.stderr[-2000:]
    raw = json.loads(out.read_text())
    plan = Plan.from_dict(raw)         # checks every change's data against its kind's model
    applied = [c for c in plan.changes if not c.is_noop]
    assert applied and all(c.kind in PAYLOADS for c in plan.changes)
    assert all(c.data for c in applied), [c.address for c in applied if not c.data]
