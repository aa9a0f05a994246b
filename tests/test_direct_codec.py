"""The direct reader and writer against spyne, whose (de)serialisation they replaced on the
inbound path (soapgw.soap.reader builds the request object, soapgw.soap.reply_writer writes the
reply element).

Requests: every CentralSystemService request of the field samples, generated requests of every
operation (every field, in every enumeration value, and only the required fields), each odd
value in each of their fields, and a seeded fuzz corpus of mutations are read by
``read_request``; spyne then deserialises the same, repaired, envelope. The two objects must
be equal field by field, and so must what the mapping makes of them; a request that spyne
cannot read but the reader can fails the test too.

Replies: for every operation, core responses (every field, every enumeration value, only the
required fields) mapped and written by ``write_reply`` must be the element spyne serialises,
canonically and as envelope bytes.
"""
from __future__ import annotations

import copy
import dataclasses
import enum
import random
import traceback
import typing
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from lxml import etree

from conftest import SAMPLES
from soap_messages import CS15, CS16, SOAP11, SOAP12, envelope
from soap_mutations import VALUES, XSI, mutate_in_place
from soapgw.core import messages
from soapgw.core.errors import OcppError
from soapgw.soap.envelope import build_envelope, parse_envelope
from soapgw.soap.mapping.structural import MissingField
from soapgw.soap.reader import RequestObject, read_request
from soapgw.soap.reply_writer import write_reply
from soapgw.soap.schema.base import named
from soapgw.soap.spyne_service import SpyneRunner, release
from soapgw.soap_in.versions import INBOUND
from spyne import Boolean, ComplexModel, DateTime, Integer, XmlAttribute, XmlData
from spyne import Decimal as SpyneDecimal

pytestmark = pytest.mark.smoke  # no database, no server: a few seconds in all

SEED = 1406
FUZZ_CASES = 2500
VERSIONS = [INBOUND[CS15], INBOUND[CS16]]
OPERATIONS = [(version, operation) for version in VERSIONS
              for operation in version.service.operations]
OPERATION_IDS = [f"{v.service.ocpp_version}-{op.name}" for v, op in OPERATIONS]
MISSING = "(no such field)"

# Valid values the generated requests cycle through: several spellings of each type.
INTEGERS = ("17", "2147483647", "-2147483648", "0", "+5", "007")
TIMESTAMPS = ("2026-03-01T10:00:00Z", "2026-03-01T10:00:00.123456Z",
              "2026-03-01T12:30:00+02:30", "2026-03-01T10:00:00.5-03:00")
DECIMALS = ("12.5", "-0.001", "7")
BOOLEANS = ("true", "false", "1", "0")
TEXTS = ("\u00e9<&>\"' ok", "CP-0042", "]]> x", "\u00fc\U0001F600")

# What the fuzz corpus puts into fields besides the generic VALUES.
FOREIGN_NAMESPACES = ("urn://Ocpp/Cs/2015/10/", "urn://Ocpp/Cs/2012/06/", "urn://Ocpp/Cp/2015/10/",
                      "urn:x")
TIMESTAMP_TEXTS = (
    "2026-03-01T10:00:00", "2026-03-01T10:00:00.123", "2026-03-01T10:00:00+05:30",
    "2026-03-01T10:00:00.1234567-08:00", "2026-03-01 10:00:00Z", "2026-03-01T10:00Z",
    "2026-03-01T10:00:00z", "2026-03-01T10:00:00+0200", "2026-03-01T10:00:00,5Z",
    "2026-02-29T10:00:00Z", "2024-02-29T23:59:60Z", "2026-03-01", " 2026-03-01T10:00:00Z\n",
    "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00Z",
    "\uff12\uff10\uff12\uff16-03-01T10:00:00Z", "2026-03-01T10:00:00+14:00", "2026-03-01T24:00:00Z")
INTEGER_TEXTS = ("2147483647", "2147483648", "-2147483648", "-2147483649", "9" * 30, "+7", "-0",
                 "007", " 12 ", "1_000", "\u0661\u0662", "\uff11\uff12", "12.0", "1e3", "0x1F",
                 "", "  ", str(2**64))
