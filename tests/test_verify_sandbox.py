"""`acrx verify` and `acrx doctor` against the sandbox: everything applied → exit 0 and the kubelet's
`Successfully pulled image … Image size: N bytes.` line; then one thing broken at a time → exit 4
and the first failing layer names that cause and the command that fixes it.

Setup goes through acrx itself: the identity commands, and for network / addon / configmap the
command when it is registered, else the same step applied through the shared flow.
"""

from __future__ import annotations

import importlib
import json

import pytest

from sandbox_cloud import wait_for as _wait
from sandbox_fixture import running_sandbox

pytestmark = pytest.mark.timeout(180)

SELF_MANAGED = "aliyun-acr-credential-helper"
FAST = ("--timeout", "60s")   # ends early on a result; 8 s was close to what a loaded machine needs


@pytest.fixture(autouse=True)
def _state_dir(tmp_path, monkeypatch):
    # Journals are keyed by plan fingerprints; the seeded sandbox repeats them between tests.
    monkeypatch.setenv("ACRX_STATE_DIR", str(tmp_path / "state"))


def _command_registered(name: str) -> bool:
    import acrx.cli.commands as commands

    return hasattr(commands, name)


def _apply_step(sb, step) -> int:
    from acrx.cli.context import AppContext
    from acrx.cli.flow import RunOptions, load_config, plan_and_apply, step_context

    actx = AppContext(sandbox_dir=sb.dir)
    config = load_config(sb.config_path, {})
    return plan_and_apply(actx, step_context(actx, config), [step], RunOptions(yes=True))


def _apply(sb, run_cli, command: tuple[str, ...], module: str, step_factory) -> None:
    if _command_registered(module):
        result = run_cli("--sandbox", sb.dir, *command, "-f", sb.config_path, "--yes")
        assert result.exit_code == 0, result.stderr
    else:
        assert _apply_step(sb, step_factory()) == 0


def _configmap_by_hand(sb) -> None:
    """Until `acrx configmap apply` exists: the ConfigMap acrx renders, written to the cluster."""
    from acrx.cli.commands.render import registry_entries
    from acrx.config.loader import load_config
    from acrx.render.configmap import configmap_data

    config = load_config(sb.config_path, {})
    entries = registry_entries(config, cluster_uid=sb.seeded.account_a, registry_uid=sb.seeded.account_b)
    data = configmap_data(entries, rrsa=config.mode == "rrsa", service_accounts=config.addon.service_accounts,
                          watch_namespaces=config.addon.watch_namespaces)
    store = _store(sb)
    current = _wait(lambda: _maybe_get(store, "configmaps", "kube-system", "acr-configuration"),
                    "the addon's ConfigMap")
    current["data"] = {**(current.get("data") or {}), **data}
    store.update("configmaps", "kube-system", current)


def setup_everything(sb, run_cli, *, mode: str = "rrsa", network: str = "peering",
                     flavour: str = "self-managed", skip: tuple[str, ...] = ()) -> None:
    sb.write_config(mode=mode, network=network, addon={"flavour": flavour})
    cli = lambda *args: run_cli("--sandbox", sb.dir, *args, "-f", sb.config_path, "--yes")  # noqa: E731
    if mode == "rrsa" and "rrsa" not in skip:
        assert cli("rrsa", "enable").exit_code == 0
    if "roles" not in skip and mode != "access-key":
        assert cli("roles", "apply").exit_code == 0
    if "policy" not in skip:
        assert cli("policy", "attach").exit_code == 0
    if "network" not in skip:
        from acrx.steps.network import NetworkStep

        _apply(sb, run_cli, ("network", "apply"), "network", lambda: NetworkStep(network))
    if "addon" not in skip:
        from acrx.steps.addon import AddonStep

        _apply(sb, run_cli, ("addon", "install"), "addon", AddonStep)
    if flavour == "self-managed" and "configmap" not in skip:
        if _command_registered("configmap"):
            _apply(sb, run_cli, ("configmap", "apply"), "configmap", None)
        else:
            _configmap_by_hand(sb)


# -- sandbox internals the tests use to break one thing ------------------------------------------
def _store(sb):
    return sb.sandbox.cluster.store


def _maybe_get(store, kind, ns, name):
    try:
        return store.get(kind, ns, name)
    except Exception:
        return None


def _secret_attached(sb) -> bool:
    sa = _store(sb).get("serviceaccounts", "default", "default")
    return any(s["name"].startswith("acr-credential-") for s in sa.get("imagePullSecrets") or [])


