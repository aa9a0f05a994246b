"""``soapgw serve`` as integrators meet it: tokens and webhooks from the CLI, the dispatcher
and the event stream started beside the workers, the stream's Last-Event-ID resume, and
stations still served while listeners hold streams open."""
from __future__ import annotations

import json
import threading
import time

import pytest
import requests

from conftest import command_env, free_port, soapgw_command
from soap_messages import envelope, post
from webhook_receiver import Receiver

pytestmark = pytest.mark.slow


def read_events(response, count: int) -> list[dict]:
    """The first ``count`` SSE events of a streaming response."""
    found, current = [], {}
    for line in response.iter_lines(decode_unicode=True):
        if line == "":
            if "data" in current:
                found.append(current)
                if len(found) == count:
                    return found
            current = {}
        elif not line.startswith(":"):
            key, _, value = line.partition(": ")
            current[key] = value
    return found


def test_serve_with_dispatcher_and_stream(served_gateway, sqlite_url, tmp_path):
    stream_port = free_port()
    env = command_env(sqlite_url, SOAPGW_INSTANCE_PATH=str(tmp_path / "instance"),
                      SOAPGW_WEBHOOK_ALLOWED_NETWORKS="127.0.0.0/8")
    created = soapgw_command("token", "create", "fleet", "--scope", "operate", env=env)
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert token.startswith("sgw_") and "\n" not in token
    listed = soapgw_command("token", "list", env=env).stdout
    assert "fleet\toperate" in listed and token not in listed
    receiver = Receiver()
    hooked = soapgw_command("webhook", "add", receiver.url, "--types", "station.message",
                            env=env)
    assert hooked.returncode == 0, hooked.stderr
    receiver.secret = hooked.stdout.strip()
    assert soapgw_command("chargebox", "add", "CP-S", env=env).returncode == 0
    url = served_gateway(sqlite_url, workers=2, SOAPGW_STREAM_PORT=str(stream_port),
                         SOAPGW_INSTANCE_PATH=str(tmp_path / "instance"),
                         SOAPGW_WEBHOOK_ALLOWED_NETWORKS="127.0.0.0/8")
    auth = {"Authorization": f"Bearer {token}"}
    redirect = requests.get(f"{url}/api/v1/events/stream?type=station.message", headers=auth,
                            allow_redirects=False)
    assert redirect.status_code == 307
    stream_url = redirect.headers["Location"]
    assert stream_url.startswith(f"http://127.0.0.1:{stream_port}/api/v1/events/stream")
    for _ in range(100):  # the helper process starts after gunicorn
        try:
            if requests.get(f"http://127.0.0.1:{stream_port}/health", timeout=1).ok:
                break
        except requests.RequestException:
            time.sleep(0.1)
    assert requests.get(stream_url).status_code == 401

    # listeners hold streams open; stations are still answered at once
    listeners = [requests.get(stream_url, headers=auth, stream=True, timeout=30)
                 for _ in range(8)]
    started = time.monotonic()
    for _ in range(5):
        reply = post(url, envelope("CP-S", "<cs:heartbeatRequest/>", action="/Heartbeat"),
                     action="/Heartbeat")
        assert reply.status_code == 200
    assert time.monotonic() - started < 5
    first = read_events(listeners[0], 5)
    assert [json.loads(e["data"])["payload"]["action"] for e in first] == ["Heartbeat"] * 5
    assert all(e["event"] == "station.message" for e in first)
    for listener in listeners:
        listener.close()

    # resume after the second event: the three after it, nothing twice
    resumed = requests.get(stream_url, headers={**auth, "Last-Event-ID": first[1]["id"]},
                           stream=True, timeout=30)
    assert [e["id"] for e in read_events(resumed, 3)] == [e["id"] for e in first[2:]]
    resumed.close()

    deadline = time.monotonic() + 20  # the dispatcher started by serve delivers
    while len(receiver.accepted) < 5 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [body["data"]["id"] for _, body in receiver.accepted] == \
        [int(e["id"]) for e in first]
    receiver.close()

    revoked = soapgw_command("token", "revoke", "fleet", env=env)
    assert revoked.returncode == 0
    assert requests.get(f"{url}/api/v1", headers=auth).status_code == 401
    bad = soapgw_command("token", "create", "x", "--scope", "root", env=env)
    assert bad.returncode == 2 and bad.stdout == ""