WHITESPACE = (" ", "\n", "\t", "\r\n  ", "\u00a0")
ODD_TEXTS = (*VALUES, *TIMESTAMP_TEXTS, *INTEGER_TEXTS, *WHITESPACE,
             *(f"{space}{text}{space}" for space, text in zip(WHITESPACE, TIMESTAMPS + TEXTS)))
NIL_VALUES = ("true", "1", " true ", "false", "0", "TRUE", "yes", "")
XSI_TYPES = ("xs:string", "xs:int", "tns:MeterValue", "nope:x", "")


# --- reading with both -------------------------------------------------------------------

def differences(ours, theirs, path: str) -> list[str]:
    """Where the reader's object and spyne's differ (empty when they are equal): same fields,
    same Python types and values; datetimes the same instant, both aware (spyne's tzinfo is
    another object) and with the same offset."""
    if isinstance(ours, RequestObject) and isinstance(theirs, ComplexModel):
        names = list(vars(ours)) + [n for n in type(theirs)._type_info if n not in vars(ours)]
        return [problem for name in names
                for problem in differences(getattr(ours, name, MISSING),
                                           getattr(theirs, name, MISSING), f"{path}.{name}")]
    if isinstance(ours, list) and isinstance(theirs, list):
        if len(ours) != len(theirs):
            return [f"{path}: {len(ours)} items, spyne {len(theirs)}: {ours!r} / {theirs!r}"]
        return [problem for index, (one, other) in enumerate(zip(ours, theirs))
                for problem in differences(one, other, f"{path}[{index}]")]
    if isinstance(ours, datetime) and isinstance(theirs, datetime):
        same = (ours.tzinfo is not None and theirs.tzinfo is not None and ours == theirs
                and ours.utcoffset() == theirs.utcoffset())
    else:
        same = type(ours) is type(theirs) and ours == theirs
    return [] if same else [f"{path}: ours {ours!r}, spyne {theirs!r}"]


def _to_core(version, operation, request):
    """The core message the mapping makes of a request object (or why it cannot)."""
    try:
        return version.mapping.request_to_core(operation, request)
    except MissingField as missing:  # a required field the reader had to remove
        return f"MissingField: {missing}"


class Compared(typing.NamedTuple):
    # compared (or compared after spyne crashed, see attributes_named_like_fields) | refused
    # (OcppError by the reader) | spyne failed | unparsable (parse_envelope refused it) |
    # other service (not a CentralSystemService request)
    outcome: str
    problems: list[str]
    body: str  # the repaired body element, to show with the problems


def read_both(data: bytes) -> Compared:
    """Read ``data`` as the endpoint does, then with spyne from the same repaired envelope."""
    try:
        parsed = parse_envelope(data)
    except OcppError as error:
        return Compared("unparsable", [str(error)], "")
    body = parsed.body
    qname = etree.QName(body) if body is not None else None
    version = INBOUND.get(qname.namespace) if qname is not None else None
    operation = version.service.by_element.get(qname.localname) if version else None
    if operation is None:
        return Compared("other service", [], "")
    try:
        reading = read_request(body, operation, qname.namespace)
    except OcppError:  # an essential field is unusable: the station gets a Fault, not spyne
        return Compared("refused", [], "")
    shown = etree.tostring(body, encoding="unicode")
    outcome = "compared"
    misread = attributes_named_like_fields(body, operation.request)
    if misread:
        # spyne crashes on these (see attributes_named_like_fields): the reader ignores them,
        # as it ignores any attribute of an OCPP element. Compared without them.
        try:
            version.runner.prepare(parsed)
        except AttributeError:
            outcome = "compared after spyne crashed"
        else:
            return Compared("spyne failed", ["spyne read attributes named like fields "
                                             "without crashing: see the comparison"], shown)
        for element, name in misread:
            del element.attrib[name]
    try:
        context = version.runner.prepare(parsed)
    except OcppError as error:
        return Compared("spyne failed", [f"spyne cannot read what the reader read: {error}"],
                        shown)
    theirs = SpyneRunner.request_of(context)
    release(context)
    problems = differences(reading.value, theirs, operation.request_element)
    ours_core, their_core = (_to_core(version, operation, r) for r in (reading.value, theirs))
    if ours_core != their_core:
        problems.append(f"request_to_core: ours {ours_core!r}, spyne {their_core!r}")
    return Compared(outcome, problems, shown)