def _ram(sb, account: str):
    return sb.client("alibabacloud_ram20150501", account)


def verify(run_cli, sb, *extra):
    return run_cli("--sandbox", sb.dir, "verify", "-f", sb.config_path, *FAST, *extra)


def _layers_of(result) -> list[tuple[str, str]]:
    return [(line.split()[1], line.split()[0]) for line in result.stdout.splitlines()
            if line[:4] in ("PASS", "FAIL", "SKIP")]


def _first_failure(result) -> str:
    """stdout from the first FAIL layer on: its checks, causes and fixes."""
    text = result.stdout
    return text[text.index("FAIL "):] if "FAIL " in text else ""


# -- the working path ----------------------------------------------------------------------------
def test_verify_passes_and_prints_the_kubelets_pull_line(tmp_path, run_cli):
    with running_sandbox(tmp_path) as sb:
        setup_everything(sb, run_cli)
        result = verify(run_cli, sb)
        assert result.exit_code == 0, result.stdout + result.stderr
        last = result.stdout.strip().splitlines()[-1]
        image = f"{sb.seeded.domain_vpc}/{sb.seeded.image_repo}:{sb.seeded.image_tag}"
        assert last.startswith(f'verified: Successfully pulled image "{image}" in ')
        assert last.endswith(f"Image size: {sb.seeded.image_size} bytes.")
        assert [s for _, s in _layers_of(result)] == ["PASS", "PASS", "PASS"]
        # the Deployment is gone unless --keep
        assert _maybe_get(_store(sb), "deployments", "default", "acrx-verify") is None
        # no secret of the helper's Secret in what verify printed
        secret = next(s for s in _store(sb).list("secrets", "default") if s["metadata"]["name"].startswith("acr-"))
        assert secret["data"][".dockerconfigjson"] not in result.stdout + result.stderr


def test_verify_json_envelope_and_keep(tmp_path, run_cli):
    with running_sandbox(tmp_path) as sb:
        setup_everything(sb, run_cli)
        result = verify(run_cli, sb, "-o", "json", "--keep")
        assert result.exit_code == 0, result.stderr
        doc = json.loads(result.stdout)
        assert doc["apiVersion"] == "acrx/v1" and doc["kind"] == "Verify"
        data = doc["data"]
        assert data["ok"] is True
        assert [layer["name"] for layer in data["layers"]] == ["control plane", "component", "pull"]
        assert all(layer["status"] == "pass" for layer in data["layers"])
        pull = data["layers"][2]["pull"]
        assert pull["image_size"] == sb.seeded.image_size and pull["pull_time"]
        assert data["pulled"].startswith("Successfully pulled image")
        assert _maybe_get(_store(sb), "deployments", "default", "acrx-verify") is not None
        # a second run replaces the kept Deployment and passes again
        assert verify(run_cli, sb).exit_code == 0


def test_doctor_passes_without_creating_a_deployment(tmp_path, run_cli):
    with running_sandbox(tmp_path) as sb:
        setup_everything(sb, run_cli)
        mark = sb.mark()
        result = run_cli("--sandbox", sb.dir, "doctor", "-f", sb.config_path, *FAST, "-o", "json")
        assert result.exit_code == 0, result.stdout + result.stderr
        data = json.loads(result.stdout)["data"]
        assert [layer["name"] for layer in data["layers"]] == ["control plane", "component", "registry probe"]
        assert _store(sb).list("deployments", "default") == []
        assert sb.writes_since(mark) == []
        probe = data["layers"][2]
        # acrx's root identity in A is not role A: no probe is possible, so the layer is SKIP (never
        # PASS) and the summary says why
        assert probe["status"] == "skip" and probe["ok"] is None, probe
        assert [c["status"] for c in probe["checks"]] == ["skip"]
        assert "may not assume" in probe["skipped_reason"]
        assert data["verdict"] == "pass"
        assert data["summary"].startswith("passed; skipped: registry probe (") and "may not assume" in data["summary"]
        table = run_cli("--sandbox", sb.dir, "doctor", "-f", sb.config_path, *FAST)
        assert table.exit_code == 0, table.stdout + table.stderr
        assert ("SKIP", "registry") in [(s, n) for n, s in _layers_of(table)]
        assert table.stdout.strip().splitlines()[-1].startswith("passed; skipped: registry probe (")


