"""acrx.cloud.adapter: the paging, not-found and action-naming rules every product adapter uses,
checked against a scripted client (the sandbox lists are too short to need a second page)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from acrx.cloud.adapter import MAX_PAGES, CloudApi, unwrap
from acrx.cloud.retry import RetryPolicy
from acrx.errors import CloudError


class ScriptedClient:
    """Answers each `<method>(request, runtime)` with the next body of its script; records requests."""

    def __init__(self, **scripts):
        self.scripts = {name: list(bodies) for name, bodies in scripts.items()}
        self.requests: list[tuple[str, object]] = []

    def __getattr__(self, method):
        def answer(*args):
            self.requests.append((method, args[0] if len(args) > 1 else None))
            body = self.scripts[method].pop(0)
            if isinstance(body, Exception):
                raise body
            return SimpleNamespace(body=body)
        return answer


class Api(CloudApi):
    PRODUCT = "demo"
    MODELS = "json"   # any importable module: _m() only imports it


def api(client) -> Api:
    return Api(lambda: client, RetryPolicy.no_retries())


def test_unwrap_reads_wrapped_and_bare_lists():
    assert unwrap({"Vpc": [1, 2]}, "Vpc") == [1, 2]
    assert unwrap([3], "Vpc") == [3]
    assert unwrap(None, "Vpc") == [] and unwrap({"Vpc": None}, "Vpc") == [] and unwrap({}, None) == []


def test_numbered_pages_stop_at_a_short_page():
    client = ScriptedClient(list_x=[{"Xs": {"X": [1, 2]}}, {"Xs": {"X": [3, 4]}}, {"Xs": {"X": [5]}},
                                    {"Xs": {"X": [6]}}])
    rows = list(api(client)._numbered_pages("ListX", "list_x", lambda page: page, "Xs", "X", page_size=2))
    assert rows == [1, 2, 3, 4, 5]
    assert [request for _, request in client.requests] == [1, 2, 3]


def test_numbered_pages_stop_at_the_total_count():
    client = ScriptedClient(list_x=[{"Xs": [1, 2], "TotalCount": 4}, {"Xs": [3, 4], "TotalCount": 4},
                                    {"Xs": [9, 9], "TotalCount": 4}])
    rows = list(api(client)._numbered_pages("ListX", "list_x", lambda page: page, "Xs", page_size=2,
                                            total_key="TotalCount"))
    assert rows == [1, 2, 3, 4] and len(client.requests) == 2


def test_a_caller_that_stops_early_asks_for_no_further_page():
    client = ScriptedClient(list_x=[{"Xs": [1, 2]}, {"Xs": [3, 4]}])
    found = next(r for r in api(client)._numbered_pages("ListX", "list_x", lambda page: page, "Xs", page_size=2)
                 if r == 2)
    assert found == 2 and len(client.requests) == 1


def test_token_pages_follow_next_token_and_are_bounded():
    client = ScriptedClient(list_x=[{"Xs": {"X": ["a"]}, "NextToken": "t1"}, {"Xs": {"X": ["b"]}, "NextToken": ""}])
    rows = list(api(client)._token_pages("ListX", "list_x", lambda token: token, "Xs", "X"))
    assert rows == ["a", "b"] and [request for _, request in client.requests] == [None, "t1"]

    endless = ScriptedClient(list_x=[{"Xs": ["z"], "NextToken": "again"}] * (MAX_PAGES + 5))
    assert len(list(api(endless)._token_pages("ListX", "list_x", lambda token: token, "Xs"))) == MAX_PAGES


def test_read_answers_none_for_a_missing_entity_and_raises_the_rest():
    missing = CloudError("EntityNotExist.Role", "no such role", http_status=404)
    client = ScriptedClient(get_x=[missing, CloudError("NoPermission", "denied", http_status=403)])
    assert api(client)._read("GetX", "get_x", "req") is None
    with pytest.raises(CloudError) as info:
        api(client)._read("GetX", "get_x", "req")
    assert info.value.code == "NoPermission" and info.value.action == "demo:GetX"


def test_delete_with_missing_ok():
    gone = CloudError("EntityNotExist.User", "no such user", http_status=404)
    client = ScriptedClient(delete_x=[{}, gone, gone])
    assert api(client)._delete("DeleteX", "delete_x", "req", missing_ok=False) is True
    assert api(client)._delete("DeleteX", "delete_x", "req", missing_ok=True) is False
    with pytest.raises(CloudError):
        api(client)._delete("DeleteX", "delete_x", "req", missing_ok=False)
