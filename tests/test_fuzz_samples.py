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
import random
import time

import pytest
from lxml import etree
from sqlalchemy import func, select

from conftest import SAMPLES
from soapgw.store.models import ChargeBox, JournalEntry

SEED = 1212
# a few seconds each: PostgreSQL commits cost more (the range checks that differ between the
# databases have their own tests in test_hostile_input.py)
MUTATIONS = {"sqlite": 3000, "postgresql": 600}
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
NAMESPACES = ["urn://Ocpp/Cs/2015/10/", "urn://Ocpp/Cs/2012/06/", "urn://Ocpp/Cp/2015/10/",
              "urn://Ocpp/Cp/2012/06/", "urn://Ocpp/Cs/2010/08/", "urn:x", None]
VALUES = ["", " ", "-7", "0", "-1", "2147483647", "2147483648", "-2147483649", str(2**63),
          str(10**30), "9" * 400, "1e400", "NaN", "abc", "1.5", "0x10", "true", "2",
          "2026-13-45T99:99:99Z", "2026-02-30T10:00:00Z", "0000-01-01T00:00:00",
          "9999-12-31T23:59:59.9999999+14:00",
          "x" * 3000, "\u00e9\u00e8\U0001F600", "Accepted", "Invalid", "Charging", "Occupied",
          "Energy.Active.Import.Register", "L1", "Wh", "Sample.Periodic",
          "http://:8082/", "http://127.0.0.1:1/", "urn:uuid:dup"]


def _samples() -> list[bytes]:
    """Requests stations sent (the CS->CP captures are not for this endpoint)."""
    return [p.read_bytes() for p in sorted(SAMPLES.glob("1[56]_*_req_*.xml"))
            if "izivia-cs" not in p.name and "adp" not in p.name]


def _elements(root) -> list:
    return [e for e in root.iter() if isinstance(e.tag, str)]


def _mutate_tree(data: bytes, rng: random.Random) -> bytes:
    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    for _ in range(rng.randint(1, 3)):
        elements = _elements(root)
        target = rng.choice(elements)
        kind = rng.randrange(9)
        if kind == 0 and len(target) == 0:
            target.text = rng.choice(VALUES)
        elif kind == 1 and target.getparent() is not None:
            target.getparent().remove(target)
        elif kind == 2 and target.getparent() is not None:
            target.addnext(etree.fromstring(etree.tostring(target)))
        elif kind == 3:
            target.set(f"{{{XSI}}}nil", rng.choice(["true", "1", "false"]))
        elif kind == 4:
            target.set(f"{{{XSI}}}type", rng.choice(["xs:string", "xs:int", "cs:AuthorizeRequest",
                                                     "IdTagInfo", "nope:x"]))
        elif kind == 5:
            target.set(f"{{{rng.choice([SOAP12, SOAP11])}}}mustUnderstand",
                       rng.choice(["true", "1", "0"]))
        elif kind == 6 and target.getparent() is not None:
            name = etree.QName(target).localname
            target.tag = etree.QName(rng.choice(NAMESPACES), rng.choice(
                [name, name.upper(), name + "X", "heartbeatRequest", "authorizeRequest"])).text
        elif kind == 7:
            target.text = (target.text or "") + rng.choice(VALUES)
        else:
            sibling = rng.choice(elements)
            if sibling is not target and target not in sibling.iterancestors() \
                    and sibling not in target.iterancestors() and target.getparent() is not None:
                target.addnext(sibling)
    return etree.tostring(root)


def _mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    kind = rng.randrange(4)
    at = rng.randrange(len(data))
    if kind == 0:
        return data[:at]
    if kind == 1:
        return data[:at] + bytes([rng.randrange(256)]) + data[at + 1:]
    if kind == 2:
        return data[:at] + rng.choice([b"<", b"&", b"]]>", b"\x00", b"&lol;", b"<!--"]) + data[at:]
    return data.replace(b"2003/05/soap-envelope", b"2003/05/soap-envelopeX", 1)


def mutations(count: int, seed: int):
    rng = random.Random(seed)
    samples = _samples()
    for _ in range(count):
        data = rng.choice(samples)
        try:
            mutated = _mutate_tree(data, rng) if rng.random() < 0.85 else _mutate_bytes(data, rng)
        except etree.XMLSyntaxError:  # the one sample that is not well-formed
            mutated = _mutate_bytes(data, rng)
        yield mutated, rng.choice(["application/soap+xml; charset=utf-8",
                                   "text/xml; charset=utf-8"])


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
    for data in _samples():
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
