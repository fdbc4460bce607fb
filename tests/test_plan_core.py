"""Change, Plan ordering, counts, grouping, fingerprint and the saved-plan round trip."""

from __future__ import annotations

import json

import pytest

from acrx.errors import AcrxError
from acrx.plan.change import Action, Change, Ref, Sensitive, encode_value
from acrx.plan.diff import ABSENT, diff_values
from acrx.plan.plan import Plan, StalePlan


CM_DATA = {"namespace": "kube-system", "name": "acr-configuration", "keys": ["acr-registry-info"],
           "delete_configmap": False}


def ch(address, action="create", deps=(), account=None, before=None, after=None, **kw):
    if action in ("no-op", "replace") and "reason" not in kw:
        kw["reason"] = "because"
    return Change(address, action, before, after, account=account, depends_on=deps,
                  kind=kw.pop("kind", "fake"), **kw)


def test_action_is_a_str_enum_and_change_coerces_it():
    change = Change("a", "create", None, {"x": 1})
    assert change.action is Action.CREATE
    assert change.action == "create" and f"{change.action}" == "create"
    assert Change("b", "no-op", 1, 1, reason="same").action is Action.NOOP


@pytest.mark.parametrize("action", ["no-op", "replace"])
def test_noop_and_replace_need_a_reason(action):
    with pytest.raises(ValueError, match="must say why"):
        Change("a", action, 1, 2)
    with pytest.raises(ValueError, match="must say why"):
        Change("a", action, 1, 2, reason="  ")


@pytest.mark.parametrize("address", ["", "has space", None])
def test_bad_addresses_are_refused(address):
    with pytest.raises(ValueError):
        Change(address, "create", None, 1)


def test_unknown_action_and_self_dependency_are_refused():
    with pytest.raises(ValueError, match="unknown action"):
        Change("a", "upsert", None, 1)
    with pytest.raises(ValueError, match="itself"):
        Change("a", "create", None, 1, depends_on=("a",))


def test_change_is_frozen():
    change = Change("a", "create", None, 1)
    with pytest.raises(Exception):
        change.address = "b"  # type: ignore[misc]


def test_refs_count_as_dependencies():
    change = Change("b", "create", None, {"principal": Ref("a", "arn")}, depends_on=("c",),
                    data={"nested": [{"x": Ref("d", "id")}]})
    assert change.all_dependencies() == ("c", "a", "d")


def test_sensitive_never_shows_its_value():
    secret = Sensitive("hunter2-value")
    assert str(secret) == "(sensitive)" and repr(secret) == "(sensitive)"
    assert "hunter2" not in f"{secret!r} {secret!s} {[secret]} {{'k': {secret}}}"
    assert encode_value({"k": secret}) == {"k": "(sensitive)"}
    assert "hunter2" not in json.dumps(encode_value({"k": secret}, saved=True))
    assert secret.reveal() == "hunter2-value"


def test_sensitive_from_environment_source(monkeypatch):
    restored = Sensitive(None, source="env:ACRX_TEST_SECRET")
    monkeypatch.setenv("ACRX_TEST_SECRET", "from-env")
    assert restored.reveal() == "from-env"
    monkeypatch.delenv("ACRX_TEST_SECRET")
    with pytest.raises(AcrxError, match="ACRX_TEST_SECRET"):
        restored.reveal()
    with pytest.raises(AcrxError, match="plan again"):
        Sensitive(None).reveal()


def test_order_is_topological_and_stable_by_declaration():
    plan = Plan([
        ch("z.last", deps=("a.first",)),
        ch("m.middle"),
        ch("a.first"),
        ch("b.uses_ref", after={"arn": Ref("z.last", "arn")}),
    ])
    assert [c.address for c in plan] == ["m.middle", "a.first", "z.last", "b.uses_ref"]


def test_independent_changes_keep_declared_order():
    names = [f"n{i}" for i in range(10)]
    assert [c.address for c in Plan([ch(n) for n in names])] == names


def test_cycle_and_unknown_dependency_are_value_errors():
    with pytest.raises(ValueError, match="cycle among a, b"):
        Plan([ch("a", deps=("b",)), ch("b", deps=("a",)), ch("c")])
    with pytest.raises(ValueError, match="not in the plan"):
        Plan([ch("a", deps=("missing",))])
    with pytest.raises(ValueError, match="not in the plan"):
        Plan([ch("a", after={"x": Ref("ghost", "arn")})])
    with pytest.raises(ValueError, match="duplicate"):
        Plan([ch("a"), ch("a")])


