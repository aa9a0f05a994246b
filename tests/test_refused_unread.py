"""Large messages are read only once their station is known to be allowed to send them
(issue 14, goal 2): reading costs up to ~10 µs of CPU per element, so a sender whose message
is refused anyway (an unknown id, a station not Accepted, a wrong password) must not make the
gateway read a megabyte of meter values first. Such a message is refused with SecurityError
(401/403 for credentials) before the lenient reader walks it, journaled whole, and recorded
as any refused message is (the unknown station, the event with ``"request": null``).

Each large message below carries an unreadable essential field (connectorId "x"): read, it
would be refused with TypeConstraintViolation; refused unread, it gets SecurityError."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

import hostile_envelopes as hostile
from soap_messages import fault_subcode, post
from soapgw.core.passwords import hash_password
from soapgw.soap_in.endpoint import CHECK_BEFORE_READING
from soapgw.store.models import ChargeBox, Event, JournalEntry, MeterValueRow, UnknownChargeBox


def meter_values(identity: str, connector: str = "x", count: int = 600) -> bytes:
    """A MeterValues of ``count`` timestamped readings (600: ~70 KB)."""
    values = "".join(f"<cs:meterValue><cs:timestamp>2026-03-01T10:{i // 60 % 60:02}:"
                     f"{i % 60:02}Z</cs:timestamp><cs:sampledValue><cs:value>{i}</cs:value>"
                     "</cs:sampledValue></cs:meterValue>" for i in range(count))
    return hostile.wrap(identity, f"<cs:meterValuesRequest><cs:connectorId>{connector}"
                                  f"</cs:connectorId>{values}</cs:meterValuesRequest>",
                        "MeterValues")


def journal(seed) -> list[JournalEntry]:
    return seed.scalars(select(JournalEntry).order_by(JournalEntry.id))


def message_events(seed) -> list[dict]:
    return [json.loads(e.payload) for e in seed.scalars(select(Event).order_by(Event.id))
            if e.type == "station.message"]


def test_the_test_messages_are_large_and_small_where_meant():
    assert len(meter_values("WHO")) > CHECK_BEFORE_READING
    assert len(meter_values("WHO", count=10)) < CHECK_BEFORE_READING


def test_a_large_message_from_an_unknown_station_is_refused_unread(live_url, seed):
    data = meter_values("WHO")
    response = post(live_url, data)
    assert response.status_code == 400
    assert fault_subcode(response.content) == "SecurityError", response.text[:300]
    incoming, outgoing = journal(seed)
    assert (incoming.charge_box_id, incoming.action, incoming.raw) == ("WHO", "MeterValues",
                                                                        data)
    assert (outgoing.direction, outgoing.fault_code) == ("out", "SecurityError")
    assert [u.charge_box_id for u in seed.scalars(select(UnknownChargeBox))] == ["WHO"]
    [event] = message_events(seed)
    assert event["action"] == "MeterValues" and event["request"] is None
    assert event["error"]["code"] == "SecurityError"
    assert "not registered" in event["error"]["description"]


def test_a_small_message_from_an_unknown_station_is_read_as_before(live_url, seed):
    response = post(live_url, meter_values("WHO", count=10))
    assert fault_subcode(response.content) == "TypeConstraintViolation", response.text[:300]


def test_a_large_message_from_a_station_not_accepted_is_refused_unread(live_url, seed):
    seed.station("CB-PENDING", status="Pending")
    response = post(live_url, meter_values("CB-PENDING"))
    assert fault_subcode(response.content) == "SecurityError", response.text[:300]
    [event] = message_events(seed)
    assert event["request"] is None and "Pending" in event["error"]["description"]
    # the gate's records are written as for any message: the station was heard from
    [station] = seed.scalars(select(ChargeBox))
    assert station.last_message_at is not None
    assert seed.scalars(select(MeterValueRow)) == []


def test_a_large_message_without_the_stations_password_is_refused_unread(live_url, seed):
    seed.station("CB-P", auth_password_hash=hash_password("a-long-station-password"))
    response = post(live_url, meter_values("CB-P"))
    assert response.status_code == 401 and "Basic" in response.headers["WWW-Authenticate"]
    assert fault_subcode(response.content) == "SecurityError", response.text[:300]
    assert [e.fault_code for e in journal(seed)] == [None, "SecurityError"]
    assert seed.scalars(select(MeterValueRow)) == []


def test_a_large_message_from_an_accepted_station_is_read_and_stored(live_url, seed):
    seed.station("CB1")
    broken = post(live_url, meter_values("CB1"))  # read: its connectorId is unusable
    assert fault_subcode(broken.content) == "TypeConstraintViolation", broken.text[:300]
    response = post(live_url, meter_values("CB1", connector="1"))
    assert response.status_code == 200, response.text[:300]
    assert len(seed.scalars(select(MeterValueRow))) == 600
    assert message_events(seed)[-1]["request"]["connectorId"] == 1


def test_a_large_boot_notification_from_an_unknown_station_is_read(live_url, seed):
    """An unknown station is answered from its BootNotification (Rejected, or registered
    when SOAPGW_AUTO_REGISTER allows): it is always read."""
    unknown = "".join(f"<cs:x{i}>{'v' * 20}</cs:x{i}>" for i in range(600))
    data = hostile.wrap("NEW", "<cs:bootNotificationRequest><cs:chargePointVendor>V"
                               "</cs:chargePointVendor><cs:chargePointModel>M"
                               f"</cs:chargePointModel>{unknown}</cs:bootNotificationRequest>",
                        "BootNotification")
    assert len(data) > CHECK_BEFORE_READING
    response = post(live_url, data)
    assert response.status_code == 200, response.text[:300]
    assert b"Rejected" in response.content
    [event] = message_events(seed)
    assert event["request"]["chargePointVendor"] == "V"
    assert [u.charge_box_id for u in seed.scalars(select(UnknownChargeBox))] == ["NEW"]


@pytest.mark.parametrize("status", ["Accepted", "Pending"])
def test_a_station_accepted_between_look_up_and_transaction_sends_again(gateway, status):
    """The look-up and the write transaction are apart: a refusal decided unread stands
    (SecurityError), whatever the station's state by then; it tells the station to resend."""
    from soapgw.core.call import StationCall
    from soapgw.core.errors import OcppError
    with gateway.sessions.begin() as db:
        db.add(ChargeBox(charge_box_id="CB-RACE", registration_status=status))
    call = StationCall(charge_box_id="CB-RACE", action="MeterValues", ocpp_version="1.6",
                       soap_version="1.2")
    with gateway.engine.begin() as db, pytest.raises(OcppError) as refused:
        gateway.central_system.process(db, call, None)  # None: not read
    assert refused.value.code.value == "SecurityError"
    assert ("send it again" in refused.value.reason) == (status == "Accepted")
