"""Our generated WSDLs against the official OCA ones, zeep, and the committed files in wsdl/.

The official WSDLs are read from ../shared/ocpp-wsdl (next to the checkout) and never copied
into the project: their licence forbids derivatives.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import zeep
from zeep.wsdl.bindings.soap import Soap12Binding

from soapgw.soap.schema import registry
from soapgw.soap.schema.base import (DateTime, Int, Operation, SchemaBuilder, ServiceDefinition,
                                     Unicode, charge_box_identity, optional, repeated, required)
from soapgw.soap.wsdl import export_all, generate_wsdl, wsdl_filename

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # wsdl_structure sits next to this file (any import mode)
    sys.path.insert(0, str(HERE))
from wsdl_structure import compare, describe, unreferenced_types  # noqa: E402

REPO = HERE.parent
OFFICIAL_DIR = Path(__file__).resolve().parents[2] / "shared" / "ocpp-wsdl"
OFFICIAL = {
    ("CentralSystemService", "1.5"): "1.5/ocpp_centralsystemservice_1.5_final.wsdl",
    ("ChargePointService", "1.5"): "1.5/ocpp_chargepointservice_1.5_final.wsdl",
    ("CentralSystemService", "1.6"): "1.6/OCPP_CentralSystemService_1.6.wsdl",
    ("ChargePointService", "1.6"): "1.6/OCPP_ChargePointService_1.6.wsdl",
}
ADDRESS = "http://localhost:8080/services/Test"


def _param(service: ServiceDefinition):
    smoke = (service.name, service.ocpp_version) == ("CentralSystemService", "1.6")
    return pytest.param(service, id=f"{service.name}-{service.ocpp_version}",
                        marks=[pytest.mark.smoke] if smoke else [])


SERVICES = [_param(s) for s in registry.SERVICES]


def official(service: ServiceDefinition) -> Path:
    path = OFFICIAL_DIR / OFFICIAL[(service.name, service.ocpp_version)]
    if not path.is_file():
        pytest.skip(f"official WSDL not available at {path}")
    return path


@pytest.fixture
def generated(tmp_path, service) -> Path:
    path = tmp_path / wsdl_filename(service)
    path.write_bytes(generate_wsdl(service, ADDRESS))
    return path


# --- conformance ----------------------------------------------------------------------------
@pytest.mark.parametrize("service", SERVICES)
def test_matches_official_wsdl(service, generated):
    reference = official(service)
    # The generator declares only the types the operations use; the official files also
    # declare a few shared types nothing refers to (1.6 CS: CiString500Type), which shape no
    # message. Every other difference, in either direction, fails.
    differences = compare(reference, generated, allow_missing_unreferenced=True)
    assert not differences, (f"{len(differences)} differences against {reference.name}:\n"
                             + "\n".join(differences))


@pytest.mark.parametrize("service", SERVICES)
def test_zeep_loads_generated_wsdl(service, generated):
    client = zeep.Client(str(generated), settings=zeep.Settings(strict=True))
    bindings = [b for b in client.wsdl.bindings.values() if isinstance(b, Soap12Binding)]
    assert len(bindings) == 1, client.wsdl.bindings
    operations = bindings[0]._operations
    expected = {op.name for op in service.operations}
    assert set(operations) == expected
    assert expected == describe(official(service))["operations"]

    header = client.get_element(f"{{{service.namespace}}}chargeBoxIdentity")
    assert header.type.name == "string"
    for op in service.operations:
        bound = operations[op.name]
        assert bound.soapaction == op.input_action
        assert [e.qname.text for _, e in bound.input.header.type.elements] == [header.qname.text]
        assert not bound.output.header.type.elements, f"{op.name}: header bound on output"
        assert bound.input.body.qname.text == f"{{{service.namespace}}}{op.request_element}"
        assert bound.output.body.qname.text == f"{{{service.namespace}}}{op.response_element}"


@pytest.mark.smoke
def test_committed_wsdl_files_are_current(tmp_path):
    fresh = {p.name: p.read_bytes() for p in export_all(tmp_path)}
    committed = {p.name: p.read_bytes() for p in (REPO / "wsdl").glob("soapgw_*.wsdl")}
    stale = sorted(name for name in fresh.keys() | committed.keys()
                   if fresh.get(name) != committed.get(name))
    assert not stale, (f"wsdl/ is stale ({', '.join(stale)}): run `soapgw wsdl export wsdl/` "
                       "or `make wsdl` and commit the result")


# --- generator details ----------------------------------------------------------------------
NS = "urn://Test/2024/"
t = SchemaBuilder(NS)
Unit = t.enum("Unit", "Wh", "kWh", "A")  # deliberately not alphabetical
Reading = t.simple_content("Reading", Unicode, [("unit", Unit), ("context", Unicode)],
                           anonymous=True)
Sample = t.simple_content("Sample", Unicode, [("unit", Unit)])
Meter = t.complex("Meter", [
    ("timestamp", required(DateTime)),
    ("value", repeated(Reading, min_occurs=1)),
    ("sample", optional(Sample)),
])
PingRequest = t.complex("PingRequest", [])
PingResponse = t.complex("PingResponse", [("meter", repeated(Meter)), ("count", optional(Int))])
TOY = ServiceDefinition(name="ChargePointService", ocpp_version="9.9", namespace=NS,
                        header=charge_box_identity(NS),
                        operations=(Operation("Ping", PingRequest, PingResponse),))


@pytest.fixture
def toy(tmp_path) -> Path:
    path = tmp_path / "toy.wsdl"
    path.write_bytes(generate_wsdl(TOY, ADDRESS))
    return path


def test_generator_shapes(toy):
    facts = describe(toy)
    assert facts[f"simpleType {{{NS}}}Unit"]["enumeration"] == ("Wh", "kWh", "A")
    assert facts[f"complexType {{{NS}}}PingRequest"]["content"] == "empty"
    meter = facts[f"complexType {{{NS}}}Meter"]["particles"]
    assert meter == (
        ("timestamp", "{http://www.w3.org/2001/XMLSchema}dateTime", "1", "1"),
        ("value", "(anonymous complexType)", "1", "unbounded"),
        ("sample", f"{{{NS}}}Sample", "0", "1"))
    # the anonymous simpleContent type lives inside its element, not as a global type
    assert f"complexType {{{NS}}}Reading" not in facts
    assert facts[f"complexType {{{NS}}}Meter/value"] == {
        "content": "simpleContent", "particles": (), "base": (
            "extension", "{http://www.w3.org/2001/XMLSchema}string"),
        "attributes": frozenset({("unit", f"{{{NS}}}Unit", "optional"),
                                 ("context", "{http://www.w3.org/2001/XMLSchema}string",
                                  "optional")})}
    assert facts[f"complexType {{{NS}}}Sample"]["base"][1].endswith("}string")
    assert facts[f"complexType {{{NS}}}PingResponse"]["particles"][0][3] == "unbounded"
    assert facts["operation Ping input action"] == "/Ping"
    assert facts["operation Ping output action"] == "/PingResponse"
    zeep.Client(str(toy), settings=zeep.Settings(strict=True))  # loads, simpleContent included


def test_generator_is_deterministic():
    assert generate_wsdl(TOY, ADDRESS) == generate_wsdl(TOY, ADDRESS)


def test_generator_refuses_types_it_cannot_express():
    other = SchemaBuilder("urn://Elsewhere/")
    foreign = t.complex("Foreign", [("id", required(other.string("Id", 5)))])
    with pytest.raises(ValueError, match="namespace"):
        generate_wsdl(ServiceDefinition("CentralSystemService", "9.9", NS, charge_box_identity(NS),
                                        (Operation("Foreign", foreign, PingResponse),)), ADDRESS)
    inline = t.complex("Inline", [("id", Unicode(max_len=5))])
    with pytest.raises(ValueError, match="anonymous restriction"):
        generate_wsdl(ServiceDefinition("CentralSystemService", "9.9", NS, charge_box_identity(NS),
                                        (Operation("Inline", inline, PingResponse),)), ADDRESS)


# --- comparator -----------------------------------------------------------------------------
def _mutated(tmp_path: Path, source: Path, *edits: tuple[str, str]) -> Path:
    text = source.read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / f"mutated_{source.name}"
    path.write_text(text, encoding="utf-8")
    return path


def test_comparator_catches_and_ignores_the_right_things(tmp_path):
    reference = OFFICIAL_DIR / OFFICIAL[("CentralSystemService", "1.6")]
    if not reference.is_file():
        pytest.skip("official WSDL not available")
    # prefixes, comments, documentation and the address do not matter
    same = _mutated(tmp_path, reference,
                    ('xmlns:s="http://www.w3.org/2001/XMLSchema"',
                     'xmlns:s="http://www.w3.org/2001/XMLSchema" '
                     'xmlns:xsd="http://www.w3.org/2001/XMLSchema"'),
                    ('type="s:dateTime" minOccurs="0"', 'type="xsd:dateTime" minOccurs="0"'),
                    ("<s:documentation>Defines the Authorize.req PDU</s:documentation>", ""),
                    ("http://localhost/Ocpp/CentralSystemService/", "http://example.org/x"))
    assert compare(reference, same) == []

    broken = _mutated(
        tmp_path, reference,
        ('<s:element name="timestamp" type="s:dateTime" minOccurs="1" maxOccurs="1"/>\n'
         '\t\t\t\t\t<s:element name="meterStart" type="s:int" minOccurs="1" maxOccurs="1"/>',
         '<s:element name="meterStart" type="s:int" minOccurs="1" maxOccurs="1"/>\n'
         '\t\t\t\t\t<s:element name="timestamp" type="s:dateTime" minOccurs="1"/>'),
        ('<s:enumeration value="Blocked"/>\n          <s:enumeration value="Expired"/>',
         '<s:enumeration value="Expired"/>\n          <s:enumeration value="Blocked"/>'),
        ('wsaw:Action="/HeartbeatResponse"', 'wsaw:Action="/Heartbeat"'),
        ('<s:maxLength value="500"/>', '<s:maxLength value="501"/>'))
    differences = "\n".join(compare(reference, broken))
    assert "StartTransactionRequest: element order" in differences
    assert "AuthorizationStatus: enumeration order" in differences
    assert "operation Heartbeat output action" in differences
    assert "CiString500Type: facets" in differences
    assert "minOccurs" not in differences  # an absent minOccurs means 1


def test_unreferenced_types_are_only_tolerated_on_request(tmp_path):
    reference = OFFICIAL_DIR / OFFICIAL[("CentralSystemService", "1.6")]
    if not reference.is_file():
        pytest.skip("official WSDL not available")
    assert unreferenced_types(describe(reference)) == {
        "simpleType {urn://Ocpp/Cs/2015/10/}CiString500Type"}
    from soapgw.soap.schema import cs16
    ours = tmp_path / "cs16.wsdl"
    ours.write_bytes(generate_wsdl(cs16.SERVICE, ADDRESS))
    assert [d.split(" = ")[0] for d in compare(reference, ours)] == [
        "missing: simpleType {urn://Ocpp/Cs/2015/10/}CiString500Type"]