def test_counts_has_changes_and_pending():
    plan = Plan([ch("a"), ch("b", "update"), ch("c", "no-op"), ch("d", "no-op"), ch("e", "delete"),
                 ch("f", "replace")])
    assert plan.counts == {"create": 1, "update": 1, "replace": 1, "delete": 1, "no-op": 2}
    assert plan.has_changes
    assert [c.address for c in plan.pending] == ["a", "b", "e", "f"]
    quiet = Plan([ch("c", "no-op")])
    assert not quiet.has_changes and quiet.pending == ()
    assert "1 resource checked" in quiet.why_no_changes()
    assert Plan([], {"no_changes_reason": "RRSA is already on."}).why_no_changes() == \
        "RRSA is already on."


def test_by_account_groups_in_first_seen_order():
    plan = Plan([ch("r1", account="registry"), ch("c1", account="cluster"),
                 ch("r2", account="registry"), ch("x")])
    groups = plan.by_account()
    assert list(groups) == ["registry", "cluster", None]
    assert [c.address for c in groups["registry"]] == ["r1", "r2"]


def test_fingerprint_covers_the_whole_change_and_the_settings():
    base = [ch("a", "update", before={"v": 1}, after={"v": 2}, data={"doc": {"Action": "cr:Pull"}}), ch("b")]
    fp = Plan(base).fingerprint
    assert len(fp) == 64 and fp == Plan(list(base), {"when": "other meta"}).fingerprint
    variants = [
        [ch("a", "update", before={"v": 1}, after={"v": 3}, data={"doc": {"Action": "cr:Pull"}}), ch("b")],
        [ch("a", "update", before={"v": 9}, after={"v": 2}, data={"doc": {"Action": "cr:Pull"}}), ch("b")],
        [ch("a", "update", before={"v": 1}, after={"v": 2}, data={"doc": {"Action": "*"}}), ch("b")],
        [ch("a", "replace", before={"v": 1}, after={"v": 2}, data={"doc": {"Action": "cr:Pull"}}), ch("b")],
        [ch("a2", "update", before={"v": 1}, after={"v": 2}, data={"doc": {"Action": "cr:Pull"}}), ch("b")],
        [ch("a", "update", before={"v": 1}, after={"v": 2}, data={"doc": {"Action": "cr:Pull"}},
            account="registry"), ch("b")],
        [ch("a", "update", before={"v": 1}, after={"v": 2}, data={"doc": {"Action": "cr:Pull"}}),
         ch("b", deps=("a",))],
    ]
    for changes in variants:
        assert Plan(changes).fingerprint != fp
    assert Plan(list(base), settings={"mode": "rrsa"}).fingerprint != fp
    # A Ref counts as its marker: what it points at is part of the contract.
    one = Plan([ch("r"), ch("a", data={"arn": Ref("r", "arn")})])
    other = Plan([ch("r"), ch("a", data={"arn": Ref("r", "id")})])
    assert one.fingerprint != other.fingerprint


def test_fingerprint_never_depends_on_a_secret_value():
    one = Plan([ch("a", "update", before={"k": Sensitive("one", source="env:X")})])
    two = Plan([ch("a", "update", before={"k": Sensitive("two", source="env:X")})])
    assert one.fingerprint == two.fingerprint


def test_saved_plan_round_trip_keeps_refs_and_drops_secrets():
    plan = Plan([
        ch("ram.role.cluster", after={"arn": Ref("ram.role.cluster", "arn", "the role ARN")},
           account="cluster", kind="keep"),
        ch("k8s.configmap", "update", before={"k": "v"},
           after={"key": Sensitive("s3cret-value", source="env:ACRX_SECRET"),
                  "role": Ref("ram.role.cluster", "arn")}, kind="k8s.configmap.delete", data=CM_DATA),
        ch("cs.rrsa", "no-op", before=True, after=True, reason="RRSA is on", kind="cs.rrsa"),
    ], {"mode": "rrsa"})
    text = json.dumps(plan.to_dict())
    assert "s3cret" not in text
    again = Plan.from_dict(json.loads(text))
    assert again.fingerprint == plan.fingerprint
    assert [c.address for c in again] == [c.address for c in plan]
    restored = again["k8s.configmap"]
    assert restored.after["role"] == Ref("ram.role.cluster", "arn")
    assert isinstance(restored.after["key"], Sensitive)
    assert restored.after["key"].source == "env:ACRX_SECRET"
    assert restored.data == CM_DATA
    assert again["cs.rrsa"].reason == "RRSA is on" and again.meta == {"mode": "rrsa"}


