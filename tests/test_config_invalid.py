"""Every invalid config or flag: exit 2, one line naming the field, nothing on stdout."""

from __future__ import annotations

import copy

import pytest
import yaml

CLUSTER_ID = "c0123456789abcdef0123456789abcdef"
INSTANCE_ID = "cri-a1b2c3d4e5f6g7h8"

BASE = {
    "version": 1,
    "mode": "rrsa",
    "accounts": {
        "cluster": {"uid": "1234567890123456", "profile": "prod-a"},
        "registry": {"uid": "6543210987654321", "env": {"access_key_id": "B_AK_ID", "access_key_secret": "B_AK_SECRET"}},
    },
    "cluster": {"account": "cluster", "id": CLUSTER_ID, "region": "cn-hangzhou"},
    "registries": [{"account": "registry", "instance_id": INSTANCE_ID, "region": "cn-hangzhou",
                    "instance_name": "acme", "expire_duration": 3600}],
    "roles": {"assume_policy": "custom"},
    "addon": {"service_accounts": ["default"], "watch_namespaces": ["default"], "expiring_threshold": "15m"},
    "network": {"mode": "peering", "route_to": "endpoint"},
    "verify": {"namespace": "default", "service_account": "default", "timeout": "5m"},
}


def _set(path: str, value):
    """A mutation that sets a dotted path (list indexes as numbers) in the base config."""
    def apply(doc):
        node = doc
        parts = path.split(".")
        for part in parts[:-1]:
            node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
        last = parts[-1]
        if last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value
    return apply


def _many(*mutations):
    def apply(doc):
        for m in mutations:
            m(doc)
    return apply


def _drop(path: str):
    def apply(doc):
        node = doc
        parts = path.split(".")
        for part in parts[:-1]:
            node = node[int(part)] if part.isdigit() else node[part]
        del node[parts[-1]]
    return apply


def _second_registry(instance_id=INSTANCE_ID):
    def apply(doc):
        doc["registries"].append({"account": "registry", "instance_id": instance_id, "region": "cn-beijing",
                                  "instance_name": "other"})
    return apply


