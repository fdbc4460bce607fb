"""A newcomer's first ten minutes with `acrx init` (issue 14): the file it writes names the
inputs offline commands need (uid, instance_name) as commented lines with a note, leaves
addon.flavour to the mode so `--mode` overrides keep working, and every bad flag or missing
input is reported in one error."""

from __future__ import annotations

import re

import pytest

from acrx.config.loader import load_config


@pytest.mark.parametrize("mode", ["rrsa", "worker-role", "access-key"])
def test_init_comments_the_offline_inputs_and_leaves_the_flavour_to_the_mode(run_cli, tmp_path, mode):
    path = tmp_path / "acrx.yaml"
    result = run_cli("init", "--mode", mode, "--network", "public", "-f", path)
    assert result.exit_code == 0, result.stderr
    text = path.read_text()
    assert re.search(r"^    # uid: \"\d{16}\"   # account A's id$", text, re.M)
    assert re.search(r"^    # uid: \"\d{16}\"   # account B's id$", text, re.M)
    assert "uncomment it" in text and "`acrx render` needs it" in text
    assert re.search(r"^    # instance_name: acme .*acrx render", text, re.M)
    assert re.search(r"^  # flavour: ", text, re.M) and not re.search(r"^  flavour:", text, re.M)
    assert not re.search(r"^  token_mode:", text, re.M)
    for other in ("rrsa", "worker-role", "access-key"):     # --mode still overrides the file
        config = load_config(path, {"mode": other})
        assert config.mode == other and config.addon_flavour == ("managed" if other == "rrsa" else "self-managed")


def test_init_reports_every_bad_flag_in_one_error(run_cli, tmp_path):
    path = tmp_path / "acrx.yaml"
    result = run_cli("init", "--mode", "rrsa2", "--network", "vcp", "--region", "cn hangzhou", "-f", path)
    assert result.exit_code == 2 and not path.exists()
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: 3 flags are wrong: ")
    for flag in ("--mode: 'rrsa2'", "--network: 'vcp'", "--region: 'cn hangzhou'"):
        assert flag in lines[0]


def test_render_after_init_names_every_missing_input_at_once(run_cli, tmp_path):
    path = tmp_path / "acrx.yaml"
    assert run_cli("init", "-f", path).exit_code == 0
    result = run_cli("render", "configmap", "-f", path)
    assert result.exit_code == 2
    line = result.stderr.strip()
    assert line.startswith("error: 3 inputs are missing: ") and "\n" not in line
    for name in ("--cluster-uid", "accounts.cluster.uid", "--registry-uid", "accounts.registry.uid",
                 "--instance-name", "instance_name"):
        assert name in line
    # Uncommenting what init wrote is enough.
    text = path.read_text().replace("    # uid:", "    uid:").replace("    # instance_name:", "    instance_name:")
    path.write_text(text)
    rendered = run_cli("render", "configmap", "-f", path)
    assert rendered.exit_code == 0, rendered.stderr
    assert "acs:ram::6543210987654321:role/" in rendered.stdout and "acme-registry-vpc." in rendered.stdout