def test_saved_plan_refuses_tampering_and_other_formats():
    from acrx.plan.plan import PlanEdited

    def saved():
        return Plan([ch("ram.policy.registry_pull", "create", kind="ram.policy",
                        data={"name": "p", "description": "acrx", "document": {
                            "Version": "1", "Statement": [{"Effect": "Allow", "Action": "cr:PullRepository",
                                                           "Resource": "acs:cr:*:1:repository/cri-1/*"}]}}),
                     ch("b", "update", kind="keep", before={"v": 1})], settings={"mode": "rrsa"}).to_dict()

    Plan.from_dict(saved())
    raw = saved()
    raw["changes"][0]["data"]["document"]["Statement"][0].update(Action="*", Resource="*")
    with pytest.raises(PlanEdited, match="change ram.policy.registry_pull") as info:
        Plan.from_dict(raw)
    assert info.value.address == "ram.policy.registry_pull"
    raw = saved()
    raw["changes"][1]["before"] = {"v": 2}
    with pytest.raises(PlanEdited, match="change b"):
        Plan.from_dict(raw)
    raw = saved()
    del raw["fingerprint"]
    with pytest.raises(PlanEdited, match="no fingerprint"):
        Plan.from_dict(raw)
    raw = saved()
    raw["settings"]["mode"] = "worker-role"
    with pytest.raises(PlanEdited, match="settings"):
        Plan.from_dict(raw)
    raw = saved()
    del raw["changes"][0]["digest"]
    with pytest.raises(PlanEdited, match="ram.policy.registry_pull"):
        Plan.from_dict(raw)
    with pytest.raises(ValueError, match="format"):
        Plan.from_dict({"format": 99, "changes": []})


def test_saved_plan_payloads_are_typed_per_kind():
    """A re-digested edit still has to fit its kind's payload model: unknown kinds, extra and
    missing keys are refused."""
    from acrx.plan.plan import PlanEdited

    def saved(kind, data):
        return Plan([ch("x", "create", kind=kind, data=data)]).to_dict()

    Plan.from_dict(saved("ram.access_key", {"user": "u"}))
    for kind, data, why in [("ram.accesskey", {"user": "u"}, "unknown change kind"),
                            ("ram.access_key", {"user": "u", "extra": 1}, "data.extra"),
                            ("ram.access_key", {}, "data.user"),
                            ("ram.access_key", {"user": 7}, "data.user")]:
        with pytest.raises(PlanEdited, match=why):
            Plan.from_dict(saved(kind, data))


def test_saved_plan_is_refused_when_the_live_state_moved():
    saved = Plan([ch("a", "update", before={"v": 1}), ch("b"), ch("c", "no-op")])
    same = Plan([ch("a", "update", before={"v": 1}), ch("b"), ch("c", "no-op")])
    saved.ensure_matches(same)
    moved = Plan([ch("a", "update", before={"v": 5}), ch("b", "no-op"), ch("c", "no-op"),
                  ch("d")])
    assert saved.stale_addresses(moved) == ["a", "b", "d"]
    with pytest.raises(StalePlan, match="a, b, d") as info:
        saved.ensure_matches(moved)
    assert info.value.hint
    # After an interrupted apply of the saved plan, the applied addresses moved on purpose.
    half_applied = Plan([ch("a", "no-op", before={"v": 2}), ch("b"), ch("c", "no-op")])
    saved.ensure_matches(half_applied, skip=["a"])


def test_diff_values_on_nested_dicts():
    before = {"name": "r", "tags": {"owner": "acrx", "env": "dev"}, "ports": [1, 2], "gone": 1}
    after = {"name": "r", "tags": {"owner": "acrx", "env": "prod"}, "ports": [1, 3], "new": None}
    assert diff_values(before, after) == [
        ("tags.env", "dev", "prod"), ("ports", [1, 2], [1, 3]), ("gone", 1, ABSENT),
        ("new", ABSENT, None)]
    assert diff_values({"a": 1}, {"a": 1}) == []
    assert diff_values(1, 2) == [("", 1, 2)]


def test_diff_values_compares_policies_by_meaning_and_always_shows_refs():
    a = {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "cr:PullRepository",
                                        "Resource": "*"}]}
    b = '{"Statement": {"Resource": ["*"], "Action": ["cr:pullrepository"], "Effect": "Allow"},' \
        ' "Version": "1"}'
    assert diff_values({"doc": a}, {"doc": b}) == []
    assert diff_values({"arn": "x"}, {"arn": Ref("r", "arn")}) == [("arn", "x", Ref("r", "arn"))]
    assert diff_values({"s": Sensitive("1", "env:A")}, {"s": Sensitive("2", "env:A")}) == []
