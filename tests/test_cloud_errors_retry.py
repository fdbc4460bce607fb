"""acrx.cloud.errors and acrx.cloud.retry against the sandbox core server, through the real SDK."""

from __future__ import annotations

import threading

import pytest

from acrx.cloud import errors
from acrx.cloud.retry import RetryPolicy, call, invoke
from acrx.errors import CloudError
from acrx.sandbox.core.errors import ApiError
from acrx.sandbox.core.knobs import Knobs
from acrx.sandbox.core.routing import Router
from acrx.sandbox.core.server import CloudServer
from acrx.sandbox.core.world import World

router = Router("flaky", "2020-01-01", product="flaky")
_failures: dict[str, int] = {}
_failures_lock = threading.Lock()


@router.rpc("Flaky", writes=True, authorize=False)
def _flaky(req):
    """Fails the first `Fail` calls for `Key` as `Mode` says, then answers OK."""
    key, mode = req.str("Key", required=True), req.str("Mode", required=True)
    with _failures_lock:
        seen = _failures.get(key, 0)
        _failures[key] = seen + 1
    if seen < int(req.str("Fail") or 0):
        if mode == "throttle":
            raise ApiError("Throttling.User", "Request was denied due to user flow control.", 400)
        if mode == "throttle_after":
            raise ApiError("Throttling.User", "Request was denied due to user flow control.", 429,
                           retry_after_ms=1500)
        if mode == "unavailable":
            raise ApiError("ServiceUnavailable", "temporary failure", 503)
        if mode == "internal":
            raise ApiError("InternalError", "unknown error", 500)
        if mode == "denied":
            raise ApiError("NoPermission", "You are not authorized to do this action. token=abcdef123456", 403,
                           access_denied_detail={"AuthAction": "flaky:Flaky"})
        if mode == "missing":
            raise ApiError("EntityNotExist.Role", "The role not exists: ghost.", 404)
    return {"Calls": seen + 1}


sts_router = Router("sts", "2015-04-01", product="sts")


@sts_router.rpc("GetCallerIdentity", writes=False, authorize=False)
def _whoami(req):
    return {"AccountId": req.account, "Arn": req.principal.arn, "IdentityType": "Account",
            "PrincipalId": req.account, "UserId": req.account}


class FirstCallsReset(Knobs):
    """Drops the connection of the first `resets` calls, then behaves."""

    def __init__(self, resets: int):
        super().__init__()
        self.resets = resets
        self.reset_rate = 1.0

    def roll(self, rate, action):
        if rate > 0 and rate == self.reset_rate and self.resets > 0:
            self.resets -= 1
            return True
        return False


@pytest.fixture
def cloud():
    world = World(seed=3)
    account = world.add_account("cluster", "cn-hangzhou")
    server = CloudServer(world, routers=[router, sts_router]).start()
    with _failures_lock:
        _failures.clear()
    yield world, server, account
    server.stop()


class FakeTime:
    """Injected clock and sleep: the policy's waits are recorded, not slept."""

    def __init__(self):
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def _logged(world, count, timeout=30.0):
    """The call log, once it holds `count` calls: the server records a call after answering it."""
    import time

    deadline = time.monotonic() + timeout
    while len(world.calls.calls()) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)  # and a moment more, so that an unexpected extra call would show up too
    return world.calls.calls()


def _policy(fake: FakeTime, **kw) -> RetryPolicy:
    kw.setdefault("budget_s", 30)
    return RetryPolicy(sleep=fake.sleep, clock=fake.clock, rng=lambda: 0.5, **kw)


def _client(server, account):
    from alibabacloud_tea_openapi.client import Client

    from tests.sandbox_clients import tea_config

    key = account.root_key
    return Client(tea_config(server.endpoint, key.access_key_id, key.secret))


def _flaky_call(client, mode, fail, key):
    from alibabacloud_tea_openapi import models as m
    from darabonba.runtime import RuntimeOptions

    params = m.Params(action="Flaky", version="2020-01-01", protocol="HTTPS", pathname="/", method="POST",
                      auth_type="AK", style="RPC", req_body_type="formData", body_type="json")
    query = {"Mode": mode, "Fail": str(fail), "Key": key}
    return lambda: client.call_api(params, m.OpenApiRequest(query=query), RuntimeOptions())["body"]


def test_throttling_without_retry_after_backs_off_then_succeeds(cloud):
    _, server, account = cloud
    fake = FakeTime()
    policy = _policy(fake)
    body = call(_flaky_call(_client(server, account), "throttle", 2, "t1"), action="flaky:Flaky", policy=policy)
    assert body["Calls"] == 3
    assert fake.sleeps == [0.5, 1.0]           # exponential, jitter centred by rng=0.5
    assert policy.stats.attempts["flaky:Flaky"] == 3
    assert policy.stats.retries["flaky:Flaky"] == 2


def test_throttling_honours_retry_after(cloud):
    _, server, account = cloud
    fake = FakeTime()
    body = call(_flaky_call(_client(server, account), "throttle_after", 1, "t2"), action="flaky:Flaky",
                policy=_policy(fake))
    assert body["Calls"] == 2
    assert fake.sleeps == [1.5]                # x-acs-retry-after: 1500 ms, not the 0.5 s backoff