def attributes_named_like_fields(element, complex_type) -> list[tuple[etree._Element, str]]:
    """(child, attribute name): unqualified attributes of a field's element that are named like
    a field of the type holding it, as in ``<sampledValue><format unit="Wh">Raw</format>``.

    spyne 2.14 (ProtocolBase complex_from_element) reads such an attribute as that field of
    the holder, meant for XmlAttribute(attribute_of=...) fields, and looks for the field's
    ``.type``: no OCPP request field has one, so spyne raises AttributeError, which the old
    endpoint answered with an InternalError. Nothing in OCPP puts attributes there (only the
    1.5 reading has attributes, of its own): the reader is right to ignore them."""
    fields = complex_type._type_info
    found = []
    for child in element:
        kind = fields.get(etree.QName(child).localname) if isinstance(child.tag, str) else None
        if kind is None:
            continue
        found += [(child, name) for name in child.attrib if name in fields]
        base = named(kind)
        # a simple-content element's children are not read (by either side)
        if issubclass(base, ComplexModel) and not any(issubclass(k, XmlData)
                                                      for k in base._type_info.values()):
            found += attributes_named_like_fields(child, base)
    return found


def compare(data: bytes) -> Compared:
    """read_both, a crash on either side being an outcome too (shown with its case)."""
    try:
        return read_both(data)
    except Exception:  # noqa: BLE001
        return Compared("crashed", [traceback.format_exc(limit=-3)], data.decode())


def report(label: str, compared: Compared) -> str:
    return "\n".join([f"--- {label}: {compared.outcome}", *compared.problems, compared.body])


# --- requests generated from the definitions ---------------------------------------------

class _Values:
    """Texts for simple fields: the n-th field of a request gets option (variant + n), so the
    variants 0..k-1 give every field each of its first k options."""

    def __init__(self, variant: int):
        self.variant, self.position = variant, 0

    def text(self, kind) -> str:
        self.position += 1
        base = named(kind)
        for spyne_type, options in ((Integer, INTEGERS), (DateTime, TIMESTAMPS),
                                    (SpyneDecimal, DECIMALS), (Boolean, BOOLEANS)):
            if issubclass(base, spyne_type):
                return self._pick(options)
        if getattr(base, "ocpp_values", None):
            return self._pick(base.ocpp_values)
        max_len = base.Attributes.max_len
        text = self._pick(TEXTS)
        return text[:max_len] if isinstance(max_len, int) else text

    def _pick(self, options):
        return options[(self.variant + self.position) % len(options)]


def _fill(element, complex_type, namespace: str, full: bool, values: _Values,
          items: int) -> None:
    """Children (or text and attributes) of ``element`` for ``complex_type``: every field
    (``items`` items of a repeated one) when ``full``, else only the required ones."""
    for name, kind in complex_type._type_info.items():
        if issubclass(kind, XmlData):  # the OCPP 1.5 meter value's text
            element.text = values.text(kind.type)
            continue
        if issubclass(kind, XmlAttribute):
            if full:
                element.set(name, values.text(kind.type))
            continue
        low, high = kind.Attributes.min_occurs, kind.Attributes.max_occurs
        for _ in range((1 if high == 1 else items) if full else low):
            child = etree.SubElement(element, f"{{{namespace}}}{name}")
            if issubclass(named(kind), ComplexModel):
                _fill(child, named(kind), namespace, full, values, items)
            else:
                child.text = values.text(kind)


def request_body(operation, namespace: str, full: bool, variant: int = 0,
                 items: int = 3) -> etree._Element:
    body = etree.Element(f"{{{namespace}}}{operation.request_element}", nsmap={"cs": namespace})
    _fill(body, operation.request, namespace, full, _Values(variant), items)
    return body


