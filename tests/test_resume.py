"""Resume only what is still true (issue 11, item 3): a journaled change is skipped only when the
fresh plan shows it as a no-op; the resume is announced; --no-resume ignores journals; a
successful apply or destroy retires every unfinished journal of the cluster."""

from __future__ import annotations

import re

import pytest

from acrx.execute.journal import Journal, cluster_dir, retire, unfinished
from acrx.execute.resume import plan_resume
from acrx.plan.change import Change
from acrx.plan.plan import Plan
from tests.sandbox_fixture import running_sandbox

pytestmark = pytest.mark.timeout(300)

RESUMING = re.compile(r"^resuming: (\d+) of (\d+) changes? were done by an interrupted run at "
                      r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", re.M)


@pytest.fixture(autouse=True)
def _state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ACRX_STATE_DIR", str(tmp_path / "state"))


def _cli(run_cli, sb, command: str, *extra):
    return run_cli("--sandbox", sb.dir, command, "-f", sb.config_path, *extra)


def _unfinished(tmp_path, sb, command="acrx setup"):
    return unfinished(tmp_path / "state", sb.seeded.cluster_id, command)


# -- the rule, on plans ---------------------------------------------------------------------------
def _ch(address, action="create", **kw):
    if action == "no-op":
        kw.setdefault("reason", "in place")
    return Change(address, action, kind="keep", **kw)


def test_only_journaled_changes_the_live_plan_shows_as_no_ops_are_skipped(tmp_path):
    saved = Plan([_ch("a"), _ch("b"), _ch("c")])
    journal = Journal(tmp_path, saved.fingerprint, cluster="c-1", command="acrx setup",
                      pending=["a", "b", "c"])
    journal.record_done("a", "create", {"id": "A"})
    journal.record_done("b", "create", {"id": "B"})
    # a still exists; b was removed since (by a destroy, say); c never ran.
    live = Plan([_ch("a", "no-op", after={"id": "A", "name": "a"}), _ch("b"), _ch("c")])
    resume = plan_resume(tmp_path, "c-1", "acrx setup", saved, live)
    assert resume.skip == {"a": {"id": "A", "name": "a"}}
    assert resume.redo == ["b"]
    assert RESUMING.search(resume.message()).groups() == ("2", "3")
    assert "1 of them no longer holds and is applied again (b)" in resume.message()
    # Another command's journal, or another cluster's, is not this run's to resume.
    assert not plan_resume(tmp_path, "c-1", "acrx destroy", saved, live).found
    assert not plan_resume(tmp_path, "c-2", "acrx setup", saved, live).found
    assert retire(tmp_path, "c-1") == 1
    assert not plan_resume(tmp_path, "c-1", "acrx setup", saved, live).found
    assert list((cluster_dir(tmp_path, "c-1") / "finished").glob("*.jsonl"))


# -- the reproducer of the issue ------------------------------------------------------------------
def test_failed_setup_then_destroy_then_setup_converges(tmp_path, run_cli):
    """Before: the unfinished journal outlived the destroy and marked changes done that no longer
    existed; setup then failed on every re-run (ResourceNotFound.VpcPeer)."""
    with running_sandbox(tmp_path, mode="rrsa", network="peering") as sb:
        sb.world.knobs.set(failing_tasks={"peering"})
        failed = _cli(run_cli, sb, "setup", "--yes", "--no-verify")
        assert failed.exit_code == 1, failed.stderr[-2000:]
        left = _unfinished(tmp_path, sb)
        assert left is not None and left.done, "the failed run journaled what it did"
        sb.world.knobs.set(failing_tasks=set())

        gone = _cli(run_cli, sb, "destroy", "--yes")
        assert gone.exit_code == 0, gone.stderr[-3000:]
        assert _unfinished(tmp_path, sb) is None, "destroy retires the cluster's journals"

        again = _cli(run_cli, sb, "setup", "--yes")
        assert again.exit_code == 0, again.stderr[-3000:]
        assert "resuming:" not in again.stderr
        assert "Successfully pulled image" in again.stdout + again.stderr
        assert _cli(run_cli, sb, "plan", "--detailed-exitcode").exit_code == 0


def test_a_failed_setup_is_resumed_and_the_resume_is_announced(tmp_path, run_cli):
    with running_sandbox(tmp_path, mode="worker-role", network="public") as sb:
        sb.world.knobs.set(failing_tasks={"addon_install"})
        assert _cli(run_cli, sb, "setup", "--yes", "--no-verify").exit_code == 1
        done = len(_unfinished(tmp_path, sb).done)
        sb.world.knobs.set(failing_tasks=set())
        again = _cli(run_cli, sb, "setup", "--yes", "--no-verify")
        assert again.exit_code == 0, again.stderr[-3000:]
        n, m = RESUMING.search(again.stderr).groups()
        assert int(n) == done and int(m) > done
        assert _unfinished(tmp_path, sb) is None
        assert _cli(run_cli, sb, "plan", "--detailed-exitcode").exit_code == 0


def test_a_saved_plan_resumes_what_still_holds_and_reapplies_what_does_not(tmp_path, run_cli):
    """A saved plan half applied: what the journal holds and the cloud still shows is skipped
    (the saved plan would otherwise be stale there); a journaled role deleted since is made again."""
    with running_sandbox(tmp_path, mode="worker-role", network="public") as sb:
        out = tmp_path / "p.json"
        assert _cli(run_cli, sb, "plan", "--out", out).exit_code == 0
        sb.world.knobs.set(failing_tasks={"addon_install"})
        assert _cli(run_cli, sb, "setup", "--plan", out, "--yes", "--no-verify").exit_code == 1
        sb.world.knobs.set(failing_tasks=set())
        assert "ram.role.registry" in _unfinished(tmp_path, sb).done
        ram_b = sb.world.backend("ram", sb.seeded.account_b, None)
        role = next(name for name in ram_b.roles if name.startswith("acrx-pull-"))
        del ram_b.roles[role]                   # someone deleted it after the failed run

        again = _cli(run_cli, sb, "setup", "--plan", out, "--yes", "--no-verify")
        assert again.exit_code == 0, again.stderr[-3000:]
        line = RESUMING.search(again.stderr)
        assert line, again.stderr[-2000:]
        assert "no longer hold" in again.stderr and "ram.role.registry" in again.stderr
        assert role in ram_b.roles
        assert _cli(run_cli, sb, "plan", "--detailed-exitcode").exit_code == 0


def test_no_resume_ignores_the_journals(tmp_path, run_cli):
    with running_sandbox(tmp_path, mode="worker-role", network="public") as sb:
        out = tmp_path / "p.json"
        assert _cli(run_cli, sb, "plan", "--out", out).exit_code == 0
        sb.world.knobs.set(failing_tasks={"addon_install"})
        assert _cli(run_cli, sb, "setup", "--plan", out, "--yes", "--no-verify").exit_code == 1
        sb.world.knobs.set(failing_tasks=set())
        # Without the journal, the half-applied saved plan no longer matches the cloud.
        stale = _cli(run_cli, sb, "setup", "--plan", out, "--yes", "--no-verify", "--no-resume")
        assert stale.exit_code == 1 and "no longer matches the live state" in stale.stderr
        assert "resuming:" not in stale.stderr
        fresh = _cli(run_cli, sb, "setup", "--yes", "--no-verify", "--no-resume")
        assert fresh.exit_code == 0, fresh.stderr[-3000:]
        assert "resuming:" not in fresh.stderr
        assert _unfinished(tmp_path, sb) is None, "a successful apply retires every journal"


@pytest.mark.parametrize("no_resume", [False, True])
def test_step_commands_resume_through_the_shared_flow(tmp_path, run_cli, no_resume):
    with running_sandbox(tmp_path, mode="rrsa", network="peering") as sb:
        sb.world.knobs.set(failing_tasks={"route"})
        net = ("--sandbox", sb.dir, "network", "apply", "-f", sb.config_path, "--yes")
        assert run_cli(*net).exit_code == 1
        assert _unfinished(tmp_path, sb, "acrx network apply").done
        sb.world.knobs.set(failing_tasks=set())
        again = run_cli(*net, *(["--no-resume"] if no_resume else []))
        assert again.exit_code == 0, again.stderr[-3000:]
        assert bool(RESUMING.search(again.stderr)) is not no_resume, again.stderr[-2000:]
        assert _unfinished(tmp_path, sb, "acrx network apply") is None