def test_503_is_retried_even_for_a_write(cloud):
    _, server, account = cloud
    fake = FakeTime()
    body = call(_flaky_call(_client(server, account), "unavailable", 3, "t3"), action="flaky:Flaky",
                policy=_policy(fake), idempotent=False)
    assert body["Calls"] == 4


def test_500_on_a_write_is_outcome_unknown_but_retried_when_idempotent(cloud):
    _, server, account = cloud
    client = _client(server, account)
    with pytest.raises(CloudError) as info:
        call(_flaky_call(client, "internal", 1, "t4"), action="flaky:Flaky", policy=_policy(FakeTime()))
    assert "outcome of this write is unknown" in str(info.value)
    assert info.value.http_status == 500
    assert _failures["t4"] == 1
    body = call(_flaky_call(client, "internal", 1, "t5"), action="flaky:Flaky", policy=_policy(FakeTime()),
                idempotent=True)
    assert body["Calls"] == 2


def test_connection_reset_is_retried_when_idempotent(cloud):
    world, server, account = cloud
    world.knobs = FirstCallsReset(2)
    fake = FakeTime()
    body = call(_flaky_call(_client(server, account), "none", 0, "r1"), action="flaky:Flaky",
                policy=_policy(fake), idempotent=True)
    assert body["Calls"] == 1                  # the dropped calls never reached the handler
    assert len(fake.sleeps) == 2
    assert [c.error_code for c in _logged(world, 3)] == ["ConnectionReset", "ConnectionReset", None]


def test_connection_reset_on_a_write_is_not_retried(cloud):
    world, server, account = cloud
    world.knobs = FirstCallsReset(1)
    fake = FakeTime()
    with pytest.raises(CloudError) as info:
        call(_flaky_call(_client(server, account), "none", 0, "r2"), action="flaky:Flaky", policy=_policy(fake))
    err = info.value
    assert err.code == errors.CONNECTION_UNKNOWN
    assert "outcome of this write is unknown" in str(err) and "plan again" in str(err).lower()
    assert fake.sleeps == []
    assert len(_logged(world, 1)) == 1


def test_connection_refused_is_safe_for_a_write_and_on_loopback_a_dead_end(cloud):
    _, server, account = cloud
    client = _client(server, account)
    endpoint = server.endpoint
    server.stop()                              # nothing listens now: the request is never sent
    fake = FakeTime()
    with pytest.raises(CloudError) as info:
        call(_flaky_call(client, "none", 0, "c1"), action="flaky:Flaky", policy=_policy(fake, max_attempts=3))
    assert info.value.code == errors.CONNECTION_NOT_SENT
    assert errors.is_retryable(info.value, idempotent=False)   # never sent: even a write may be retried
    # ...but nothing listening on this machine stays so: one attempt, saying why (issue 14).
    assert "gave up after 1 attempt" in str(info.value) and f"nothing listens on {endpoint}" in str(info.value)
    assert fake.sleeps == []


def test_budget_exhaustion_gives_up_with_the_last_error(cloud):
    _, server, account = cloud
    fake = FakeTime()
    policy = _policy(fake, budget_s=2.0)
    with pytest.raises(CloudError) as info:
        call(_flaky_call(_client(server, account), "throttle", 100, "b1"), action="flaky:Flaky", policy=policy)
    err = info.value
    assert err.code == "Throttling.User"
    assert "gave up after" in str(err)
    assert sum(fake.sleeps) <= 2.0
    assert policy.stats.attempts["flaky:Flaky"] == len(fake.sleeps) + 1


def test_retry_after_beyond_the_budget_gives_up_at_once(cloud):
    _, server, account = cloud
    fake = FakeTime()
    with pytest.raises(CloudError) as info:
        call(_flaky_call(_client(server, account), "throttle_after", 5, "b2"), action="flaky:Flaky",
             policy=_policy(fake, budget_s=1.0))
    assert fake.sleeps == []
    assert info.value.code == "Throttling.User"


def test_client_errors_are_translated_with_every_field_and_not_retried(cloud):
    _, server, account = cloud
    fake = FakeTime()
    with pytest.raises(CloudError) as info:
        call(_flaky_call(_client(server, account), "denied", 1, "d1"), action="flaky:Flaky", policy=_policy(fake))
    err = info.value
    assert (err.code, err.http_status, err.action) == ("NoPermission", 403, "flaky:Flaky")
    assert err.request_id and err.request_id != "None"
    assert err.access_denied_detail == {"AuthAction": "flaky:Flaky"}
    assert err.cloud_message.startswith("You are not authorized")
    assert "abcdef123456" not in str(err)     # a token-looking value in a message is scrubbed
    assert fake.sleeps == []


