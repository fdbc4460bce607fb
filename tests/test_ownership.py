"""Ownership (issue 11 item 4, item 9's foreign key, issue 13 item 9): acrx marks only what it
creates, in the create call where the API takes a mark, records in the cluster what takes none,
never marks what it adopts, and destroy removes exactly what carries its mark.

Everything below drives the CLI against the in-process sandbox. Where a test needs another
actor (a person creating a role while acrx applies, a ConfigMap write that fails), it acts on
the sandbox's cloud or cluster, never on acrx.
"""

from __future__ import annotations

import json

import pytest

from acrx import facts
from acrx.config import defaults
from acrx.plan.change import Action
from acrx.steps import ownership
from tests.sandbox_fixture import running_sandbox

pytestmark = pytest.mark.timeout(300)

TRUST_BY_HAND = {"Version": "1", "Statement": [{"Action": "sts:AssumeRole", "Effect": "Allow",
                                                "Principal": {"Service": ["ecs.aliyuncs.com"]}}]}


@pytest.fixture(autouse=True)
def _state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ACRX_STATE_DIR", str(tmp_path / "state"))
    for name in ("ACRX_REGISTRY_ACCESS_KEY_ID", "ACRX_REGISTRY_ACCESS_KEY_SECRET"):
        monkeypatch.delenv(name, raising=False)


def _cli(run_cli, sb, command: str, *extra):
    return run_cli("--sandbox", sb.dir, command, "-f", sb.config_path, *extra)


def _changes(stdout: str) -> dict[str, dict]:
    envelope = json.loads(stdout)
    return {c["address"]: c for c in envelope.get("data", envelope)["changes"]}


def _ram_b(sb):
    return sb.world.backend("ram", sb.seeded.account_b, None)


def _store(sb):
    return sb.sandbox.cluster.store


def _configmap(sb, name: str):
    from acrx.sandbox.kube.errors import KubeError

    try:
        return _store(sb).get("configmaps", "kube-system", name)
    except KubeError:
        return None


def _addons(sb) -> list[str]:
    cs = sb.world.backend("cs", sb.seeded.account_a, sb.seeded.region_a)
    return [name for name in cs.clusters[sb.seeded.cluster_id].addons
            if name in (facts.MANAGED_ADDON, facts.SELF_MANAGED_ADDON)]


def _helper_deployments(sb) -> list[str]:
    return [d["metadata"]["name"] for d in _store(sb).list("deployments", facts.HELPER_NAMESPACE)
            if d["metadata"]["name"] == facts.SELF_MANAGED_ADDON]


def _key_ids(sb, user: str) -> list[str]:
    return [k.access_key_id for k in _ram_b(sb).access_keys(user)]


def _configmap_key_id(sb) -> str | None:
    import yaml

    found = _configmap(sb, facts.CONFIGMAP_NAME)
    entries = yaml.safe_load(((found or {}).get("data") or {}).get(facts.CM_REGISTRY_INFO) or "[]") or []
    ids = {e.get(facts.RI_ACCESS_KEY_ID) for e in entries}
    assert len(ids) <= 1, ids
    return next(iter(ids), None)


@pytest.fixture
def failing_configmap_write(monkeypatch):
    """Make the cluster refuse every write of acr-registry-info into acr-configuration while
    `state["on"]` is true: the run stops after the AccessKey exists and before the ConfigMap
    holds it. (The helper's own default ConfigMap, without that key, is still written.)"""
    from acrx.sandbox.kube.errors import KubeError

    state = {"on": True, "hits": 0}

    def install(sb):
        store = _store(sb)
        for method in ("create", "patch", "update"):
            original = getattr(store, method)

            def refusing(kind, ns, *args, _original=original, **kwargs):
                first = args[0] if args else None
                name = first.get("metadata", {}).get("name") if isinstance(first, dict) else first
                body = first if isinstance(first, dict) else (args[1] if len(args) > 1 else None)
                data = body.get("data") if isinstance(body, dict) else None
                if (state["on"] and kind == "configmaps" and name == facts.CONFIGMAP_NAME
                        and isinstance(data, dict) and facts.CM_REGISTRY_INFO in data):
                    state["hits"] += 1
                    raise KubeError(500, "InternalError", "injected: etcd write failed")
                return _original(kind, ns, *args, **kwargs)

            monkeypatch.setattr(store, method, refusing)
        return state

    return install


