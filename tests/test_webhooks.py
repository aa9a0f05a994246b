"""Webhooks end to end: a SOAP session over HTTP, the dispatcher, and a receiver that
verifies every delivery with the standardwebhooks package; retries while it is down, the
order and ids, pausing after the retry window, redelivery by hand, the URL safety rules."""
from __future__ import annotations

import ipaddress
import threading
import time

import pytest
from sqlalchemy import select

from soapgw.core import events
from soapgw.core.webhooks.policy import judge_webhook
from soapgw.http_out.pinned import PinnedClient, Refused
from soapgw.http_out.webhooks import Dispatcher
from soapgw.store.models import EventConsumer

from api_support import api, problem, tokens  # noqa: F401
from conftest import make_settings
from soap_messages import envelope, post
from webhook_receiver import Receiver

LOCAL = (ipaddress.ip_network("127.0.0.0/8"),)


@pytest.fixture
def settings(database_url, tmp_path):
    return make_settings(database_url, tmp_path, webhook_allowed_networks=LOCAL,
                         webhook_retry_base=0.2, webhook_retry_window=3600, webhook_timeout=2)


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def dispatcher(gateway):
    stop = threading.Event()
    dispatcher = Dispatcher(gateway.sessions, gateway.settings, poll=0.05)
    thread = threading.Thread(target=dispatcher.run, args=(stop,), daemon=True)
    thread.start()
    yield dispatcher
    stop.set()
    thread.join(10)


def subscribe(api, receiver, **fields) -> dict:
    created = api.post("/api/v1/webhooks", json={"url": receiver.url, **fields})
    assert created.status_code == 201, created.text
    receiver.secret = created.json()["secret"]
    return created.json()


SESSION = [
    ("BootNotification", "<cs:bootNotificationRequest><cs:chargePointVendor>Acme"
     "</cs:chargePointVendor><cs:chargePointModel>X1</cs:chargePointModel>"
     "</cs:bootNotificationRequest>"),
    ("StatusNotification", "<cs:statusNotificationRequest><cs:connectorId>1</cs:connectorId>"
     "<cs:status>Charging</cs:status><cs:errorCode>NoError</cs:errorCode>"
     "</cs:statusNotificationRequest>"),
    ("Authorize", "<cs:authorizeRequest><cs:idTag>TAG1</cs:idTag></cs:authorizeRequest>"),
    ("StartTransaction", "<cs:startTransactionRequest><cs:connectorId>1</cs:connectorId>"
     "<cs:idTag>TAG1</cs:idTag><cs:timestamp>2030-01-01T10:00:00Z</cs:timestamp>"
     "<cs:meterStart>1000</cs:meterStart></cs:startTransactionRequest>"),
    ("Heartbeat", "<cs:heartbeatRequest/>"),
    ("StopTransaction", "<cs:stopTransactionRequest><cs:transactionId>{tx}</cs:transactionId>"
     "<cs:timestamp>2030-01-01T10:30:00Z</cs:timestamp><cs:meterStop>4000</cs:meterStop>"
     "</cs:stopTransactionRequest>"),
]


_DAY = iter(range(1, 10_000))


def run_session(live_url: str, identity: str, repeat: int = 1) -> None:
    """The session, each time on another day (a new transaction, not a resent start)."""
    from soap_messages import body_of, text_of
    for _ in range(repeat):
        day, tx = next(_DAY), None
        for action, body in SESSION:
            body = body.replace("2030-01-01", f"{2030 + day // 28}-01-{day % 28 + 1:02d}")
            reply = post(live_url, envelope(identity, body.replace("{tx}", str(tx)),
                                            action=f"/{action}"), action=f"/{action}")
            assert reply.status_code == 200, reply.text
            if action == "StartTransaction":
                tx = text_of(body_of(reply.content), "transactionId")