def request_envelope(body: etree._Element, soap: str = SOAP12) -> bytes:
    return envelope("CP-1", etree.tostring(body, encoding="unicode"),
                    ns=etree.QName(body).namespace, soap=soap, message_id="urn:uuid:1")


def _enumerations(complex_type) -> list[tuple]:
    """The enumerations used anywhere in ``complex_type`` (attributes included)."""
    found = []
    for kind in complex_type._type_info.values():
        base = named(kind.type if issubclass(kind, (XmlAttribute, XmlData)) else kind)
        if issubclass(base, ComplexModel):
            found += _enumerations(base)
        elif getattr(base, "ocpp_values", None):
            found.append(base.ocpp_values)
    return found


def generated_requests(version, operation) -> list[tuple[str, bytes]]:
    """(label, envelope): every field in enough variants to use every enumeration value and
    every spelling of the other types, then only the required fields; SOAP 1.2 and 1.1."""
    namespace = version.service.namespace
    options = [INTEGERS, TIMESTAMPS, TEXTS, *_enumerations(operation.request)]
    shapes = [(f"full {v}", True, v) for v in range(max(len(o) for o in options))]
    return [(f"{operation.name} {label} SOAP {soap_version}",
             request_envelope(request_body(operation, namespace, full, variant), soap))
            for label, full, variant in [*shapes, ("required only", False, 0)]
            for soap, soap_version in ((SOAP12, "1.2"), (SOAP11, "1.1"))]


def sample_requests() -> list[tuple[str, bytes]]:
    """The field samples' requests (none without the shared corpus)."""
    return [(path.name, path.read_bytes()) for path in sorted(SAMPLES.glob("1[56]_*_req_*.xml"))]


# --- fuzz: mutations of the samples and the generated requests ----------------------------

def _leaf(target) -> bool:
    return len(target) == 0


def _another(text: str | None, rng: random.Random) -> str | None:
    """A second value for a duplicated field, of the same kind where it is recognisable, so
    that which of the two counts shows."""
    stripped = (text or "").strip()
    if stripped.isascii() and stripped.lstrip("+-").isdigit():
        return str(int(stripped) + rng.randint(1, 9))
    if len(stripped) >= 19 and stripped[4] == "-" and stripped[10] in "T ":
        return rng.choice(TIMESTAMPS)
    return rng.choice([text, f"{text}2", rng.choice(VALUES)])


def _reorder(target, rng, namespace):
    parent = target.getparent()
    children = list(parent)
    rng.shuffle(children)
    parent[:] = children


def _duplicate(target, rng, namespace):
    twin = copy.deepcopy(target)
    if _leaf(twin):
        twin.text = _another(twin.text, rng)
    rng.choice([target.addnext, target.addprevious])(twin)


def _remove(target, rng, namespace):
    target.getparent().remove(target)


def _rename(target, rng, namespace):
    """Unqualified, or in another (OCPP or foreign) namespace."""
    local = etree.QName(target).localname
    target.tag = rng.choice([local, f"{{{rng.choice(FOREIGN_NAMESPACES)}}}{local}"])


def _unknown(target, rng, namespace):
    extra = etree.Element(f"{{{rng.choice([namespace, 'urn:x'])}}}"
                          f"{rng.choice(['vendorExtra', 'Value', 'idtag'])}")
    extra.text = rng.choice(VALUES)
    if rng.random() < 0.3:
        etree.SubElement(extra, f"{{{namespace}}}timestamp").text = TIMESTAMPS[0]
    rng.choice([target.addnext, target.addprevious, target.append])(extra)


def _whitespace(target, rng, namespace):
    target.text = rng.choice(WHITESPACE) + (target.text or "") + rng.choice(WHITESPACE)


def _empty(target, rng, namespace):
    target.text = rng.choice([None, ""])
    if rng.random() < 0.5:
        target[:] = []


def _mixed(target, rng, namespace):
    """An element inside a value (mixed content), before or after its text."""
    child = etree.Element(f"{{{rng.choice([namespace, 'urn:x'])}}}"
                          f"{rng.choice(['b', 'value', 'unit', 'timestamp'])}")
    child.text, child.tail = rng.choice(VALUES), rng.choice([None, "", " tail", "12"])
    target.insert(rng.randrange(len(target) + 1), child)


