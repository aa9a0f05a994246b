"""Real OCPP 1.6 station messages (../shared/soap-samples) get a valid answer from the gateway."""
from __future__ import annotations

import pytest
from lxml import etree
from sqlalchemy import select

from conftest import SAMPLES
from official_schema import schema_errors
from soap_messages import body_of, fault_subcode, post
from soapgw.store.models import JournalEntry, StationQuirk

REQUESTS_16 = sorted(p.name for p in SAMPLES.glob("16_*_req_*.xml")
                     if "GetCompositeSchedule" not in p.name  # CS->CP requests, not ours
                     and "SetChargingProfile" not in p.name and "RemoteStart" not in p.name)


def identity_of(data: bytes) -> str:
    root = etree.fromstring(data)
    (value,) = root.xpath("//*[local-name()='chargeBoxIdentity']/text()")
    return value.strip()


def id_tags_of(data: bytes) -> list[str]:
    return [t.strip() for t in etree.fromstring(data).xpath("//*[local-name()='idTag']/text()")]


@pytest.mark.parametrize("sample", REQUESTS_16)
def test_field_sample_gets_a_valid_answer(live_url, seed, sample):
    data = (SAMPLES / sample).read_bytes()
    seed.station(identity_of(data))  # the sample's own station id, read at test time
    for tag in id_tags_of(data):
        seed.tag(tag)
    response = post(live_url, data)
    assert response.status_code == 200, response.text
    reply = body_of(response.content)
    assert schema_errors(reply, "CentralSystemService", "1.6") == []
    operation = sample.split("_")[1]
    assert etree.QName(reply).localname == operation[0].lower() + operation[1:] + "Response"


def test_field_samples_quirks_are_recorded(live_url, seed):
    for sample in ("16_MeterValues_req_izivia.xml", "16_StartTransaction_req_izivia.xml",
                   "16_BootNotification_req_izivia-enovates-nomodel.xml"):
        data = (SAMPLES / sample).read_bytes()
        seed.station(identity_of(data))
        for tag in id_tags_of(data):
            seed.tag(tag)
        assert post(live_url, data).status_code == 200
    codes = set(seed.scalars(select(StationQuirk.code)))
    assert {"out-of-order", "missing-required"} <= codes


def test_malformed_sample_gets_a_fault_and_a_journal_entry(live_url, seed):
    data = (SAMPLES / "15_StopTransaction_req_izivia-malformed-xsi.xml").read_bytes()
    response = post(live_url, data)
    assert response.status_code == 400
    assert fault_subcode(response.content) == "FormationViolation"
    incoming = seed.scalars(select(JournalEntry).where(JournalEntry.direction == "in"))
    assert [entry.raw for entry in incoming] == [data]