def test_not_found_helpers(cloud):
    _, server, account = cloud
    with pytest.raises(CloudError) as info:
        call(_flaky_call(_client(server, account), "missing", 1, "n1"), action="ram:GetRole",
             policy=_policy(FakeTime()))
    assert errors.is_not_found(info.value)
    assert not errors.is_already_exists(info.value)
    assert not errors.is_not_found(CloudError("InvalidAccessKeyId.NotFound", "x"))
    assert errors.is_already_exists(CloudError("EntityAlreadyExists.Role", "x"))
    assert errors.is_throttling(CloudError("Throttling.User", "x"))


def test_wrong_secret_never_appears_in_the_error(cloud):
    _, server, account = cloud
    from alibabacloud_tea_openapi.client import Client

    from tests.sandbox_clients import tea_config

    secret = "sEcReT-never-to-be-shown-123"
    errors.register_secret(secret)
    client = Client(tea_config(server.endpoint, account.root_key.access_key_id, secret))
    with pytest.raises(CloudError) as info:
        call(_flaky_call(client, "none", 0, "s1"), action="flaky:Flaky", policy=_policy(FakeTime()))
    assert info.value.code == "SignatureDoesNotMatch"
    text = f"{info.value} {info.value!r} {info.value.cloud_message}"
    assert secret not in text


def test_redact_strips_tokens_urls_and_registered_secrets():
    errors.register_secret("registered-secret-value")
    raw = ("Max retries exceeded with url: /?AccessKeyId=STS.x&SecurityToken=CAIS-very-secret&Signature=abc "
           "Bearer abcdefghijklmnop eyJhbGciOi.eyJzdWIiOiJ4In0.sig registered-secret-value")
    out = errors.redact(raw)
    for leaked in ("CAIS-very-secret", "Signature=abc", "abcdefghijklmnop", "eyJzdWIiOiJ4In0",
                   "registered-secret-value"):
        assert leaked not in out


def test_credential_exception_is_translated():
    from alibabacloud_credentials.exceptions import CredentialException

    err = errors.translate(CredentialException("no provider could load credentials"), action="sts:AssumeRole")
    assert err.code == errors.CREDENTIALS_CODE and err.action == "sts:AssumeRole"
    assert "could not obtain credentials" in str(err)


def test_non_json_answer_is_invalid_response_not_retried():
    from darabonba.exceptions import UnretryableException
    from darabonba.policy.retry import RetryPolicyContext

    ctx = RetryPolicyContext(retries_attempted=1, exception=RuntimeError("Failed to parse the value as json"))
    err = errors.translate(UnretryableException(ctx), action="cs:DescribeClusterDetail")
    assert err.code == "InvalidResponse"
    assert not errors.is_retryable(err)


def test_invoke_returns_the_body_map(cloud):
    _, server, account = cloud
    from tests.sandbox_clients import sdk_client

    client = sdk_client("alibabacloud_sts20150401", server.endpoint, account.root_key)
    body = invoke(lambda: client, "get_caller_identity_with_options", action="sts:GetCallerIdentity",
                  idempotent=True)
    assert body["AccountId"] == account.uid


def test_proxy_env_does_not_break_loopback_calls(cloud, tmp_path, monkeypatch):
    """The SDK ignores NO_PROXY; the session removes HTTP(S)_PROXY for a loopback sandbox."""
    from acrx.cloud.sandbox_target import SandboxTarget
    from acrx.cloud.session import CloudSession
    from tests.sandbox_clients import sdk_client

    _, server, account = cloud
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")   # nothing listens on the discard port
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    # First prove the trap: a bare SDK client goes to the proxy despite NO_PROXY.
    bare = sdk_client("alibabacloud_sts20150401", server.endpoint, account.root_key)
    with pytest.raises(CloudError) as info:
        invoke(lambda: bare, "get_caller_identity_with_options", action="sts:GetCallerIdentity",
               policy=RetryPolicy.no_retries(), idempotent=True)
    assert info.value.code == errors.CONNECTION_NOT_SENT

    key = account.root_key
    (tmp_path / "sandbox.env").write_text(
        f"export ACRX_SANDBOX_ENDPOINT={server.endpoint}\n"
        f"export ACRX_SANDBOX_CLUSTER_ACCESS_KEY_ID={key.access_key_id}\n"
        f"export ACRX_SANDBOX_CLUSTER_ACCESS_KEY_SECRET={key.secret}\n")
    session = CloudSession(_config(), SandboxTarget.load(tmp_path), retry_policy=RetryPolicy.no_retries())
    assert session.account("cluster").sts_api.caller_identity().account_id == account.uid


def _config():
    from acrx.config.model import AcrxConfig

    env = {"access_key_id": "ACRX_SANDBOX_CLUSTER_ACCESS_KEY_ID",
           "access_key_secret": "ACRX_SANDBOX_CLUSTER_ACCESS_KEY_SECRET"}
    return AcrxConfig.model_validate({
        "accounts": {"cluster": {"env": env}, "registry": {"env": env}},
        "cluster": {"account": "cluster", "id": "c0123456789abcdef0123456789abcdef", "region": "cn-hangzhou"},
        "registries": [{"account": "registry", "instance_id": "cri-a1b2c3d4e5f6g7h8", "region": "cn-hangzhou"}],
    })
