"""Faults of a running sandbox: `acrx sandbox faults` changes what an SDK client sees and `--clear`
restores it; and the sandbox survives clients that vanish mid-call (no traceback in sandbox.log,
no half-applied write, still answering)."""

from __future__ import annotations

import signal
import socket
import ssl
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.sandbox_fixture import running_sandbox

pytestmark = pytest.mark.timeout(300)
CBN = "alibabacloud_cbn20170912"


def _cbn_models():
    from alibabacloud_cbn20170912 import models

    return models


def _describe_cens(sb):
    return sb.client(CBN).describe_cens(_cbn_models().DescribeCensRequest()).body.cens.cen


def test_faults_command_changes_what_an_sdk_client_sees_and_clear_restores_it(tmp_path, run_cli):
    from alibabacloud_tea_openapi.exceptions import AlibabaCloudException, ServerException

    with running_sandbox(tmp_path) as sb:
        assert _describe_cens(sb) == []
        result = run_cli("sandbox", "faults", "--state-dir", sb.dir, "--error-rate", "1", "--only-actions", "DescribeCens",
                         "--latency", "50ms", "--fail-task", "rrsa,peering", "--seed", "3")
        assert result.exit_code == 0, result.stderr
        assert "error-rate         1" in result.stdout and "fail-task          peering,rrsa" in result.stdout
        assert "latency            50ms" in result.stdout
        with pytest.raises(ServerException) as info:
            _describe_cens(sb)
        assert (info.value.code, info.value.status_code) == ("ServiceUnavailable", 503)
        assert sb.world.knobs.task_fails("rrsa") and sb.world.knobs.latency_s == pytest.approx(0.05)

        cleared = run_cli("--sandbox", sb.dir, "sandbox", "faults", "--clear")   # DIR from --sandbox
        assert cleared.exit_code == 0, cleared.stderr
        assert "error-rate         0" in cleared.stdout and "fail-task          none" in cleared.stdout
        assert _describe_cens(sb) == []

        # The lost answer, set from the command: the CEN exists although the caller got no answer.
        lost = run_cli("sandbox", "faults", "--state-dir", sb.dir, "--lost-answer-rate", "1", "--only-actions", "CreateCen")
        assert lost.exit_code == 0, lost.stderr
        with pytest.raises(Exception) as info:
            sb.client(CBN).create_cen(_cbn_models().CreateCenRequest(name="acrx"))
        assert not isinstance(info.value, AlibabaCloudException)   # no answer at all
        assert [c.name for c in _describe_cens(sb)] == ["acrx"]
        assert run_cli("sandbox", "faults", "--state-dir", sb.dir, "--clear").exit_code == 0
        assert sb.world.knobs.snapshot()["lost_answer_rate"] == 0.0


@pytest.mark.parametrize("args, field", [
    (["--throttle", "1.5"], "--throttle"),
    (["--lost-answer-rate", "-0.1"], "--lost-answer-rate"),
    (["--latency", "fast"], "--latency"),
    (["--consistency-delay", "2h"], "--consistency-delay"),
    (["--fail-task", "rrsa,nonsense"], "--fail-task"),
    (["--only-actions", "create cen"], "--only-actions"),
])
def test_bad_fault_values_exit_2_and_change_nothing(tmp_path, run_cli, args, field):
    with running_sandbox(tmp_path) as sb:
        sb.world.knobs.set(error_rate=0.25)
        before = sb.world.knobs.snapshot()
        result = run_cli("sandbox", "faults", "--state-dir", sb.dir, "--reset-rate", "0.5", *args)
        assert result.exit_code == 2
        assert field in result.stderr and len(result.stderr.strip().splitlines()) <= 2
        assert sb.world.knobs.snapshot() == before


def test_the_control_endpoint_needs_the_operators_secret(tmp_path, run_cli):
    with running_sandbox(tmp_path) as sb:
        forged = tmp_path / "forged"
        forged.mkdir()
        text = (sb.dir / "sandbox.env").read_text()
        lines = [line if "CONTROL_SECRET" not in line else "export ACRX_SANDBOX_CONTROL_SECRET=guess"
                 for line in text.splitlines()]
        (forged / "sandbox.env").write_text("\n".join(lines) + "\n")
        result = run_cli("sandbox", "faults", "--state-dir", forged, "--error-rate", "1")
        assert result.exit_code == 1 and "401" in result.stderr
        assert sb.world.knobs.error_rate == 0.0
        assert oct((sb.dir / "sandbox.env").stat().st_mode & 0o777) == "0o600"


# -- the sandbox survives its clients -----------------------------------------------------------
def _address(url: str) -> tuple[str, int]:
    host, port = url.split("://", 1)[-1].rstrip("/").rsplit(":", 1)
    return host, int(port)


def _connect(address, tls: bool):
    sock = socket.create_connection(address, timeout=10)
    if tls:
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        sock = context.wrap_socket(sock)
    return sock