def test_public_network_verify_passes(tmp_path, run_cli):
    with running_sandbox(tmp_path, network="public") as sb:
        setup_everything(sb, run_cli, network="public")
        result = verify(run_cli, sb)
        assert result.exit_code == 0, result.stdout + result.stderr
        assert f'"{sb.seeded.domain_public}/' in result.stdout


def test_managed_flavour_verify_passes(tmp_path, run_cli):
    with running_sandbox(tmp_path) as sb:
        setup_everything(sb, run_cli, flavour="managed")
        result = verify(run_cli, sb)
        assert result.exit_code == 0, result.stdout + result.stderr
        assert "Image size: " in result.stdout.strip().splitlines()[-1]


def test_worker_role_mode_verify_passes(tmp_path, run_cli):
    mode = "worker-role"
    with running_sandbox(tmp_path, mode=mode) as sb:
        setup_everything(sb, run_cli, mode=mode)
        result = verify(run_cli, sb)
        assert result.exit_code == 0, result.stdout + result.stderr


# -- one thing broken at a time ------------------------------------------------------------------
def _assert_fails_at(result, layer: str, *, fix: str, words: tuple[str, ...]) -> None:
    assert result.exit_code == 4, result.stdout + result.stderr
    layers = dict(_layers_of(result))
    order = [name for name, _ in _layers_of(result)]
    assert layers.get(layer.split()[0]) == "FAIL", result.stdout
    after = order[order.index(layer.split()[0]) + 1:]
    assert all(layers[n] == "SKIP" for n in after), result.stdout
    failure = _first_failure(result)
    assert f"fix:   {fix}" in failure, failure
    for word in words:
        assert word in failure, failure


def test_trust_policy_with_the_wrong_subject(tmp_path, run_cli):
    from alibabacloud_ram20150501 import models as ram

    with running_sandbox(tmp_path) as sb:
        setup_everything(sb, run_cli)
        from acrx.config.loader import load_config

        config = load_config(sb.config_path, {})
        client = _ram(sb, "cluster")
        role = client.get_role(ram.GetRoleRequest(role_name=config.cluster_role_name)).body.role
        trust = json.loads(role.assume_role_policy_document)
        trust["Statement"][0]["Condition"]["StringEquals"]["oidc:sub"] = "system:serviceaccount:kube-system:default"
        client.update_role(ram.UpdateRoleRequest(role_name=config.cluster_role_name,
                                                 new_assume_role_policy_document=json.dumps(trust)))
        result = verify(run_cli, sb)
        _assert_fails_at(result, "control plane", fix="acrx roles apply",
                         words=("oidc:sub", "AuthenticationFail.NoPermission", "system:serviceaccount:kube-system:default"))


def test_pull_policy_detached(tmp_path, run_cli):
    from alibabacloud_ram20150501 import models as ram

    with running_sandbox(tmp_path) as sb:
        setup_everything(sb, run_cli)
        from acrx.config.loader import load_config

        config = load_config(sb.config_path, {})
        _ram(sb, "registry").detach_policy_from_role(ram.DetachPolicyFromRoleRequest(
            policy_type="Custom", policy_name=config.pull_policy_name(), role_name=config.registry_role_name))
        result = verify(run_cli, sb)
        _assert_fails_at(result, "control plane", fix="acrx policy attach",
                         words=("ram.policy_attachment.registry_pull",))
        as_json = verify(run_cli, sb, "-o", "json")
        assert as_json.exit_code == 4
        data = json.loads(as_json.stdout)["data"]
        assert data["ok"] is False and data["failed_layer"] == "control plane"
        assert data["fix_command"].startswith("acrx policy attach")
        assert [layer["status"] for layer in data["layers"]] == ["fail", "skip", "skip"]
        assert data["layers"][1]["skipped_reason"] == "not run: the control plane layer failed"


def test_no_route_to_the_endpoint(tmp_path, run_cli):
    from alibabacloud_vpc20160428 import models as vpc

    with running_sandbox(tmp_path) as sb:
        setup_everything(sb, run_cli)
        client = sb.client("alibabacloud_vpc20160428", "cluster")
        entries = client.describe_route_entry_list(vpc.DescribeRouteEntryListRequest(
            region_id=sb.seeded.region_a, route_table_id=sb.seeded.route_table_a)).body.route_entrys.route_entry
        peer = [e for e in entries if e.next_hops and e.next_hops.next_hop
                and e.next_hops.next_hop[0].next_hop_type == "VpcPeer"]
        assert peer, "the setup made no peering route"
        for entry in peer:
            client.delete_route_entry(vpc.DeleteRouteEntryRequest(region_id=sb.seeded.region_a,
                                                                  route_entry_id=entry.route_entry_id))
        result = verify(run_cli, sb)
        _assert_fails_at(result, "control plane", fix="acrx network apply", words=("vpc.route.",))