def _setup_stops_at_the_configmap(run_cli, sb) -> None:
    """An access-key setup whose one failure is the injected ConfigMap write."""
    result = _cli(run_cli, sb, "setup", "--yes", "--no-verify", "--allow-plaintext-access-key")
    assert result.exit_code == 1, result.stderr[-3000:]
    failed = [line for line in result.stderr.splitlines() if line.startswith("failed ")]
    assert len(failed) == 1 and "acr-configuration" in failed[0] and "injected" in failed[0], result.stderr[-3000:]


# -- roles and policies: tag at creation, never on adoption ---------------------------------------
def test_role_and_policy_carry_the_mark_from_the_create_call(tmp_path, run_cli):
    with running_sandbox(tmp_path, mode="worker-role", network="public") as sb:
        mark = sb.mark()
        assert _cli(run_cli, sb, "setup", "--yes", "--no-verify").exit_code == 0
        calls = [c for c in sb.calls_since(mark) if c.writes and c.status < 400]
        actions = [c.action for c in calls]
        assert "TagResources" not in actions, "a mark added after the create leaves a moment without it"
        name = defaults.registry_role_name(sb.seeded.cluster_id)
        role = _ram_b(sb).roles[name]
        assert role.tags.get(facts.MARK_TAG_KEY) == facts.MARK_TAG_VALUE
        pull = next(p for p in _ram_b(sb).policies.values() if p.name.startswith("acrx-"))
        assert pull.tags.get(facts.MARK_TAG_KEY) == facts.MARK_TAG_VALUE


def test_role_made_between_saved_plan_and_apply_is_never_marked_and_survives_destroy(tmp_path, run_cli):
    with running_sandbox(tmp_path, mode="worker-role", network="public") as sb:
        out = tmp_path / "plan.json"
        assert _cli(run_cli, sb, "plan", "--out", out).exit_code == 0
        name = defaults.registry_role_name(sb.seeded.cluster_id)
        planned = json.loads(out.read_text())
        assert any(c["address"] == "ram.role.registry" and c["action"] == "create" for c in planned["changes"])
        _ram_b(sb).create_role(name, json.dumps(TRUST_BY_HAND), description="by hand", max_session_duration=3600)

        result = _cli(run_cli, sb, "setup", "--plan", out, "--yes", "--no-verify")
        role = _ram_b(sb).roles[name]
        assert facts.MARK_TAG_KEY not in role.tags
        # The stale saved plan is refused; a fresh setup then adopts the role without marking it.
        if result.exit_code != 0:
            result = _cli(run_cli, sb, "setup", "--yes", "--no-verify")
        assert result.exit_code == 0, result.stderr[-3000:]
        role = _ram_b(sb).roles[name]
        assert facts.MARK_TAG_KEY not in role.tags
        assert "ecs.aliyuncs.com" in role.trust_document      # the owner's statement stays

        result = _cli(run_cli, sb, "destroy", "--dry-run", "-o", "json")
        kept = _changes(result.stdout)["ram.role.registry"]
        assert kept["action"] == "no-op" and "adopted, kept" in kept["reason"]
        assert _cli(run_cli, sb, "destroy", "--yes").exit_code == 0
        assert name in _ram_b(sb).roles


def test_role_made_during_apply_is_adopted_without_the_mark(tmp_path, run_cli, monkeypatch):
    """The race itself: someone creates the role after acrx planned it, just before CreateRole."""
    with running_sandbox(tmp_path, mode="worker-role", network="public") as sb:
        ram_b = _ram_b(sb)
        name = defaults.registry_role_name(sb.seeded.cluster_id)
        original = ram_b.create_role

        def someone_first(role_name, *args, **kwargs):
            if role_name == name and name not in ram_b.roles:
                original(name, json.dumps(TRUST_BY_HAND), "by hand", 3600)
            return original(role_name, *args, **kwargs)

        monkeypatch.setattr(ram_b, "create_role", someone_first)
        result = _cli(run_cli, sb, "setup", "--yes", "--no-verify")
        assert result.exit_code == 0, result.stderr[-3000:]
        assert "appeared between plan and apply" in result.stderr
        assert facts.MARK_TAG_KEY not in ram_b.roles[name].tags
        assert _cli(run_cli, sb, "plan", "--detailed-exitcode").exit_code == 0
        assert _cli(run_cli, sb, "destroy", "--yes").exit_code == 0
        assert name in ram_b.roles
        assert ram_b.roles[name].attachments == []     # acrx's own policy went with destroy
        assert _configmap(sb, ownership.RECORD_NAME) is None   # the cluster-side record went last


