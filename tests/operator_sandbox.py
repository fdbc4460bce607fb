"""A running sandbox with operator identities seeded as `acrx sandbox up --operators` seeds them,
optionally with one action taken out of one rendered policy (to prove each action is needed)."""

from __future__ import annotations

import contextlib
import copy

import yaml

from acrx.cli.commands.sandbox_operators import operator_policies
from acrx.config.loader import load_config
from acrx.sandbox.operators import seed_operators, write_operator_files
from tests.sandbox_fixture import running_sandbox


def without(document: dict, action: str) -> dict:
    """The document with `action` removed from every statement (empty statements dropped)."""
    out = copy.deepcopy(document)
    statements = []
    for st in out["Statement"]:
        st["Action"] = [a for a in st["Action"] if a != action]
        if st["Action"]:
            statements.append(st)
    out["Statement"] = statements
    return out


@contextlib.contextmanager
def operator_sandbox(tmp_path, *, mode: str, network: str, drop: tuple[str, str, str] | None = None):
    """Yields (sandbox, paths); drop = (alias, "read_only" | "full", action) removes that action."""
    with running_sandbox(tmp_path, mode=mode, network=network) as sb:
        config = load_config(sb.config_path, {})
        policies = operator_policies(config)
        if drop is not None:
            alias, which, action = drop
            before = policies[alias][which]
            policies[alias][which] = without(before, action)
            assert policies[alias][which] != before, f"{action} is not in the {alias} {which} policy"
        seeded = seed_operators(sb.world, policies)
        paths = write_operator_files(sb.dir, yaml.safe_load(sb.config_path.read_text()), seeded)
        yield sb, paths