def _reset(sock) -> None:
    """Close with RST, as a killed process's kernel does when data is unread."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _serve(state: Path):
    log = open(state.parent / "sandbox.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "acrx.sandbox", "serve", "--state-dir", str(state),
                             "--clock-scale", "0"], stdout=log, stderr=log)
    deadline = time.monotonic() + 120
    while not ((state / "sandbox.env").exists() and (state / "kubeconfig").exists()):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("the sandbox did not start: " + (state.parent / "sandbox.log").read_text()[-3000:])
        time.sleep(0.1)
    return proc, state.parent / "sandbox.log"


def _hostile_clients(address, tls: bool, paths: list[str], token: str = "") -> None:
    socket.create_connection(address, timeout=10).close()                      # connect, say nothing
    sock = _connect(address, tls)
    sock.sendall(b"GET /v2/ HT")                                                # half a request line
    sock.close()
    for path in paths:
        sock = _connect(address, tls)                                           # ask, then vanish
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n".encode())
        _reset(sock)
        sock = _connect(address, tls)
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        sock.close()
    sock = _connect(address, tls)                                               # a body that never comes
    sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4000\r\n\r\nAction=Cre")
    _reset(sock)
    sock = _connect(address, tls)
    sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: nonsense\r\n\r\n")
    sock.close()
    if tls:
        plain = socket.create_connection(address, timeout=10)                  # plain HTTP to TLS
        plain.sendall(b"GET / HTTP/1.1\r\n\r\n")
        plain.close()
        plain = socket.create_connection(address, timeout=10)                  # half a handshake
        plain.sendall(b"\x16\x03\x01\x00")
        plain.close()


def _truncated_configmap(address, token: str) -> None:
    """A YAML ConfigMap cut off after its first data key still parses: it must not be stored."""
    document = (b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: half\n  namespace: default\n"
                b"data:\n  first: one\n  second: two\n")
    cut = document[:document.index(b"  second")]
    sock = _connect(address, True)
    sock.sendall(b"POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: x\r\n"
                 b"Authorization: Bearer " + token.encode() + b"\r\nContent-Type: application/yaml\r\n"
                 b"Content-Length: " + str(len(document)).encode() + b"\r\n\r\n" + cut)
    time.sleep(0.3)
    _reset(sock)


_SLOW_CLIENT = """
import sys
from tests.sandbox_clients import sdk_client
from alibabacloud_cbn20170912 import models
endpoint, ak, sk = sys.argv[1:4]
print("calling", flush=True)
sdk_client("alibabacloud_cbn20170912", endpoint, (ak, sk)).describe_cens(models.DescribeCensRequest())
"""


def test_clients_that_vanish_mid_call_leave_no_traceback_and_no_half_write(tmp_path, run_cli):
    import requests

    from acrx.cloud.sandbox_target import SandboxTarget

    state = tmp_path / "sb"
    proc, log = _serve(state)
    try:
        target = SandboxTarget.load(state)
        kubeconfig = yaml.safe_load((state / "kubeconfig").read_text())
        kube_url, token = kubeconfig["clusters"][0]["cluster"]["server"], kubeconfig["users"][0]["user"]["token"]
        kube = _address(kube_url)
        _hostile_clients(_address(target.url), False, ["/", "/?Action=DescribeCens&Version=2017-09-12"])
        _hostile_clients(_address(target.registry_endpoint), False, ["/v2/", "/auth/cn-hangzhou/token"])
        _hostile_clients(kube, kube_url.startswith("https"), ["/api/v1/namespaces", "/api/v1/pods?watch=true",
                                                              "/api/v1/namespaces/default/configmaps?watch=1"], token)
        _truncated_configmap(kube, token)

        # A client process killed in the middle of a slow call.
        assert run_cli("sandbox", "faults", "--state-dir", state, "--latency", "3s").exit_code == 0
        ak, sk = target.access_key("cluster")
        client = subprocess.Popen([sys.executable, "-c", _SLOW_CLIENT, target.endpoint, ak, sk],
                                  stdout=subprocess.PIPE, cwd=Path(__file__).resolve().parents[1])
        assert client.stdout.readline().strip() == b"calling"
        time.sleep(1.0)
        client.send_signal(signal.SIGKILL)
        client.wait(timeout=30)
        time.sleep(3.5)   # the server finishes the call and writes to a dead peer
        assert run_cli("sandbox", "faults", "--state-dir", state, "--clear").exit_code == 0

        # Still answering, all three, and the cut-off ConfigMap was never stored.
        cens = subprocess.run([sys.executable, "-c", _SLOW_CLIENT, target.endpoint, ak, sk], capture_output=True,
                              cwd=Path(__file__).resolve().parents[1], timeout=60)
        assert cens.returncode == 0, cens.stderr.decode()[-2000:]
        session = requests.Session()
        session.trust_env = False
        headers = {"Authorization": f"Bearer {token}"}
        assert session.get(f"{kube_url}/api/v1/namespaces", headers=headers, verify=False, timeout=30).status_code == 200
        half = session.get(f"{kube_url}/api/v1/namespaces/default/configmaps/half", headers=headers, verify=False,
                           timeout=30)
        assert half.status_code == 404
        assert session.get(f"{target.registry_endpoint}/v2/", timeout=30).status_code in (401, 404)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    text = log.read_text(errors="replace")
    assert "Traceback" not in text, text[-4000:]
    assert "sandbox ready" in text