def test_no_private_zone_record(tmp_path, run_cli):
    from alibabacloud_pvtz20180101 import models as pvtz

    with running_sandbox(tmp_path) as sb:
        setup_everything(sb, run_cli)
        client = sb.client("alibabacloud_pvtz20180101", "cluster")
        zones = client.describe_zones(pvtz.DescribeZonesRequest(keyword=sb.seeded.domain_vpc)).body.zones.zone
        zone = next(z for z in zones if z.zone_name == sb.seeded.domain_vpc)
        records = client.describe_zone_records(pvtz.DescribeZoneRecordsRequest(zone_id=zone.zone_id)).body.records.record
        for record in records:
            client.delete_zone_record(pvtz.DeleteZoneRecordRequest(record_id=record.record_id))
        result = verify(run_cli, sb)
        _assert_fails_at(result, "control plane", fix="acrx network apply", words=("pvtz.record.",))


def test_acl_without_the_egress_ip(tmp_path, run_cli):
    from alibabacloud_cr20181201 import models as cr

    with running_sandbox(tmp_path, network="public") as sb:
        setup_everything(sb, run_cli, network="public")
        egress = f"{sb.sandbox.scenario.egress_eip}/32"
        sb.client("alibabacloud_cr20181201", "registry").delete_instance_endpoint_acl_policy(
            cr.DeleteInstanceEndpointAclPolicyRequest(instance_id=sb.seeded.instance_id, endpoint_type="internet",
                                                      entry=egress, module_name="Registry"))
        result = verify(run_cli, sb)
        _assert_fails_at(result, "control plane", fix="acrx network apply", words=(f"cr.acl.{egress}",))


def test_rrsa_enabled_after_the_helper_started(tmp_path, run_cli):
    with running_sandbox(tmp_path) as sb:
        # The helper first, RRSA after it, and nobody restarts the helper's pod.
        setup_everything(sb, run_cli, skip=("rrsa", "roles", "policy", "configmap"))
        _wait(lambda: [p for p in _store(sb).list("pods", "kube-system", label_selector=f"app={SELF_MANAGED}")
                       if (p.get("status") or {}).get("phase") == "Running"], "the helper pod")
        cli = lambda *args: run_cli("--sandbox", sb.dir, *args, "-f", sb.config_path, "--yes")  # noqa: E731
        for step in (("rrsa", "enable"), ("roles", "apply"), ("policy", "attach")):
            assert cli(*step).exit_code == 0
        if _command_registered("configmap"):
            assert cli("configmap", "apply").exit_code == 0
        else:
            _configmap_by_hand(sb)
        result = verify(run_cli, sb)
        assert result.exit_code == 4, result.stdout + result.stderr
        failure = _first_failure(result)
        assert "fix:   acrx addon install" in failure, result.stdout
        assert "RRSA" in failure and "helper" in failure, failure


def test_helper_settings_without_the_registry(tmp_path, run_cli):
    """The helper's ConfigMap loses its registry entry and the Secrets are gone: the ConfigMap
    planner (layer 1) or the component layer names the ConfigMap and `acrx configmap apply`."""
    with running_sandbox(tmp_path) as sb:
        setup_everything(sb, run_cli)
        _wait(lambda: _secret_attached(sb), "the helper's Secret")
        store = _store(sb)
        cm = store.get("configmaps", "kube-system", "acr-configuration")
        cm["data"]["acr-registry-info"] = "[]\n"
        store.update("configmaps", "kube-system", cm)
        for secret in store.list("secrets", "default"):
            if secret["metadata"]["name"].startswith("acr-credential-"):
                store.delete("secrets", "default", secret["metadata"]["name"])
        result = verify(run_cli, sb)
        assert result.exit_code == 4, result.stdout + result.stderr
        assert "fix:   acrx configmap apply" in _first_failure(result), result.stdout


