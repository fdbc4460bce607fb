"""`-o json` prints exactly one versioned envelope on stdout, for a dry run and for an apply."""

from __future__ import annotations

import json

from tests.sandbox_fixture import running_sandbox


def test_setup_json_is_one_envelope_with_plan_result_and_verify(tmp_path, run_cli):
    with running_sandbox(tmp_path, network="public") as sb:
        result = run_cli("--sandbox", sb.dir, "setup", "-f", sb.config_path, "--yes", "-o", "json")
        assert result.exit_code == 0, result.stderr[-2000:]
        envelope = json.loads(result.stdout)
        assert envelope["apiVersion"] == "acrx/v1" and envelope["kind"] == "ApplyResult"
        data = envelope["data"]
        assert data["plan"]["summary"]["has_changes"] is True
        assert "cs.rrsa" in [a["address"] for a in data["result"]["applied"]]
        assert data["verify"]["ok"] is True and "Successfully pulled image" in data["verify"]["pulled"]

        again = run_cli("--sandbox", sb.dir, "plan", "-f", sb.config_path, "-o", "json", "--detailed-exitcode")
        assert again.exit_code == 0
        assert json.loads(again.stdout)["data"]["summary"]["has_changes"] is False


def test_a_failing_verify_after_setup_still_prints_one_envelope(tmp_path, run_cli):
    with running_sandbox(tmp_path, network="public") as sb:
        missing = f"{sb.seeded.domain_public}/{sb.seeded.image_repo}:no-such-tag"
        sb.write_config(network="public", verify={"image": missing})
        result = run_cli("--sandbox", sb.dir, "setup", "-f", sb.config_path, "--yes", "-o", "json")
        assert result.exit_code == 4, result.stderr[-2000:]
        data = json.loads(result.stdout)["data"]
        assert data["result"]["applied"]
        assert data["verify"]["ok"] is False and data["verify"]["failed_layer"]