# -- verify's Deployment -------------------------------------------------------------------------
def test_destroy_removes_the_deployment_verify_keep_left(tmp_path, run_cli):
    from acrx.kube.workloads import VERIFY_NAME, verify_deployment

    assert ownership.label_marked(verify_deployment("x/y:z", namespace="default", service_account="default")
                                  ["metadata"]["labels"])
    with running_sandbox(tmp_path, mode="worker-role", network="public") as sb:
        assert _cli(run_cli, sb, "setup", "--yes", "--no-verify").exit_code == 0
        result = _cli(run_cli, sb, "verify", "--keep")
        assert result.exit_code == 0, result.stderr[-3000:]
        import yaml

        namespace = yaml.safe_load(sb.config_path.read_text()).get("verify", {}).get("namespace", "default")
        assert _store(sb).list("deployments", namespace, f"app.kubernetes.io/name={VERIFY_NAME}")
        plan = _changes(_cli(run_cli, sb, "destroy", "--dry-run", "-o", "json").stdout)
        assert plan["verify.deployment"]["action"] == "delete"
        result = _cli(run_cli, sb, "destroy", "--yes")
        assert result.exit_code == 0, result.stderr[-3000:]
        assert _store(sb).list("deployments", namespace, f"app.kubernetes.io/name={VERIFY_NAME}") == []
        assert _store(sb).list("pods", namespace, f"app.kubernetes.io/name={VERIFY_NAME}") == []


# -- access-key mode: the lost secret ---------------------------------------------------------------
def test_interrupted_access_key_run_converges(tmp_path, run_cli, failing_configmap_write):
    with running_sandbox(tmp_path, mode="access-key", network="public") as sb:
        user = defaults.access_key_user_name(sb.seeded.cluster_id)
        injected = failing_configmap_write(sb)
        _setup_stops_at_the_configmap(run_cli, sb)
        orphans = _key_ids(sb, user)
        assert len(orphans) == 1 and _configmap_key_id(sb) is None
        injected["on"] = False

        plan = _changes(_cli(run_cli, sb, "plan", "-o", "json", "--allow-plaintext-access-key").stdout)
        key = plan["ram.access_key.registry"]
        assert key["action"] == "create" and "stored nowhere" in key["reason"]
        result = _cli(run_cli, sb, "setup", "--yes", "--allow-plaintext-access-key")
        assert result.exit_code == 0, result.stderr[-3000:]
        assert "Successfully pulled image" in result.stdout + result.stderr
        keys = _key_ids(sb, user)
        assert len(keys) == 1 and keys[0] not in orphans
        assert _configmap_key_id(sb) == keys[0]
        assert _cli(run_cli, sb, "plan", "--detailed-exitcode", "--allow-plaintext-access-key").exit_code == 0


def test_orphans_at_the_two_key_limit_are_replaced(tmp_path, run_cli, failing_configmap_write):
    """Two interrupted runs leave two orphans, RAM's limit: the next run deletes one first."""
    with running_sandbox(tmp_path, mode="access-key", network="public") as sb:
        user = defaults.access_key_user_name(sb.seeded.cluster_id)
        injected = failing_configmap_write(sb)
        for _ in range(2):
            _setup_stops_at_the_configmap(run_cli, sb)
        orphans = _key_ids(sb, user)
        assert len(orphans) == 1, "each re-run replaces the orphan it finds, so one is left"
        _ram_b(sb).create_access_key(user)           # and a second one, as a killed run leaves it
        orphans = _key_ids(sb, user)
        assert len(orphans) == facts.RAM_ACCESS_KEYS_PER_USER
        injected["on"] = False
        result = _cli(run_cli, sb, "setup", "--yes", "--no-verify", "--allow-plaintext-access-key")
        assert result.exit_code == 0, result.stderr[-3000:]
        keys = _key_ids(sb, user)
        assert len(keys) == 1 and keys[0] not in orphans and _configmap_key_id(sb) == keys[0]


