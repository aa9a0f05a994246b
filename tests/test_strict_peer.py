"""Interoperability with a strict SOAP charge point stack (written from its observed behaviour,
not from its code): it refuses a reply without ``wsa:To`` (To must be the request's ReplyTo, or
the anonymous URI), and a command without ``wsa:From`` or ``wsa:ReplyTo``. Also the field
variants such stations send: a CentralSystemService request in the ChargePointService
namespace, unqualified WS-Addressing headers marked mustUnderstand, an empty host in From."""
from __future__ import annotations


import pytest
from lxml import etree
from sqlalchemy import select

from conftest import SAMPLES, make_settings
from outbound_support import register_station, station_server, task_runner
from soap_messages import CS15, CS16, SOAP11, SOAP12, WSA, body_of, envelope, fault_subcode, post
from soapgw.store.models import ChargeBox, JournalEntry, StationQuirk

ANONYMOUS = f"{WSA}/anonymous"
_ENVELOPES = {SOAP12, SOAP11}


# --- the strict peer's rules ------------------------------------------------------------------
def _addressing(message: bytes) -> dict[str, etree._Element]:
    """WS-Addressing 1.0 headers by local name (the strict stack reads only qualified ones)."""
    root = etree.fromstring(message)
    assert etree.QName(root).namespace in _ENVELOPES and etree.QName(root).localname == "Envelope"
    header = root.find(f"{{{etree.QName(root).namespace}}}Header")
    if header is None:
        return {}
    return {etree.QName(h).localname: h for h in header
            if isinstance(h.tag, str) and etree.QName(h).namespace == WSA}


def _address(element: etree._Element) -> str | None:
    found = element.find(f"{{{WSA}}}Address")
    return (found.text or "").strip() if found is not None else None


def strict_reply_problems(request: bytes | None, reply: bytes) -> list[str]:
    """Why the strict station would refuse ``reply`` to ``request`` (empty: accepted).

    Rules: every message has Action, MessageID and To; a reply's To is the request's ReplyTo
    address, the anonymous URI when the request had none (or could not be read); RelatesTo is
    the request's MessageID when it had one. Faults are replies like any other."""
    headers = _addressing(reply)
    problems = [f"missing wsa:{name}" for name in ("Action", "MessageID", "To")
                if name not in headers]
    expected_to, message_id = ANONYMOUS, None
    if request is not None:
        try:
            sent = _addressing(request)
        except etree.XMLSyntaxError:
            sent = {}
        if "ReplyTo" in sent:
            expected_to = _address(sent["ReplyTo"]) or ANONYMOUS
        if "MessageID" in sent:
            message_id = (sent["MessageID"].text or "").strip()
    if "To" in headers and (headers["To"].text or "").strip() != expected_to:
        problems.append(f"wsa:To is {headers['To'].text!r}, expected {expected_to!r}")
    if message_id and (headers.get("RelatesTo") is None
                       or (headers["RelatesTo"].text or "").strip() != message_id):
        problems.append("wsa:RelatesTo does not name the request")
    return problems


def strict_command_problems(command: bytes) -> list[str]:
    """Why the strict station would refuse a command: Action, MessageID and To, and From and
    ReplyTo each with an Address ("missing From")."""
    headers = _addressing(command)
    problems = [f"missing wsa:{name}" for name in ("Action", "MessageID", "To", "From", "ReplyTo")
                if name not in headers]
    for name in ("From", "ReplyTo"):
        if name in headers and not _address(headers[name]):
            problems.append(f"wsa:{name} without an Address")
    return problems


def test_the_strict_rules_refuse_what_the_station_refuses():
    """The rules themselves: a reply without To, or with the wrong To, is refused."""
    request = envelope("CB1", "<cs:heartbeatRequest/>", message_id="urn:uuid:1",
                       extra_headers=f"<a:ReplyTo><a:Address>http://cp/x</a:Address></a:ReplyTo>")
    reply = (f'<s:Envelope xmlns:s="{SOAP12}" xmlns:a="{WSA}"><s:Header>'
             "<a:Action>/HeartbeatResponse</a:Action><a:MessageID>urn:uuid:2</a:MessageID>"
             "<a:RelatesTo>urn:uuid:1</a:RelatesTo></s:Header><s:Body/></s:Envelope>").encode()
    assert strict_reply_problems(request, reply) == ["missing wsa:To"]
    wrong = reply.replace(b"<a:RelatesTo>", f"<a:To>{ANONYMOUS}</a:To><a:RelatesTo>".encode())
    assert "expected 'http://cp/x'" in strict_reply_problems(request, wrong)[0]
    command = envelope("CB1", "<cs:resetRequest/>", action="/Reset", from_address=None,
                       extra_headers="<a:To>http://cp/x</a:To>")
    assert strict_command_problems(command) == ["missing wsa:From", "missing wsa:ReplyTo"]