def _nil(target, rng, namespace):
    target.set(f"{{{XSI}}}nil", rng.choice(NIL_VALUES))


def _xsi_type(target, rng, namespace):
    target.set(f"{{{XSI}}}type", rng.choice(XSI_TYPES))


def _value(target, rng, namespace):
    """Invalid or odd values: generic ones, timestamps and integers of every shape."""
    if _leaf(target) or rng.random() < 0.2:
        target.text = rng.choice([rng.choice(VALUES), rng.choice(TIMESTAMP_TEXTS),
                                  rng.choice(INTEGER_TEXTS)])


def _attributes(target, rng, namespace):
    """The OCPP 1.5 reading's attributes: qualified, unknown, with whitespace or odd values,
    removed (on any other element they are unknown attributes)."""
    names = [name for name in target.attrib if not name.startswith(f"{{{XSI}}}")]
    name = rng.choice(names) if names else rng.choice(["unit", "context", "measurand"])
    value = target.get(name, "Wh")
    kind = rng.randrange(5)
    if kind == 0:  # qualified, sometimes next to its unqualified self
        if rng.random() < 0.7:
            target.attrib.pop(name, None)
        target.set(f"{{{rng.choice([namespace, 'urn:x'])}}}{etree.QName(name).localname}", value)
    elif kind == 1:  # unknown here, or named like a field next to the element (see
        # attributes_named_like_fields)
        neighbours = [etree.QName(e).localname for e in target.itersiblings()]
        target.set(rng.choice(["phase", "Unit", "extra", "{urn:x}unit", *neighbours]),
                   rng.choice(VALUES))
    elif kind == 2:
        target.set(name, rng.choice(WHITESPACE) + value + rng.choice(WHITESPACE))
    elif kind == 3:
        target.set(name, rng.choice(["Bogus", "", "wh", "Amp", "Sample.Clock", "x" * 300]))
    else:
        target.attrib.pop(name, None)


FIELD_MUTATIONS = (_reorder, _duplicate, _remove, _rename, _unknown, _whitespace, _empty, _mixed,
                   _nil, _xsi_type, _value, _value, _attributes)


def mutate_fields(body, rng: random.Random, namespace: str) -> None:
    """One to three mutations of the request's fields (not of the body element itself)."""
    for _ in range(rng.randint(1, 3)):
        fields = [e for e in body.iter() if isinstance(e.tag, str) and e is not body]
        if not fields:  # an empty request (Heartbeat): something to find in it
            _unknown(etree.SubElement(body, f"{{{namespace}}}x"), rng, namespace)
            continue
        rng.choice(FIELD_MUTATIONS)(rng.choice(fields), rng, namespace)


def fuzz_cases(count: int, seed: int):
    """(label, envelope) mutations of the readable sample requests and generated requests:
    mostly field mutations, some of the generic sample fuzzer's mutations inside the body."""
    rng = random.Random(seed)
    sources = [(label, data) for label, data in sample_requests()
               if read_both(data).outcome == "compared"]
    sources += [case for version, operation in OPERATIONS
                for case in generated_requests(version, operation)]
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    for number in range(count):
        label, data = rng.choice(sources)
        root = etree.fromstring(data, parser)
        body = root.find(f"{{{etree.QName(root).namespace}}}Body")[0]
        if rng.random() < 0.8:
            mutate_fields(body, rng, etree.QName(body).namespace)
        else:
            mutate_in_place(body, rng)
        yield f"fuzz {number} of {label}", etree.tostring(root)


# --- the request tests ---------------------------------------------------------------------

def test_every_central_system_sample_reads_as_spyne_reads_it():
    if not SAMPLES.is_dir():
        pytest.skip(f"no sample corpus at {SAMPLES}")
    outcomes, failures = {}, []
    for label, data in sample_requests():
        compared = compare(data)
        outcomes.setdefault(compared.outcome, []).append(label)
        # not for the reader: the captures of central systems' requests to stations, and the
        # sample that is not well-formed (parse_envelope refuses it before either reader)
        if compared.outcome not in ("other service", "unparsable") and (
                compared.outcome != "compared" or compared.problems):
            failures.append(report(label, compared))
    print(f"samples: {outcomes}")
    assert failures == [], "\n".join(failures)
    assert outcomes.get("compared")