def test_an_orphan_beside_the_stored_key_is_deleted(tmp_path, run_cli):
    """A second key of acrx's user, whose secret nobody holds (a lost CreateAccessKey answer):
    the stored key stays, the orphan goes, and the user is back to one key."""
    with running_sandbox(tmp_path, mode="access-key", network="public") as sb:
        user = defaults.access_key_user_name(sb.seeded.cluster_id)
        assert _cli(run_cli, sb, "setup", "--yes", "--no-verify", "--allow-plaintext-access-key").exit_code == 0
        (stored,) = _key_ids(sb, user)
        _ram_b(sb).create_access_key(user)
        plan = _changes(_cli(run_cli, sb, "plan", "-o", "json", "--allow-plaintext-access-key").stdout)
        assert plan["ram.access_key.registry"]["action"] == "update"
        assert _cli(run_cli, sb, "setup", "--yes", "--no-verify", "--allow-plaintext-access-key").exit_code == 0
        assert _key_ids(sb, user) == [stored] and _configmap_key_id(sb) == stored
        assert _cli(run_cli, sb, "plan", "--detailed-exitcode", "--allow-plaintext-access-key").exit_code == 0


def test_destroy_after_an_interrupted_run_removes_what_acrx_created(tmp_path, run_cli, failing_configmap_write):
    """The addon was installed, the ConfigMap never written: the cluster's record still says the
    addon is acrx's, so destroy removes it (and the helper Deployment with it), the orphan key,
    the user, and finally the record."""
    with running_sandbox(tmp_path, mode="access-key", network="public") as sb:
        user = defaults.access_key_user_name(sb.seeded.cluster_id)
        failing_configmap_write(sb)
        _setup_stops_at_the_configmap(run_cli, sb)
        assert _addons(sb) == [facts.SELF_MANAGED_ADDON]
        assert _helper_deployments(sb) == [facts.SELF_MANAGED_ADDON]
        record = _configmap(sb, ownership.RECORD_NAME)
        assert record is not None and f"cs.addon.{facts.SELF_MANAGED_ADDON}" in record["data"]
        assert record["metadata"]["annotations"]
        # Had the run died before recording acr-configuration, the addon acrx installed still
        # shipped it: it goes with the addon.
        _store(sb).patch("configmaps", "kube-system", ownership.RECORD_NAME,
                         {"data": {ownership.record_key(f"k8s.configmap.kube-system/{facts.CONFIGMAP_NAME}"): None}})
        assert _configmap(sb, facts.CONFIGMAP_NAME) is not None

        plan = _changes(_cli(run_cli, sb, "destroy", "--dry-run", "-o", "json").stdout)
        assert plan[f"cs.addon.{facts.SELF_MANAGED_ADDON}"]["action"] == "delete"
        result = _cli(run_cli, sb, "destroy", "--yes")
        assert result.exit_code == 0, result.stdout[-2000:] + result.stderr[-3000:]
        assert _addons(sb) == []
        assert _helper_deployments(sb) == []
        assert user not in _ram_b(sb).users
        assert _configmap(sb, ownership.RECORD_NAME) is None
        assert _configmap(sb, facts.CONFIGMAP_NAME) is None


def test_an_addon_acrx_did_not_install_is_kept(tmp_path, run_cli):
    """Without the record, an installed helper is someone's: destroy removes acrx's keys only."""
    with running_sandbox(tmp_path, mode="worker-role", network="public") as sb:
        assert _cli(run_cli, sb, "setup", "--yes", "--no-verify").exit_code == 0
        _store(sb).delete("configmaps", "kube-system", ownership.RECORD_NAME)   # as if installed by hand
        plan = _changes(_cli(run_cli, sb, "destroy", "--dry-run", "-o", "json").stdout)
        addon = plan[f"cs.addon.{facts.SELF_MANAGED_ADDON}"]
        assert addon["action"] == "no-op" and "adopted, kept" in addon["reason"]
        assert plan[f"k8s.configmap.kube-system/{facts.CONFIGMAP_NAME}"]["action"] == "delete"
        assert _cli(run_cli, sb, "destroy", "--yes").exit_code == 0
        assert _addons(sb) == [facts.SELF_MANAGED_ADDON]
        left = _configmap(sb, facts.CONFIGMAP_NAME)
        assert left is None or facts.CM_REGISTRY_INFO not in (left.get("data") or {})


# -- account B's internet endpoint: recorded in the cluster before acrx switches it on --------------
def _instance(sb):
    return sb.world.backend("cr", sb.seeded.account_b, sb.seeded.region_b).instances[sb.seeded.instance_id]