# --- replies ------------------------------------------------------------------------------------
def _sample_requests() -> list[str]:
    """Requests stations sent to central systems (the CS->CP captures are commands)."""
    return sorted(p.name for p in SAMPLES.glob("1[56]_*_req_*.xml")
                  if "izivia-cs" not in p.name and "adp" not in p.name)


@pytest.mark.smoke
def test_every_reply_to_the_field_samples_satisfies_the_strict_station(live_url, seed):
    samples = _sample_requests()
    assert len(samples) >= 10
    for sample in samples:
        data = (SAMPLES / sample).read_bytes()
        identity = etree.fromstring(data).xpath("//*[local-name()='chargeBoxIdentity']/text()") \
            if b"xsi:nil" not in data else []
        if identity and not seed.scalars(select(ChargeBox).where(
                ChargeBox.charge_box_id == identity[0].strip())):
            seed.station(identity[0].strip())
        response = post(live_url, data)
        assert strict_reply_problems(data, response.content) == [], sample


REPLY_TO = "http://192.0.2.10:8080/ocpp/cp"


@pytest.mark.smoke
@pytest.mark.parametrize("reply_to", [None, ANONYMOUS, REPLY_TO])
@pytest.mark.parametrize("case", ["answer", "SecurityError", "NotImplemented",
                                  "OccurenceConstraintViolation", "MustUnderstand",
                                  "FormationViolation", "soap-1.1"])
def test_replies_and_faults_carry_to(live_url, seed, case, reply_to):
    seed.station("CB1")
    extra = f"<a:ReplyTo><a:Address>{reply_to}</a:Address></a:ReplyTo>" if reply_to else ""
    identity, body, soap = "CB1", "<cs:heartbeatRequest/>", SOAP12
    if case == "SecurityError":
        identity = "NOT-REGISTERED"
    elif case == "NotImplemented":
        body = "<cs:resetRequest><cs:type>Hard</cs:type></cs:resetRequest>"
    elif case == "OccurenceConstraintViolation":
        body = "<cs:authorizeRequest/>"
    elif case == "MustUnderstand":
        extra += f'<x:Secret xmlns:x="urn:x" s:mustUnderstand="true">1</x:Secret>'
    elif case == "soap-1.1":
        soap = SOAP11
    data = envelope(identity, body, extra_headers=extra, soap=soap)
    if case == "FormationViolation":
        data = data.replace(b"<s:Body>", b"<s:Body><broken>")
    response = post(live_url, data, soap11=soap == SOAP11)
    if case not in ("answer", "soap-1.1", "MustUnderstand"):
        assert fault_subcode(response.content) == case
    problems = strict_reply_problems(None if case == "FormationViolation" else data,
                                     response.content)
    assert problems == []
    to = etree.fromstring(response.content).xpath("//a:To/text()", namespaces={"a": WSA})
    expected = (ANONYMOUS if case == "FormationViolation" or reply_to is None else reply_to)
    assert to == [expected]


# --- commands -----------------------------------------------------------------------------------
@pytest.mark.smoke
@pytest.mark.parametrize("public_url", [None, "https://csms.example.org"])
@pytest.mark.parametrize("version", ["1.5", "1.6"])
def test_commands_carry_from_and_reply_to(gateway, tmp_path, version, public_url):
    settings = make_settings(gateway.settings.database_url, tmp_path, public_url=public_url)
    with station_server(version) as (station, url):
        register_station(gateway.sessions, "CP1", version, url)
        with task_runner(gateway, settings=settings) as runner:
            runner.run("Reset", {"type": "Soft"}, ["CP1"], origin="cli")
            runner.run("GetConfiguration", {}, ["CP1"], origin="cli")
    assert [r.operation for r in station.received] == ["Reset", "GetConfiguration"]
    expected = (f"{public_url}/services/CentralSystemService" if public_url else ANONYMOUS)
    for received in station.received:
        assert strict_command_problems(received.raw) == []
        assert (received.from_address, received.reply_to) == (expected, expected)