@pytest.mark.parametrize(("version", "operation"), OPERATIONS, ids=OPERATION_IDS)
def test_generated_requests_read_as_spyne_reads_them(version, operation):
    failures = []
    for label, data in generated_requests(version, operation):
        compared = compare(data)
        # valid requests: nothing to refuse, nothing for spyne to fail on
        if compared.outcome != "compared" or compared.problems:
            failures.append(report(label, compared))
    assert failures == [], "\n".join(failures)


@pytest.mark.parametrize(("version", "operation"), OPERATIONS, ids=OPERATION_IDS)
def test_odd_values_in_every_field_read_as_spyne_reads_them(version, operation):
    """Each odd value of the fuzz corpus, in turn, in each field and each 1.5 reading
    attribute of a request with every field: what the fuzz corpus only samples."""
    body = request_body(operation, version.service.namespace, full=True, items=1)
    nodes = list(body.iter())
    places = [(index, None) for index, node in enumerate(nodes) if node is not body
              and len(node) == 0]
    places += [(index, name) for index, node in enumerate(nodes) for name in node.attrib]
    failures = []
    for index, attribute in places:
        for text in ODD_TEXTS:
            odd = copy.deepcopy(body)
            target = list(odd.iter())[index]
            if attribute is None:
                target.text = text
            else:
                target.set(attribute, text)
            compared = compare(request_envelope(odd))
            if compared.outcome not in ("compared", "refused") or compared.problems:
                failures.append(report(f"{text[:40]!r} in {target.tag} {attribute or ''}",
                                       compared))
    assert failures == [], "\n".join(failures)


def test_fuzzed_requests_read_as_spyne_reads_them():
    outcomes, failures = {}, []
    for label, data in fuzz_cases(FUZZ_CASES, SEED):
        compared = compare(data)
        outcomes[compared.outcome] = outcomes.get(compared.outcome, 0) + 1
        if compared.outcome in ("spyne failed", "crashed") or compared.problems:
            failures.append(report(label, compared))
    print(f"{FUZZ_CASES} fuzz cases: {outcomes}")
    assert failures == [], f"{len(failures)} differences:\n" + "\n".join(failures[:20])
    # the corpus reaches every side: most cases compared, some refused by the reader, some
    # that crash spyne
    assert outcomes["compared"] > FUZZ_CASES // 2 and outcomes.get("refused", 0) > 0
    assert outcomes.get("compared after spyne crashed", 0) > 0


# --- replies ---------------------------------------------------------------------------------

DATETIMES = (datetime(2026, 3, 1, 10, 0, 0, 123456, tzinfo=timezone.utc),
             datetime(2026, 3, 1, 12, 30, 59, 999999, tzinfo=timezone(timedelta(hours=2))),
             datetime(1999, 12, 31, 23, 59, 59, tzinfo=timezone.utc))
REPLY_INTEGERS = (2147483647, 0, -1, 86400)
REPLY_TEXTS = ("\u00e9<&>\"'", "", "]]>\t\n x ", "\u00fc\U0001F600" * 50)


class _CoreValues(_Values):
    """Python values for core dataclass fields, cycled like the request texts."""

    def value(self, hint, full: bool):
        hint = _unwrap_optional(hint)
        if typing.get_origin(hint) is list:
            return [self.value(typing.get_args(hint)[0], full) for _ in range(3 if full else 1)]
        if dataclasses.is_dataclass(hint):
            return core_object(hint, full, self)
        self.position += 1
        if isinstance(hint, type) and issubclass(hint, enum.Enum):
            return self._pick(list(hint))
        options = {datetime: DATETIMES, int: REPLY_INTEGERS, str: REPLY_TEXTS,
                   Decimal: (Decimal("12.50"),), bool: (True, False)}[hint]
        return self._pick(options)


def _unwrap_optional(hint):
    args = [arg for arg in typing.get_args(hint) if arg is not type(None)]
    return args[0] if type(None) in typing.get_args(hint) and len(args) == 1 else hint