def test_internet_endpoint_acrx_switched_on_is_switched_off_by_destroy(tmp_path, run_cli):
    with running_sandbox(tmp_path, mode="worker-role", network="public") as sb:
        assert not _instance(sb).internet_enabled
        assert _cli(run_cli, sb, "setup", "--yes", "--no-verify").exit_code == 0
        assert _instance(sb).internet_enabled
        record = _configmap(sb, ownership.RECORD_NAME)["data"]
        details = json.loads(record[ownership.endpoint_record(sb.seeded.instance_id)])
        assert details["instance_id"] == sb.seeded.instance_id and details["network"] == "public"
        plan = _changes(_cli(run_cli, sb, "destroy", "--dry-run", "-o", "json").stdout)
        assert plan["cr.endpoint.internet"]["action"] == "delete"
        assert _cli(run_cli, sb, "destroy", "--yes").exit_code == 0
        assert not _instance(sb).internet_enabled
        assert _instance(sb).acl == []      # the system's default entry came with the switch-on
        assert _configmap(sb, ownership.RECORD_NAME) is None


def test_internet_endpoint_on_before_acrx_stays_on(tmp_path, run_cli):
    with running_sandbox(tmp_path, mode="worker-role", network="public") as sb:
        import alibabacloud_cr20181201.models as m

        # Its owner switched the endpoint on through the SDK, before acrx ever ran.
        client = sb.client("alibabacloud_cr20181201", alias="registry")
        client.update_instance_endpoint_status(m.UpdateInstanceEndpointStatusRequest(
            instance_id=sb.seeded.instance_id, endpoint_type="internet", enable=True))
        assert _cli(run_cli, sb, "setup", "--yes", "--no-verify").exit_code == 0
        plan = _changes(_cli(run_cli, sb, "destroy", "--dry-run", "-o", "json").stdout)
        assert plan["cr.endpoint.internet"]["action"] == "no-op"
        assert "adopted, kept" in plan["cr.endpoint.internet"]["reason"]
        assert _cli(run_cli, sb, "destroy", "--yes").exit_code == 0
        assert _instance(sb).internet_enabled


# -- a PrivateZone zone: AddZone takes no tag, so the record bridges AddZone and TagResources ----------
def test_zone_made_by_a_run_stopped_before_its_tag_is_still_acrx_s(tmp_path, run_cli, monkeypatch):
    from acrx.sandbox.core.errors import ApiError

    with running_sandbox(tmp_path, mode="worker-role", network="peering") as sb:
        pvtz = sb.world.backend("pvtz", sb.seeded.account_a, sb.seeded.region_a)
        original = pvtz.check_tag_target
        refuse = {"on": True}

        def refusing(*args, **kwargs):
            if refuse["on"]:
                raise ApiError("Forbidden.Injected", "injected: the run stops here", 403)
            return original(*args, **kwargs)

        monkeypatch.setattr(pvtz, "check_tag_target", refusing)
        result = _cli(run_cli, sb, "setup", "--yes", "--no-verify")
        assert result.exit_code == 1 and "injected" in result.stderr, result.stderr[-3000:]
        (zone,) = pvtz.zones.values()
        assert not pvtz.tags.of(zone.zone_id)
        address = f"pvtz.zone.{zone.name}"
        assert ownership.record_key(address) in _configmap(sb, ownership.RECORD_NAME)["data"]
        refuse["on"] = False

        setup_plan = _changes(_cli(run_cli, sb, "plan", "-o", "json").stdout)
        assert setup_plan[address]["action"] == "update" and "tagged now" in setup_plan[address]["reason"]
        plan = _changes(_cli(run_cli, sb, "destroy", "--dry-run", "-o", "json").stdout)
        assert plan[address]["action"] == "delete"
        assert _cli(run_cli, sb, "destroy", "--yes").exit_code == 0
        assert not pvtz.zones
        assert _configmap(sb, ownership.RECORD_NAME) is None


# -- the record itself: parallel steps of one run write and drop their keys ---------------------------
def test_dropping_the_last_key_never_deletes_a_key_written_meanwhile(tmp_path):
    """Seen in the fault campaign: the zone's record was dropped (the last key, so the ConfigMap was
    deleted) while the addon's was being written beside it; the addon then lost its mark."""
    from types import SimpleNamespace

    from acrx.kube.client import KubeClient
    from acrx.steps.context import StepContext

    with running_sandbox(tmp_path) as sb:
        config = SimpleNamespace(cluster=SimpleNamespace(id=sb.seeded.cluster_id), mode="rrsa",
                                 network=SimpleNamespace(mode="cen"))
        kube = KubeClient.from_text(sb.sandbox.cluster.kubeconfig_yaml())
        zone, addon = StepContext(config, None, kube_factory=lambda: kube), StepContext(config, None, kube_factory=lambda: kube)
        ownership.record(zone, "pvtz.zone.example")
        read = kube.get_configmap

        def read_then_someone_writes(namespace, name):
            found = read(namespace, name)
            if name == ownership.RECORD_NAME and ownership.record_key("cs.addon.x") not in (found or {}).get("data", {}):
                ownership.record(addon, "cs.addon.x")       # the addon step, between the read and the delete
            return found

        kube.get_configmap = read_then_someone_writes
        ownership.drop(zone, "pvtz.zone.example")
        kube.get_configmap = read
        data = _configmap(sb, ownership.RECORD_NAME)["data"]
        assert list(data) == ["cs.addon.x"]
        ownership.drop(addon, "cs.addon.x")
        assert _configmap(sb, ownership.RECORD_NAME) is None


