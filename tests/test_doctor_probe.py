"""`acrx doctor`'s registry probe with a key acrx is handed (access-key mode): GetAuthorizationToken
with that key, then the v2 token dance and a manifest read against the sandbox registry."""

from __future__ import annotations

import json

from tests.sandbox_fixture import running_sandbox


def test_doctor_probes_the_registry_with_the_access_key(tmp_path, run_cli, monkeypatch):
    monkeypatch.setenv("ACRX_STATE_DIR", str(tmp_path / "state"))
    with running_sandbox(tmp_path, mode="access-key", network="public") as sb:
        setup = run_cli("--sandbox", sb.dir, "setup", "-f", sb.config_path, "--yes", "--no-verify",
                        "--allow-plaintext-access-key")
        assert setup.exit_code == 0, setup.stderr[-2000:]
        user = f"acrx-pull-{sb.seeded.cluster_id}"
        (key,) = sb.world.backend("ram", sb.seeded.account_b, "global").access_keys(user)
        monkeypatch.setenv("ACRX_ADDON_ACCESS_KEY_ID", key.access_key_id)
        monkeypatch.setenv("ACRX_ADDON_ACCESS_KEY_SECRET", key.secret)

        result = run_cli("--sandbox", sb.dir, "doctor", "-f", sb.config_path, "-o", "json")
        assert result.exit_code == 0, result.stdout[-2000:] + result.stderr[-2000:]
        assert key.secret not in result.stdout + result.stderr
        layers = {layer["name"]: layer for layer in json.loads(result.stdout)["data"]["layers"]}
        probe = next(layer for name, layer in layers.items() if "probe" in name or "registry" in name)
        assert probe["ok"] is True, probe
        assert "sha256:" in json.dumps(probe)


def test_verify_alone_passes_in_access_key_mode(tmp_path, run_cli, monkeypatch):
    """Verify only reads: it asks no consent for a key it never writes."""
    monkeypatch.setenv("ACRX_STATE_DIR", str(tmp_path / "state"))
    with running_sandbox(tmp_path, mode="access-key", network="peering") as sb:
        setup = run_cli("--sandbox", sb.dir, "setup", "-f", sb.config_path, "--yes", "--no-verify",
                        "--allow-plaintext-access-key")
        assert setup.exit_code == 0, setup.stderr[-2000:]
        result = run_cli("--sandbox", sb.dir, "verify", "-f", sb.config_path)
        assert result.exit_code == 0, result.stdout[-2000:] + result.stderr[-2000:]
        assert "Successfully pulled image" in result.stdout and "Image size: " in result.stdout