def wait_for(condition, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def stored_event_ids(gateway, after: int) -> list[int]:
    with gateway.sessions() as db:
        return [e.id for e in events.read(db, after, 10_000)]


def test_every_event_of_a_session_in_order_through_an_outage(api, gateway, seed, live_url,
                                                             receiver, dispatcher):
    seed.station("CP-W")
    seed.tag("TAG1", max_active_transactions=0)
    hook = subscribe(api, receiver)
    with gateway.sessions() as db:
        start = events.last_id(db)
    receiver.down = True  # the receiver is away while the station talks
    run_session(live_url, "CP-W", repeat=3)
    wait_for(lambda: receiver.refused >= 3)
    receiver.down = False
    expected = stored_event_ids(gateway, start)
    assert len(expected) >= 3 * len(SESSION)
    wait_for(lambda: receiver.event_ids()[-1:] == expected[-1:] if receiver.accepted else False)

    ids = receiver.event_ids()
    assert ids == expected  # every event, in order, each accepted once
    assert receiver.bad_signatures == 0
    assert [message_id for message_id, _ in receiver.accepted] == [f"msg_{i}" for i in expected]
    first = receiver.accepted[0][1]
    assert first["type"] == "station.message" and first["data"]["payload"]["action"] == \
        "BootNotification" and first["data"]["chargeBoxId"] == "CP-W"
    log = api.get(f"{hook['links']['deliveries']}?limit=500").json()["items"]
    assert {d["state"] for d in log} == {"delivered"}
    oldest = log[-1]
    assert oldest["attempts"] >= 2 and oldest["lastStatus"] == 200
    with gateway.sessions() as db:  # the cursor holds the event purge back until delivered
        cursor = db.scalar(select(EventConsumer.last_event_id).where(
            EventConsumer.name == f"webhook:{hook['id']}"))
    assert cursor == expected[-1]

    again = api.post(oldest["links"]["redeliver"])
    assert again.status_code == 201
    wait_for(lambda: len(receiver.accepted) == len(expected) + 1)
    assert receiver.accepted[-1][0] == oldest["messageId"]  # same webhook-id: a redelivery


def test_filters_and_a_restarted_dispatcher_go_on(api, gateway, seed, live_url, receiver):
    seed.station("CP-A")
    seed.station("CP-B")
    seed.tag("TAG1", max_active_transactions=0)
    subscribe(api, receiver, types=["transaction.started", "transaction.stopped"],
              stations=["CP-B"])
    run_session(live_url, "CP-A")
    run_session(live_url, "CP-B")
    Dispatcher(gateway.sessions, gateway.settings).run_once()  # a first process
    first = list(receiver.accepted)
    run_session(live_url, "CP-B")
    second = Dispatcher(gateway.sessions, gateway.settings)  # after a restart
    wait_for(lambda: second.run_once() == 0 and len(receiver.accepted) == 4)
    types = [(body["type"], body["data"]["chargeBoxId"]) for _, body in receiver.accepted]
    assert types == [("transaction.started", "CP-B"), ("transaction.stopped", "CP-B")] * 2
    assert receiver.accepted[:2] == first


def test_paused_after_the_retry_window_then_resumed(api, gateway, seed, live_url, receiver,
                                                    tmp_path, database_url):
    seed.station("CP-P")
    hook = subscribe(api, receiver, types=["station.message"])
    receiver.down = True
    post(live_url, envelope("CP-P", "<cs:heartbeatRequest/>", action="/Heartbeat"),
         action="/Heartbeat")
    short = make_settings(database_url, tmp_path, webhook_allowed_networks=LOCAL,
                          webhook_retry_base=0.1, webhook_retry_window=0.5)
    dispatcher = Dispatcher(gateway.sessions, short)
    wait_for(lambda: dispatcher.run_once() is not None and
             api.get(hook["links"]["self"]).json()["state"] == "paused")
    paused = api.get(hook["links"]["self"]).json()
    assert "HTTP 503" in paused["pausedReason"] and paused["pending"] == 1
    assert dispatcher.run_once() == 0  # nothing goes to a paused subscription
    receiver.down = False
    assert api.patch(hook["links"]["self"], json={"active": True}).json()["state"] == "active"
    wait_for(lambda: dispatcher.run_once() == 0 and len(receiver.accepted) == 1)
    assert receiver.accepted[0][1]["data"]["payload"]["action"] == "Heartbeat"


def test_webhook_urls_follow_the_outbound_safety_rules():
    judge = judge_webhook
    assert judge("https://hooks.example.com/x", ["93.184.215.14"]).allowed
    assert not judge("http://169.254.169.254/latest", ["169.254.169.254"], LOCAL).allowed
    assert not judge("http://[fe80::1]/x", ["fe80::1"], (ipaddress.ip_network("::/0"),)).allowed
    refused = judge("http://localhost:9/x", ["127.0.0.1"])
    assert not refused.allowed and "SOAPGW_WEBHOOK_ALLOWED_NETWORKS" in refused.reason
    assert judge("http://localhost:9/x", ["127.0.0.1"], LOCAL).allowed
    assert not judge("http://db.internal/x", ["10.0.0.5"], LOCAL).allowed
    assert not judge("http://two.example/x", ["93.184.215.14", "10.0.0.5"]).allowed
    assert not judge("file:///etc/passwd", []).allowed


def test_the_client_connects_to_the_address_it_judged(receiver):
    """A host whose name resolved to an allowed address is reached at that address, with
    the name in the Host header; a name that resolves to a refused one is never contacted."""
    port = receiver.server.server_port
    answers = {"hooks.test": ["127.0.0.1"], "evil.test": ["169.254.169.254"]}
    client = PinnedClient(lambda url, resolved: judge_webhook(url, resolved, LOCAL),
                          resolver=lambda url: answers[url.split("/")[2].split(":")[0]])
    receiver.secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    status, _ = client.post(f"http://hooks.test:{port}/x", b"{}", {}, 2)
    assert status == 401  # reached the receiver (which refuses the unsigned body)
    with pytest.raises(Refused):
        client.post(f"http://evil.test:{port}/x", b"{}", {}, 2)