# -- the pieces as data ------------------------------------------------------------------------------
@pytest.mark.parametrize("text,topic,fix", [
    ('Failed to pull image "x": rpc error: code = Unknown desc = failed to resolve reference "x": failed to do '
     'request: Head "https://a-registry-vpc.cn-hangzhou.cr.aliyuncs.com/v2/t/n/manifests/v1": dial tcp: lookup '
     'a-registry-vpc.cn-hangzhou.cr.aliyuncs.com on 100.100.2.136:53: no such host', "dns", "acrx network apply"),
    ("dial tcp 10.10.1.5:443: i/o timeout", "network", "acrx network apply"),
    ("pull access denied, repository does not exist or may require authorization: server message: "
     "insufficient_scope: authorization failed", "pull-policy", "acrx policy attach"),
    ("failed to get authorization token of instance cri-x (cn-hangzhou): AssumeRoleWithOIDC: "
     "AuthenticationFail.NoPermission: No permission", "trust", "acrx roles apply"),
    ("RRSA: OIDCTokenFileNotFound: open /var/run/secrets/ack.alibabacloud.com/rrsa-tokens/token: no such file "
     "or directory", "order-trap", "acrx addon install"),
    ("AuthenticationFail.OIDCToken.IssuerConfigurationBroken", "order-trap", "acrx addon install"),
    ("GetAuthorizationToken: Forbidden.NoPermission: not allowed", "pull-policy", "acrx policy attach"),
])
def test_explain_maps_failure_texts(text, topic, fix):
    from acrx.doctor.explain import explain

    found = explain(text)
    assert found is not None and (found.topic, found.fix_command) == (topic, fix)


def test_explain_unknown_text_is_not_guessed():
    from acrx.doctor.explain import explain, explain_pull

    assert explain("something nobody has seen") is None
    deeper = explain_pull("failed to fetch oauth token: 401 Unauthorized",
                          "GetAuthorizationToken: NoPermission: the role may not")
    assert deeper.fix_command == "acrx policy attach"


def test_trust_evaluation_names_the_mismatching_claim():
    from acrx.doctor.trust import evaluate_oidc_trust, evaluate_ram_trust

    provider = "acs:ram::1:oidc-provider/ack-rrsa-c1"
    trust = {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Federated": [provider]},
                            "Condition": {"StringEquals": {"oidc:sub": "system:serviceaccount:kube-system:x",
                                                           "oidc:aud": "sts.aliyuncs.com"}}}]}
    claims = {"oidc:sub": "system:serviceaccount:kube-system:aliyun-acr-credential-helper",
              "oidc:aud": "sts.aliyuncs.com", "oidc:iss": "https://issuer"}
    found = evaluate_oidc_trust(trust, provider, claims)
    assert found.status == "fail" and "oidc:sub" in found.why
    trust["Statement"][0]["Condition"] = {"StringLike": {"oidc:sub": "system:serviceaccount:kube-system:*"}}
    assert evaluate_oidc_trust(trust, provider, claims).status == "pass"
    assert "no statement trusts" in evaluate_oidc_trust(trust, "acs:ram::1:oidc-provider/other", claims).why
    ram_trust = {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                "Principal": {"RAM": ["acs:ram::1:role/a"]}}]}
    assert evaluate_ram_trust(ram_trust, "acs:ram::1:role/a").status == "pass"
    assert evaluate_ram_trust(ram_trust, "acs:ram::1:role/b").status == "fail"


def test_layers_stop_at_the_first_failure():
    from acrx.doctor.layers import LayerResult, failed, passed, run_layers

    ran = []

    def layer(name, ok):
        def go():
            ran.append(name)
            return LayerResult(name, ok, [passed("x") if ok else failed("x", "broken", fix_command="acrx y")])
        return name, go

    results = run_layers([layer("a", True), layer("b", False), layer("c", True)])
    assert ran == ["a", "b"]
    assert [r.status for r in results] == ["pass", "fail", "skip"]
    assert results[1].to_dict()["fix_command"] == "acrx y"
    assert importlib.import_module("acrx.doctor.layers").all_passed(results) is False


def test_table_prints_arns_verbatim():
    import io

    from rich.console import Console

    from acrx.cli.commands.verify import _print_layer
    from acrx.doctor.layers import LayerResult, failed

    out = io.StringIO()
    _print_layer(Console(file=out, width=200), LayerResult("control plane", False, [
        failed("trust", "acs:ram::1234567890123456:role/x [bold]not[/bold] trusted", fix_command="acrx roles apply")]))
    text = out.getvalue()
    assert "acs:ram::1234567890123456:role/x [bold]not[/bold] trusted" in text   # no emoji, no markup
    assert "fix:   acrx roles apply" in text
