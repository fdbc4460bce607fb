"""The server core: routing, signatures, error shapes and knobs, through the real tea client."""

from __future__ import annotations

import pytest

from acrx.sandbox.core.routing import Response, Router
from acrx.sandbox.core.server import CloudServer
from acrx.sandbox.core.world import World

router = Router("echo", "2020-01-01", product="echo")


@router.rpc("Echo", writes=False, authorize=False)
def _echo(req):
    return {"Said": req.str("Text", required=True), "Account": req.account}


@router.roa("GET", "/things/{thing_id}", "GetThing", writes=False, authorize=False)
def _thing(req):
    return Response({"id": req.str("thing_id"), "q": req.str("q")})


@router.roa("PUT", "/things/{thing_id}", "PutThing", writes=True, authorize=False)
def _put(req):
    return {"id": req.str("thing_id"), "body": req.json_body()}


@pytest.fixture
def cloud():
    world = World(seed=7)
    account = world.add_account("a", "cn-hangzhou")
    server = CloudServer(world, routers=[router]).start()
    yield world, server, account
    server.stop()


def _client(server, ak, sk, token=None):
    from alibabacloud_tea_openapi.client import Client

    from tests.sandbox_clients import tea_config

    return Client(tea_config(server.endpoint, ak, sk, token=token))


def _call_rpc(client, action="Echo", query=None, style_v1=False):
    from alibabacloud_tea_openapi import models as m
    from darabonba.runtime import RuntimeOptions

    params = m.Params(action=action, version="2020-01-01", protocol="HTTPS", pathname="/", method="POST",
                      auth_type="AK", style="RPC", req_body_type="formData", body_type="json")
    request = m.OpenApiRequest(query=query or {"Text": "hi there"})
    return client.call_api(params, request, RuntimeOptions())


def test_rpc_call_is_signed_and_answered(cloud):
    world, server, account = cloud
    key = account.root_key
    result = _call_rpc(_client(server, key.access_key_id, key.secret))
    assert result["statusCode"] == 200
    assert result["body"]["Said"] == "hi there"
    assert result["body"]["Account"] == account.uid
    assert result["body"]["RequestId"]
    assert world.calls.counts()["echo:Echo"] == 1


def test_wrong_secret_is_signature_mismatch(cloud):
    from alibabacloud_tea_openapi.exceptions import ClientException

    _, server, account = cloud
    with pytest.raises(ClientException) as info:
        _call_rpc(_client(server, account.root_key.access_key_id, "not-the-secret"))
    assert info.value.code == "SignatureDoesNotMatch"
    assert info.value.status_code == 400
    assert "not-the-secret" not in str(info.value)


def test_unknown_key_is_not_found(cloud):
    from alibabacloud_tea_openapi.exceptions import ClientException

    _, server, _ = cloud
    with pytest.raises(ClientException) as info:
        _call_rpc(_client(server, "SBXNOSUCHKEY", "x"))
    assert info.value.code == "InvalidAccessKeyId.NotFound"
    assert info.value.status_code == 404


def test_unknown_action_is_404(cloud):
    from alibabacloud_tea_openapi.exceptions import ClientException

    _, server, account = cloud
    with pytest.raises(ClientException) as info:
        _call_rpc(_client(server, account.root_key.access_key_id, account.root_key.secret), action="Nope")
    assert info.value.code == "InvalidAction.NotFound"


def test_roa_routes_by_method_and_path(cloud):
    from alibabacloud_tea_openapi import models as m
    from darabonba.runtime import RuntimeOptions

    _, server, account = cloud
    client = _client(server, account.root_key.access_key_id, account.root_key.secret)
    params = m.Params(action="PutThing", version="2020-01-01", protocol="HTTPS", pathname="/things/t-1",
                      method="PUT", auth_type="AK", style="ROA", req_body_type="json", body_type="json")
    result = client.call_api(params, m.OpenApiRequest(body={"a": [1, 2]}), RuntimeOptions())
    assert result["body"] == {"id": "t-1", "body": {"a": [1, 2]}}


def test_throttle_knob_answers_throttling_user_with_retry_after(cloud):
    from alibabacloud_tea_openapi.exceptions import ThrottlingException

    world, server, account = cloud
    world.knobs.set(throttle_rate=1.0, throttle_retry_after_ms=1500)
    with pytest.raises(ThrottlingException) as info:
        _call_rpc(_client(server, account.root_key.access_key_id, account.root_key.secret))
    assert info.value.retry_after == 1500


def test_error_knob_answers_503(cloud):
    from alibabacloud_tea_openapi.exceptions import ServerException

    world, server, account = cloud
    world.knobs.set(error_rate=1.0)
    with pytest.raises(ServerException) as info:
        _call_rpc(_client(server, account.root_key.access_key_id, account.root_key.secret))
    assert info.value.code == "ServiceUnavailable"
    assert info.value.status_code == 503


def test_reset_knob_drops_the_connection(cloud):
    from darabonba.exceptions import UnretryableException

    world, server, account = cloud
    world.knobs.set(reset_rate=1.0)
    with pytest.raises(UnretryableException):
        _call_rpc(_client(server, account.root_key.access_key_id, account.root_key.secret))
    assert world.calls.calls()[-1].error_code == "ConnectionReset"


def test_unsigned_call_is_refused(cloud):
    import urllib.error
    import urllib.request

    _, server, _ = cloud
    req = urllib.request.Request(f"{server.url}/?Text=x", method="POST",
                                 headers={"x-acs-action": "Echo", "x-acs-version": "2020-01-01"})
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(req, timeout=5)
    assert info.value.code == 400
    import json

    assert json.loads(info.value.read())["Code"] == "MissingAccessKeyId"


def _legacy_call(server, ak, sk, text="legacy"):
    from aliyunsdkcore.client import AcsClient
    from aliyunsdkcore.request import CommonRequest

    client = AcsClient(ak, sk, "cn-hangzhou", auto_retry=False, timeout=5)
    request = CommonRequest(domain=server.endpoint, version="2020-01-01", action_name="Echo")
    request.set_protocol_type("http")
    request.set_method("POST")
    request.add_query_param("Text", text)
    return client.do_action_with_exception(request)


def test_legacy_core_sdk_v1_signature(cloud):
    import json

    _, server, account = cloud
    body = json.loads(_legacy_call(server, account.root_key.access_key_id, account.root_key.secret))
    assert body["Said"] == "legacy"


def test_legacy_core_sdk_wrong_secret(cloud):
    from aliyunsdkcore.acs_exception.exceptions import ServerException

    _, server, account = cloud
    with pytest.raises(ServerException) as info:
        _legacy_call(server, account.root_key.access_key_id, "wrong")
    assert info.value.get_error_code() == "SignatureDoesNotMatch"