def core_object(core_type, full: bool, values: _CoreValues):
    """A core message with every field (``full``) or only the required ones."""
    hints = typing.get_type_hints(core_type)
    fields = {field.name: values.value(hints[field.name], full)
              for field in dataclasses.fields(core_type)
              if full or (field.default is dataclasses.MISSING
                          and field.default_factory is dataclasses.MISSING)}
    return core_type(**fields)


def _enumeration_sizes(hint) -> list[int]:
    """How many values each enumeration in a core type (or field type hint) has."""
    hint = _unwrap_optional(hint)
    if typing.get_origin(hint) is list:
        return _enumeration_sizes(typing.get_args(hint)[0])
    if dataclasses.is_dataclass(hint):
        return [size for field_hint in typing.get_type_hints(hint).values()
                for size in _enumeration_sizes(field_hint)]
    return [len(hint)] if isinstance(hint, type) and issubclass(hint, enum.Enum) else []


def core_responses(operation) -> list[tuple[str, object]]:
    """Every field in enough variants for every enumeration value and every listed value of
    the other types, then only the required fields (the optional ones None)."""
    response_type = messages.ACTIONS[operation.name][1]
    variants = max(len(DATETIMES), len(REPLY_INTEGERS), len(REPLY_TEXTS),
                   *_enumeration_sizes(response_type))
    return ([(f"full {v}", core_object(response_type, True, _CoreValues(v)))
             for v in range(variants)]
            + [("required only", core_object(response_type, False, _CoreValues(0)))])


class _Answer:
    """The Invocation spyne's service method hands the request to: answers ``response``."""

    error = None

    def __init__(self, response):
        self.response = response

    def invoke(self, operation, request):
        return self.response


def spyne_reply(version, operation, response, soap: str) -> etree._Element:
    """The reply body element spyne serialises for ``response``."""
    body = request_body(operation, version.service.namespace, full=False)
    context = version.runner.prepare(parse_envelope(request_envelope(body, soap)))
    return version.runner.complete(context, _Answer(response))


def c14n(element) -> bytes:
    # exclusive: only the namespaces used, without spyne's unused soap12env/soap11env
    return etree.tostring(element, method="c14n", exclusive=True)


@pytest.mark.parametrize(("version", "operation"), OPERATIONS, ids=OPERATION_IDS)
def test_replies_written_as_spyne_writes_them(version, operation):
    namespace = version.service.namespace
    failures = []
    for label, core in core_responses(operation):
        response = version.mapping.response_from_core(operation, core)
        for soap, soap_version in ((SOAP12, "1.2"), (SOAP11, "1.1")):
            ours = write_reply(response, operation.response, operation.response_element,
                               namespace)
            theirs = spyne_reply(version, operation, response, soap)
            if c14n(ours) != c14n(theirs):
                failures.append(f"{label} SOAP {soap_version}:\n  ours  {c14n(ours)}\n"
                                f"  spyne {c14n(theirs)}")
                continue
            ours_bytes = build_envelope(soap_version, [], ours)
            their_bytes = build_envelope(soap_version, [], theirs)
            if ours_bytes != their_bytes:
                failures.append(f"{label} SOAP {soap_version} envelope:\n  ours  {ours_bytes}\n"
                                f"  spyne {their_bytes}")
    assert failures == [], "\n".join(failures)


@pytest.mark.parametrize("value", [
    *DATETIMES, datetime(2026, 3, 1, 10, 0, 0, 500),  # naive, a fraction without zeros cut
    datetime(2026, 3, 1, 10, 0, tzinfo=timezone(timedelta(hours=-9, minutes=-30)))],
    ids=str)
def test_reply_datetimes_written_as_spyne_writes_them(value):
    """The mapping sends whole UTC seconds; any other datetime would still be written alike."""
    for version in VERSIONS:
        operation = version.service.by_name["Heartbeat"]
        response = operation.response(currentTime=value)
        ours = write_reply(response, operation.response, operation.response_element,
                           version.service.namespace)
        assert c14n(ours) == c14n(spyne_reply(version, operation, response, SOAP12))
