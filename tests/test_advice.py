"""The advisor port (core.advice): decision messages asked of someone outside before the core
decides, over real HTTP, with the write lock free while the advisor thinks."""
from __future__ import annotations

import sqlite3

from sqlalchemy import select

from soapgw.core import events, messages as m
from soapgw.core.advice import Advice
from soapgw.store.models import Transaction

from soap_messages import body_of, envelope, post, text_of


class Upstream:
    """An advisor with fixed opinions (the port's contract, as the bridge and the external
    authorization implement it); it checks that no write transaction is open meanwhile."""

    def __init__(self, database_path: str | None):
        self.database_path = database_path
        self.asked: list[str] = []
        self.lock_was_free: list[bool] = []

    def advise(self, call, request):
        self.asked.append(call.action)
        if self.database_path:  # SQLite: could another writer start now?
            probe = sqlite3.connect(self.database_path, timeout=0.2)
            try:
                probe.execute("BEGIN IMMEDIATE")
                probe.rollback()
                self.lock_was_free.append(True)
            except sqlite3.OperationalError:
                self.lock_was_free.append(False)
            finally:
                probe.close()
        if call.action == "BootNotification":
            return Advice(m.BootNotificationResponse(status="Pending", current_time=call.received_at,
                                                     interval=60), "upstream")
        if call.action == "Authorize" and request.id_tag == "UP-ONLY":
            return Advice(m.AuthorizeResponse(id_tag_info=m.IdTagInfo(status="Accepted")),
                          "upstream")
        if call.action == "StartTransaction":
            return Advice(m.StartTransactionResponse(transaction_id=0, id_tag_info=m.IdTagInfo(
                status="Blocked")), "upstream")
        return None  # no opinion: the local rules decide


def test_decisions_come_from_the_advisor(gateway, seed, live_url):
    seed.station("CB-A")
    url = gateway.settings.database_url
    upstream = Upstream(url.removeprefix("sqlite:///") if url.startswith("sqlite") else None)
    gateway.central_system.advisors.append(upstream)

    def send(action, body):
        reply = post(live_url, envelope("CB-A", body, action=f"/{action}"), action=f"/{action}")
        assert reply.status_code == 200, reply.text
        return body_of(reply.content)

    boot = send("BootNotification", "<cs:bootNotificationRequest><cs:chargePointVendor>V"
                "</cs:chargePointVendor><cs:chargePointModel>M</cs:chargePointModel>"
                "</cs:bootNotificationRequest>")
    assert (text_of(boot, "status"), text_of(boot, "interval")) == ("Pending", "60")
    assert text_of(send("Authorize", "<cs:authorizeRequest><cs:idTag>UP-ONLY</cs:idTag>"
                                     "</cs:authorizeRequest>"), "status") == "Accepted"
    # no opinion: unknown locally, Invalid
    assert text_of(send("Authorize", "<cs:authorizeRequest><cs:idTag>OTHER</cs:idTag>"
                                     "</cs:authorizeRequest>"), "status") == "Invalid"
    start = send("StartTransaction", "<cs:startTransactionRequest><cs:connectorId>1"
                 "</cs:connectorId><cs:idTag>UP-ONLY</cs:idTag><cs:timestamp>"
                 "2030-01-01T10:00:00Z</cs:timestamp><cs:meterStart>0</cs:meterStart>"
                 "</cs:startTransactionRequest>")
    assert text_of(start, "status") == "Blocked"
    send("Heartbeat", "<cs:heartbeatRequest/>")

    assert upstream.asked == ["BootNotification", "Authorize", "Authorize", "StartTransaction"]
    assert all(upstream.lock_was_free)
    with gateway.sessions() as db:
        transaction = db.scalars(select(Transaction)).one()  # stored, with the gateway's id
        assert (transaction.start_status, int(text_of(start, "transactionId"))) == \
            ("Blocked", transaction.id)
        decided = [(e.payload["action"], e.payload.get("decidedBy"))
                   for e in events.read(db, types=["station.message"])]
    assert decided == [("BootNotification", "upstream"), ("Authorize", "upstream"),
                       ("Authorize", None), ("StartTransaction", "upstream"), ("Heartbeat", None)]


def test_impostors_and_strangers_are_never_advised(gateway, seed, live_url):
    """Only a registered, Accepted station whose message may speak as it is asked about
    outside (core.station_access decides, before the advisor sees anything)."""
    seed.station("CB-BOUND", auth_networks="127.0.0.2/32")  # its messages come from .2 only
    seed.station("CB-PENDING", status="Pending")
    upstream = Upstream(None)
    gateway.central_system.advisors.append(upstream)
    body = "<cs:authorizeRequest><cs:idTag>UP-ONLY</cs:idTag></cs:authorizeRequest>"
    for identity in ("CB-BOUND", "CB-PENDING", "CB-UNKNOWN"):
        post(live_url, envelope(identity, body, action="/Authorize"), action="/Authorize")
    assert upstream.asked == []


def test_a_failing_advisor_leaves_the_decision_to_the_local_rules(gateway, seed, live_url):
    seed.station("CB-A")
    seed.tag("LOCAL")

    class Broken:
        def advise(self, call, request):
            raise RuntimeError("the upstream link object is broken")

    gateway.central_system.advisors.append(Broken())
    reply = post(live_url, envelope("CB-A", "<cs:authorizeRequest><cs:idTag>LOCAL</cs:idTag>"
                                            "</cs:authorizeRequest>", action="/Authorize"),
                 action="/Authorize")
    assert reply.status_code == 200 and text_of(body_of(reply.content), "status") == "Accepted"