# --- field variants -----------------------------------------------------------------------------
CP15, CP16 = "urn://Ocpp/Cp/2012/06/", "urn://Ocpp/Cp/2015/10/"


@pytest.mark.smoke
@pytest.mark.parametrize("cp_ns, cs_ns", [(CP15, CS15), (CP16, CS16)])
def test_a_request_in_the_charge_point_namespace_is_read(live_url, seed, cp_ns, cs_ns):
    """A real 1.5 station sends diagnosticsStatusNotificationRequest in urn://Ocpp/Cp/2012/06/."""
    seed.station("CB1")
    data = envelope("CB1", "<cs:diagnosticsStatusNotificationRequest><cs:status>Uploaded"
                           "</cs:status></cs:diagnosticsStatusNotificationRequest>", ns=cp_ns)
    response = post(live_url, data)
    assert response.status_code == 200, response.text
    assert body_of(response.content).tag == f"{{{cs_ns}}}diagnosticsStatusNotificationResponse"
    (cb,) = seed.scalars(select(ChargeBox))
    assert cb.diagnostics_status == "Uploaded"
    assert cb.ocpp_version == ("1.5" if cs_ns == CS15 else "1.6")
    assert "cp-namespace-request" in seed.scalars(select(StationQuirk.code))
    # a ChargePointService request stays unknown: it is not ours to answer
    response = post(live_url, envelope("CB1", "<cs:resetRequest><cs:type>Hard</cs:type>"
                                              "</cs:resetRequest>", ns=cp_ns))
    assert fault_subcode(response.content) == "NotImplemented"


@pytest.mark.smoke
def test_unqualified_addressing_marked_must_understand_is_accepted(live_url, seed):
    """Consistent with an unqualified chargeBoxIdentity: read, recorded as a quirk."""
    seed.station("CB1")
    reply_to = "http://192.0.2.7:8081/cp"
    data = (f'<s:Envelope xmlns:s="{SOAP12}" xmlns:cs="{CS16}"><s:Header>'
            '<chargeBoxIdentity s:mustUnderstand="true">CB1</chargeBoxIdentity>'
            '<MessageID>urn:uuid:42</MessageID><Action s:mustUnderstand="true">/Heartbeat</Action>'
            '<To s:mustUnderstand="true">http://csms/services/CentralSystemService</To>'
            f'<ReplyTo s:mustUnderstand="true"><Address>{reply_to}</Address></ReplyTo>'
            '</s:Header><s:Body><cs:heartbeatRequest/></s:Body></s:Envelope>').encode()
    response = post(live_url, data)
    assert response.status_code == 200, response.text
    reply = etree.fromstring(response.content)
    assert reply.xpath("//a:RelatesTo/text()", namespaces={"a": WSA}) == ["urn:uuid:42"]
    assert reply.xpath("//a:To/text()", namespaces={"a": WSA}) == [reply_to]
    quirks = seed.scalars(select(StationQuirk.code))
    assert "unqualified-addressing" in quirks and "no-wsa-action" not in quirks
    (cb,) = seed.scalars(select(ChargeBox))
    assert cb.endpoint_address == reply_to  # learnt from the (unqualified) ReplyTo


@pytest.mark.smoke
def test_an_empty_host_in_from_is_the_peers_even_on_loopback(live_url, seed):
    """README: an empty host is replaced by the address the request came from."""
    seed.station("CB1")
    response = post(live_url, envelope("CB1", "<cs:heartbeatRequest/>",
                                       from_address="http://:8082/ocpp"))
    assert response.status_code == 200
    (cb,) = seed.scalars(select(ChargeBox))
    assert cb.endpoint_address == "http://127.0.0.1:8082/ocpp"
    assert "endpoint-empty-host" in seed.scalars(select(StationQuirk.code))
    assert len(seed.scalars(select(JournalEntry))) == 2
