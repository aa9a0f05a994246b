"""A seeded, bounded fuzz run: a few thousand mutations of the real station messages in
``../shared/soap-samples`` (values out of range or of the wrong type, elements dropped,
duplicated, renamed or moved to other namespaces, xsi:nil / xsi:type / mustUnderstand added,
bytes cut or flipped), each sent to the endpoint in process.

Every one must get a SOAP answer that is not a 500 (MustUnderstand excepted: the SOAP binding
answers it with 500), nothing may log a traceback, and each request leaves exactly one journal
entry in and one out."""
from __future__ import annotations

import io
import logging
import time

import pytest
from lxml import etree
from sqlalchemy import func, select

from soap_mutations import SOAP12, mutations, station_requests
from soapgw.store.models import ChargeBox, JournalEntry

SEED = 1212
# a few seconds each: PostgreSQL commits cost more (the range checks that differ between the
# databases have their own tests in test_hostile_input.py)
MUTATIONS = {"sqlite": 3000, "postgresql": 600}


def post_in_process(app, body: bytes, content_type: str) -> tuple[int, bytes]:
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer["status"] = int(status.split()[0])

    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/services/CentralSystemService",
               "QUERY_STRING": "", "CONTENT_TYPE": content_type,
               "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body),
               "REMOTE_ADDR": "127.0.0.1", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80",
               "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http"}
    reply = b"".join(app(environ, start_response))
    return answer["status"], reply


def allowed_500(reply: bytes) -> bool:
    """MustUnderstand (SOAP 1.2), or any SOAP 1.1 fault of the sender (that binding answers
    every fault with 500)."""
    root = etree.fromstring(reply)
    codes = root.xpath("//s:Fault/s:Code/s:Value/text()", namespaces={"s": SOAP12})
    if codes:
        return codes[0].endswith("MustUnderstand")
    (faultcode,) = root.xpath("//*[local-name()='faultcode']/text()")
    return "Server" not in faultcode


@pytest.fixture
def stations(seed):
    """Every station of the samples registered, with a few tags, so messages reach the core."""
    identities = set()
    for data in station_requests():
        identities |= {t.strip() for t in etree.fromstring(data, etree.XMLParser(recover=True))
                       .xpath("//*[local-name()='chargeBoxIdentity']/text()")}
    for identity in sorted(identities):
        seed.station(identity)
    for tag in ("AAAAAAAA", "TAG1"):
        seed.tag(tag)
    return identities


def test_fuzzed_field_samples_get_soap_answers_and_journal_entries(app, stations, seed, caplog,
                                                                    gateway):
    count = MUTATIONS[gateway.engine.dialect.name]
    caplog.set_level(logging.WARNING)
    started = time.perf_counter()
    problems, statuses = [], {}
    for number, (body, content_type) in enumerate(mutations(count, SEED)):
        status, reply = post_in_process(app, body, content_type)
        statuses[status] = statuses.get(status, 0) + 1
        try:
            etree.fromstring(reply)
        except etree.XMLSyntaxError:
            problems.append((number, status, "the answer is not XML", body[:200]))
            continue
        if status >= 500 and not allowed_500(reply):
            problems.append((number, status, reply[:300], body[:300]))
    elapsed = time.perf_counter() - started
    print(f"{count} mutations in {elapsed:.1f} s; HTTP statuses {sorted(statuses.items())}")
    assert problems == []
    tracebacks = [r.getMessage() for r in caplog.records
                  if r.exc_info or r.levelno >= logging.ERROR]
    assert tracebacks == []
    counts = dict(seed.rows(select(JournalEntry.direction, func.count())
                            .group_by(JournalEntry.direction)))
    assert counts == {"in": count, "out": count}
    assert seed.scalars(select(func.count()).select_from(ChargeBox))[0] == len(stations)
    assert len(statuses) > 2  # the run reached answers, refusals and faults alike