# (id, mutation, field expected in the error, extra CLI args)
CASES = [
    ("unknown-top-level-key", _set("colour", "blue"), "colour", ()),
    ("unknown-cluster-key", _set("cluster.zone", "a"), "cluster.zone", ()),
    ("unknown-registry-key", _set("registries.0.tier", "x"), "registries[0].tier", ()),
    ("unknown-network-key", _set("network.vpn", True), "network.vpn", ()),
    ("unknown-account-key", _set("accounts.cluster.password", "x"), "accounts.cluster.password", ()),
    ("bad-version", _set("version", 2), "version", ()),
    ("version-not-number", _set("version", "one"), "version", ()),
    ("bad-mode", _set("mode", "kerberos"), "mode", ()),
    ("bad-cluster-id", _set("cluster.id", "xyz"), "cluster.id", ()),
    ("cluster-id-uppercase", _set("cluster.id", CLUSTER_ID.upper()), "cluster.id", ()),
    ("bad-instance-id", _set("registries.0.instance_id", "cri-short"), "registries[0].instance_id", ()),
    ("bad-cluster-region", _set("cluster.region", "Hangzhou"), "cluster.region", ()),
    ("bad-registry-region", _set("registries.0.region", "cn_beijing"), "registries[0].region", ()),
    ("bad-uid", _set("accounts.cluster.uid", "12345"), "accounts.cluster.uid", ()),
    ("undefined-cluster-account", _set("cluster.account", "other"), "cluster.account", ()),
    ("undefined-registry-account", _set("registries.0.account", "b"), "registries[0].account", ()),
    ("two-credential-sources", _set("accounts.registry.profile", "prod-b"), "accounts.registry", ()),
    ("bad-assume-role-arn", _set("accounts.registry", {"assume_role": {"role_arn": "arn:aws:iam::1:role/x",
                                                                       "source": "cluster"}}),
     "accounts.registry.assume_role.role_arn", ()),
    ("assume-role-undefined-source", _set("accounts.registry", {"assume_role": {
        "role_arn": "acs:ram::6543210987654321:role/admin", "source": "nobody"}}),
     "accounts.registry.assume_role.source", ()),
    ("assume-role-loop", _many(
        _set("accounts.cluster", {"assume_role": {"role_arn": "acs:ram::1234567890123456:role/a", "source": "registry"}}),
        _set("accounts.registry", {"assume_role": {"role_arn": "acs:ram::6543210987654321:role/b", "source": "cluster"}})),
     "assume_role.source", ()),
    ("bad-env-var-name", _set("accounts.registry.env.access_key_id", "1BAD-NAME"),
     "accounts.registry.env.access_key_id", ()),
    ("bad-role-name", _set("roles.cluster_role", "bad name!"), "roles.cluster_role", ()),
    ("role-name-too-long", _set("roles.registry_role", "r" * 65), "roles.registry_role", ()),
    ("bad-policy-name", _set("roles.pull_policy", "acrx.pull"), "roles.pull_policy", ()),
    ("bad-assume-policy", _set("roles.assume_policy", "none"), "roles.assume_policy", ()),
    ("max-session-too-small", _set("roles.max_session_duration", 100), "roles.max_session_duration", ()),
    ("max-session-too-large", _set("roles.max_session_duration", 50000), "roles.max_session_duration", ()),
    ("expire-above-max-session", _many(_set("roles.max_session_duration", 3600),
                                       _set("registries.0.expire_duration", 7200)),
     "registries[0].expire_duration", ()),
    ("expire-out-of-range", _set("registries.0.expire_duration", 60000), "registries[0].expire_duration", ()),
    ("expire-not-number", _set("registries.0.expire_duration", "an hour"), "registries[0].expire_duration", ()),
    ("bad-duration-unit", _set("addon.expiring_threshold", "15x"), "addon.expiring_threshold", ()),
    ("zero-duration", _set("addon.expiring_threshold", "0m"), "addon.expiring_threshold", ()),
    ("bad-verify-timeout", _set("verify.timeout", "soon"), "verify.timeout", ()),
    ("bad-namespace", _set("addon.watch_namespaces", ["Apps"]), "addon.watch_namespaces[0]", ()),
    ("bad-service-account", _set("addon.service_accounts", ["my_sa"]), "addon.service_accounts[0]", ()),
    ("bad-verify-namespace", _set("verify.namespace", "-ns"), "verify.namespace", ()),
    ("bad-verify-service-account", _set("verify.service_account", "SA"), "verify.service_account", ()),
    ("worker-role-managed", _many(_set("mode", "worker-role"), _set("addon.flavour", "managed")),
     "addon.flavour", ()),
    ("access-key-managed", _many(_set("mode", "access-key"), _set("addon.flavour", "managed")),
     "addon.flavour", ()),
    ("token-mode-with-managed", _set("addon.token_mode", "auto"), "addon.token_mode", ()),
    ("worker-role-token-with-rrsa", _many(_set("addon.flavour", "self-managed"),
                                          _set("addon.token_mode", "workerRole")), "addon.token_mode", ()),
    ("worker-role-needs-worker-token", _many(_set("mode", "worker-role"), _set("addon.token_mode", "managedRole")),
     "addon.token_mode", ()),
    ("bad-token-mode", _many(_set("addon.flavour", "self-managed"), _set("addon.token_mode", "root")),
     "addon.token_mode", ()),
    ("bad-flavour", _set("addon.flavour", "hosted"), "addon.flavour", ()),
    ("bad-network-mode", _set("network.mode", "vpn"), "network.mode", ()),
    ("bad-route-to", _set("network.route_to", "anywhere"), "network.route_to", ()),
    ("any-source-not-public", _set("network.allow_any_source", True), "network.allow_any_source", ()),
    ("cen-id-not-cen", _set("network.cen_id", "cen-abcdefgh12345"), "network.cen_id", ()),
    ("bad-vpc-id", _set("network.registry_vpc_id", "vpc_1"), "network.registry_vpc_id", ()),
    ("empty-registries", _set("registries", []), "registries", ()),
    ("no-registries", _drop("registries"), "registries", ()),
    ("duplicate-instance", _second_registry(), "registries[1].instance_id", ()),
    ("registry-and-registries", _set("registry", {"instance_id": INSTANCE_ID, "region": "cn-hangzhou"}),
     "registry", ()),
    ("bad-email", _set("addon.notify_email", "ops-at-example"), "addon.notify_email", ()),
    ("bad-verify-image", _set("verify.image", "HTTP://Registry/ns/app:1"), "verify.image", ()),
    ("bad-domain-scheme", _set("registries.0.domains", ["https://acme-registry.cn-hangzhou.cr.aliyuncs.com"]),
     "registries[0].domains[0]", ()),
    ("duplicate-domain", _set("registries.0.domains", ["a.cr.aliyuncs.com", "a.cr.aliyuncs.com"]),
     "registries[0].domains", ()),
    ("star-mixed-with-names", _set("addon.service_accounts", ["*", "default"]), "addon.service_accounts", ()),
    ("all-mixed-with-names", _set("addon.watch_namespaces", ["all", "default"]), "addon.watch_namespaces", ()),
    ("empty-service-accounts", _set("addon.service_accounts", []), "addon.service_accounts", ()),
    ("account-not-mapping", _set("accounts.cluster", "prod-a"), "accounts.cluster", ()),
    ("bad-mode-flag", lambda doc: None, "mode", ("--mode", "kerberos")),
    ("bad-network-flag", lambda doc: None, "--network", ("--network", "vpn")),   # the flag, not the file
    ("bad-cluster-id-flag", lambda doc: None, "cluster.id", ("--cluster-id", "c123")),
    ("bad-cluster-uid-flag", _drop("accounts.cluster.uid"), "--cluster-uid", ("--cluster-uid", "42")),
]