def test_a_record_written_while_another_step_drops_the_last_key_is_kept(tmp_path):
    """Seen under parallel test workers: our create met a conflict (another step had made the
    record), and before our patch that step's drop deleted the record as its last key went."""
    from types import SimpleNamespace

    from acrx.kube.client import KubeClient
    from acrx.steps.context import StepContext

    with running_sandbox(tmp_path) as sb:
        config = SimpleNamespace(cluster=SimpleNamespace(id=sb.seeded.cluster_id), mode="rrsa",
                                 network=SimpleNamespace(mode="cen"))
        kube = KubeClient.from_text(sb.sandbox.cluster.kubeconfig_yaml())
        zone, addon = StepContext(config, None, kube_factory=lambda: kube), StepContext(config, None, kube_factory=lambda: kube)
        create = kube.create_configmap
        raced = []

        def create_meets_a_conflict_then_the_record_goes(namespace, name, *args, **kwargs):
            if name == ownership.RECORD_NAME and not raced:
                raced.append(True)
                ownership.record(zone, "pvtz.zone.example")    # the other step makes the record ...
                create(namespace, name, *args, **kwargs)        # ... so ours conflicts (raises)
            return create(namespace, name, *args, **kwargs)

        def conflict_then_drop(namespace, name, *args, **kwargs):
            try:
                return create_meets_a_conflict_then_the_record_goes(namespace, name, *args, **kwargs)
            except Exception:
                ownership.drop(zone, "pvtz.zone.example")       # ... and deletes it as its last key goes
                raise

        kube.create_configmap = conflict_then_drop
        ownership.record(addon, "cs.addon.x")
        kube.create_configmap = create
        assert raced and list(_configmap(sb, ownership.RECORD_NAME)["data"]) == ["cs.addon.x"]


# -- item 9: the key in the ConfigMap is the pull user's ----------------------------------------------
def test_access_key_planner_refuses_a_key_of_another_user():
    from acrx.errors import PreflightError
    from acrx.steps.identity import access_key
    from acrx.cloud.ram import AccessKeyInfo

    common = dict(account="b", user="u", user_address="ram.user.registry", env_id_name="AK_ID",
                  env_secret_name="AK_SECRET", env_id="LTAIelsewhere", env_secret_set=True)
    for keys in (None, [], [AccessKeyInfo("LTAImine", "Active")]):
        with pytest.raises(PreflightError) as caught:
            access_key.plan_access_key("ram.access_key.registry", keys=keys, **common)
        text = str(caught.value) + (caught.value.hint or "")
        assert "addon.access_key" in text and "pull user u" in text and "--allow-foreign-access-key" in text
    change, warning = access_key.plan_access_key("ram.access_key.registry", keys=[], allow_foreign=True, **common)
    assert change.action is Action.NOOP and "--allow-foreign-access-key" in warning


def test_a_key_of_another_user_is_refused_before_any_write(tmp_path, run_cli, monkeypatch):
    from acrx.config import defaults as d

    with running_sandbox(tmp_path, mode="access-key", network="public") as sb:
        ram_b = _ram_b(sb)
        ram_b.create_user("ci-deployer", comments="someone else's")
        other = ram_b.create_access_key("ci-deployer")
        monkeypatch.setenv(d.DEFAULT_AK_ID_ENV, other.access_key_id)
        monkeypatch.setenv(d.DEFAULT_AK_SECRET_ENV, other.secret)
        mark = sb.mark()
        result = _cli(run_cli, sb, "setup", "--yes", "--no-verify", "--allow-plaintext-access-key")
        assert result.exit_code == 2, result.stderr[-2000:]
        assert "addon.access_key" in result.stderr and defaults.access_key_user_name(sb.seeded.cluster_id) in result.stderr
        assert other.secret not in result.stdout + result.stderr
        assert sb.writes_since(mark) == []
