"""One JSON envelope, always (issue 11, item 8): with `-o json`, stdout is exactly one parseable
JSON document whatever happens, and the exit codes stay as they are. (Interruption under
`-o json` is driven by a real signal in tests/test_interrupt.py.)"""

from __future__ import annotations

import json

import pytest

from tests.sandbox_fixture import running_sandbox

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(autouse=True)
def _state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ACRX_STATE_DIR", str(tmp_path / "state"))


def _one_document(result) -> dict:
    document = json.loads(result.stdout)      # the whole of stdout, or this raises
    assert document["apiVersion"] == "acrx/v1" and document["kind"]
    return document


def test_every_refusal_before_any_apply_is_one_error_envelope(tmp_path, run_cli):
    with running_sandbox(tmp_path, mode="worker-role", network="public") as sb:
        cfg = sb.config_path
        bad_mode = tmp_path / "bad.yaml"
        bad_mode.write_text(cfg.read_text().replace("mode: worker-role", "mode: sideways", 1))
        edited = tmp_path / "p.json"
        assert run_cli("--sandbox", sb.dir, "plan", "-f", cfg, "--out", edited).exit_code == 0
        raw = json.loads(edited.read_text())
        del raw["fingerprint"]
        edited.write_text(json.dumps(raw))
        cases = [
            # (argv, exit code, error.field or None when there is no single field)
            (["plan", "-f", cfg, "--bogus"], 2, "--bogus"),                       # typer's own
            (["plan", "-f", cfg, "--detailed-exitcode", "extra-arg"], 2, None),     # typer's own
            (["plan", "-f", tmp_path / "missing.yaml"], 2, "--file"),
            (["plan", "-f", bad_mode], 2, None),                                   # invalid config
            (["plan", "-f", cfg, "--mode", "sideways"], 2, None),
            (["plan", "-f", cfg, "--out", tmp_path / "no" / "dir" / "p.json"], 2, "--out"),
            (["destroy", "-f", cfg, "--yes", "--detailed-exitcode"], 2, "--detailed-exitcode"),
            (["setup", "-f", cfg, "--yes", "--plan", edited], 2, "--plan"),
            (["setup", "-f", cfg, "--yes", "--plan", tmp_path / "absent.json"], 2, "--plan"),
            (["setup", "-f", cfg, "--plan", edited, "--yes", "--mode", "rrsa"], 2, "--plan"),
        ]
        mark = sb.mark()
        for argv, code, field in cases:
            result = run_cli("--sandbox", sb.dir, *argv, "-o", "json")
            assert result.exit_code == code, (argv, result.stderr)
            document = _one_document(result)
            assert document["kind"] == "Error", argv
            error = document["data"]["error"]
            assert document["data"]["exit_code"] == code
            assert set(error) >= {"code", "message", "field", "hint"}
            assert error["code"] == "usage" and error["message"], argv
            if field:
                assert error["field"] == field, (argv, error)
        assert sb.writes_since(mark) == []


def test_changes_pending_and_a_failed_verify_are_one_envelope_each(tmp_path, run_cli):
    with running_sandbox(tmp_path, mode="worker-role", network="public") as sb:
        pending = run_cli("--sandbox", sb.dir, "plan", "-f", sb.config_path, "--detailed-exitcode", "-o", "json")
        assert pending.exit_code == 3
        assert _one_document(pending)["data"]["summary"]["has_changes"] is True
        failed = run_cli("--sandbox", sb.dir, "verify", "-f", sb.config_path, "-o", "json", "--timeout", "8s")
        assert failed.exit_code == 4, failed.stderr[-2000:]
        assert _one_document(failed)["data"]["ok"] is False


def test_a_failed_apply_names_the_address_the_code_and_what_was_applied_before(tmp_path, run_cli):
    with running_sandbox(tmp_path, mode="worker-role", network="public") as sb:
        # The cloud refuses the ACL write with a code no retry helps (403 [?] as a made-up code).
        sb.world.knobs.scripted_faults["CreateInstanceEndpointAclPolicy"] = [
            ("Forbidden.Injected", "The ACL write is refused for this test.", 403)]
        result = run_cli("--sandbox", sb.dir, "setup", "-f", sb.config_path, "--yes", "-o", "json")
        assert result.exit_code == 1, result.stderr[-2000:]
        document = _one_document(result)
        assert document["kind"] == "ApplyResult"
        data = document["data"]
        error = data["error"]
        assert error["address"].startswith("cr.acl."), error
        assert error["code"] == "Forbidden.Injected", error
        assert "refused for this test" in error["message"] and error["hint"]
        assert "cr.endpoint.internet" in error["applied"]
        assert error["address"] not in error["applied"]
        assert data["plan"]["summary"]["has_changes"] is True
        assert "result" not in data and "verify" not in data


def test_a_failed_task_is_an_apply_failure_without_a_cloud_code(tmp_path, run_cli):
    with running_sandbox(tmp_path, mode="worker-role", network="public") as sb:
        sb.world.knobs.set(failing_tasks={"addon_install"})
        result = run_cli("--sandbox", sb.dir, "setup", "-f", sb.config_path, "--yes", "-o", "json")
        assert result.exit_code == 1, result.stderr[-2000:]
        error = _one_document(result)["data"]["error"]
        assert error["address"].startswith("cs.addon.") and error["code"] == "apply-failed"
        assert "install task" in error["message"]
        assert "ram.role.registry" in error["applied"]


def test_setup_without_yes_and_no_terminal_is_one_envelope(tmp_path, run_cli):
    with running_sandbox(tmp_path, mode="worker-role", network="public") as sb:
        mark = sb.mark()
        result = run_cli("--sandbox", sb.dir, "setup", "-f", sb.config_path, "-o", "json")
        assert result.exit_code == 2
        error = _one_document(result)["data"]["error"]
        assert error["field"] == "--yes" and error["code"] == "usage"
        assert sb.writes_since(mark) == []