def test_enough_distinct_cases():
    assert len({case[0] for case in CASES}) == len(CASES) >= 35


@pytest.mark.parametrize("case_id,mutate,field,extra", CASES, ids=[c[0] for c in CASES])
def test_invalid_config_exits_2_naming_field(tmp_path, run_cli, case_id, mutate, field, extra):
    doc = copy.deepcopy(BASE)
    mutate(doc)
    path = tmp_path / "acrx.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    result = run_cli("render", "configmap", "-f", path, *extra)
    assert result.exit_code == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert field in lines[0], lines[0]


def test_base_config_is_valid(tmp_path, run_cli):
    path = tmp_path / "acrx.yaml"
    path.write_text(yaml.safe_dump(BASE, sort_keys=False))
    result = run_cli("render", "configmap", "-f", path)
    assert result.exit_code == 0, result.stderr


def test_verbose_shows_traceback(tmp_path, run_cli):
    doc = copy.deepcopy(BASE)
    doc["cluster"]["id"] = "xyz"
    path = tmp_path / "acrx.yaml"
    path.write_text(yaml.safe_dump(doc))
    result = run_cli("-v", "render", "configmap", "-f", path)
    assert result.exit_code == 2
    assert "Traceback" in result.stderr
    assert "cluster.id" in result.stderr


def test_not_yaml(tmp_path, run_cli):
    path = tmp_path / "acrx.yaml"
    path.write_text("mode: rrsa\ncluster: {id: [unclosed\n")
    result = run_cli("render", "configmap", "-f", path)
    assert result.exit_code == 2
    assert "not valid YAML" in result.stderr and ":" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_top_level_list(tmp_path, run_cli):
    path = tmp_path / "acrx.yaml"
    path.write_text("- mode: rrsa\n")
    result = run_cli("render", "configmap", "-f", path)
    assert result.exit_code == 2
    assert "top level must be a mapping" in result.stderr
